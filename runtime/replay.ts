// Replaying episodes: run a list of tool calls from an initial state, render each result, and
// compare what came out (outputs and changed records) with what was expected.
// Pure: reading and writing files is the caller's business.
import type { Environment, CallResult } from "./env.js";
import { renderResult, type RendererName } from "./render.js";
import { deepEqual, stringifyOrdered, parseJsonOrdered, cloneJson } from "./values.js";

export interface EpisodeCall {
  name: string;
  arguments?: unknown;
}

export interface EpisodeRun {
  results: CallResult[];
  /** each result as the chosen renderer shows it to an agent */
  outputs: string[];
  final: Environment;
}

/** Run calls on a fork of `initial` (which is left as it was). */
export function runEpisode(initial: Environment, calls: readonly EpisodeCall[], renderer: RendererName): EpisodeRun {
  const final = initial.fork();
  const results = calls.map((c) => final.call(c.name, c.arguments ?? {}));
  return { results, outputs: results.map((r) => renderResult(r, renderer)), final };
}

/** What an episode changed: per table, each changed record's final value (null when deleted); changed globals. */
export interface ChangedRecords {
  tables: Record<string, Record<string, unknown>>;
  globals: Record<string, unknown>;
}

export function changedRecords(initial: Environment, final: Environment): ChangedRecords {
  const diff = initial.diff(final);
  const tables: ChangedRecords["tables"] = {};
  for (const [table, changes] of Object.entries(diff.tables)) {
    const out: Record<string, unknown> = {};
    for (const [key, { after }] of Object.entries(changes))
      Object.defineProperty(out, key, { value: after, enumerable: true, writable: true, configurable: true });
    tables[table] = out;
  }
  const globals: ChangedRecords["globals"] = {};
  for (const [name, { after }] of Object.entries(diff.globals)) globals[name] = after;
  return { tables, globals };
}

/**
 * What one call should have shown: its exact text (a string, or `{text}`), a JSON value its
 * text must parse to (`{json}`: compared as values, so key order and number spelling do not
 * matter), or `{skipped: true}` for a step not to compare.
 */
export type ExpectedOutput = string | { text: string } | { json: unknown } | { skipped: true };

/** The expected outcome of one episode, as a line of an `--expect` file. */
export interface EpisodeExpectation {
  id: string;
  outputs?: ExpectedOutput[];
  changed?: Partial<ChangedRecords>;
}

const NOTE = "\u0000";

/** Where two JSON values first differ, as `path: expected X, got Y`. */
function firstDifference(want: unknown, got: unknown, at: string): string {
  const show = (v: unknown) => (v === undefined ? "nothing" : stringifyOrdered(v).slice(0, 80));
  if (Array.isArray(want) && Array.isArray(got)) {
    for (let i = 0; i < Math.max(want.length, got.length); i++)
      if (!deepEqual(want[i] ?? null, got[i] ?? null) || (i < want.length) !== (i < got.length)) return firstDifference(want[i], got[i], `${at}[${i}]`);
  } else if (want && got && typeof want === "object" && typeof got === "object" && !Array.isArray(want) && !Array.isArray(got)) {
    const w = want as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const k of new Set([...Object.keys(w), ...Object.keys(g)]))
      if (!(k in w) || !(k in g) || !deepEqual(w[k], g[k])) return firstDifference(w[k], g[k], `${at}.${k}`);
  }
  return `${at}: expected ${show(want)}, got ${show(got)}`;
}

/** Why an output differs from what was expected, or undefined when it matches. */
function outputMismatch(expected: ExpectedOutput, actual: string): string | undefined {
  if (typeof expected === "string" || (expected && typeof expected === "object" && "text" in expected)) {
    const text = typeof expected === "string" ? expected : expected.text;
    return text === actual ? undefined : stringifyOrdered(text);
  }
  if (expected && typeof expected === "object" && "json" in expected) {
    let parsed: unknown;
    try {
      parsed = parseJsonOrdered(actual);
    } catch {
      return `JSON ${stringifyOrdered(expected.json)}`;
    }
    if (deepEqual(parsed, expected.json)) return undefined;
    return `JSON ${stringifyOrdered(expected.json)}${NOTE}first difference: ${firstDifference(expected.json, parsed, "$")}`;
  }
  if (expected && typeof expected === "object" && "skipped" in expected) return undefined;
  return `an output entry of an unknown form: ${stringifyOrdered(expected)}`;
}

/** Differences between an episode's outcome and its expectation; empty when identical. */
export function compareEpisode(run: EpisodeRun, initial: Environment, expected: EpisodeExpectation): string[] {
  const out: string[] = [];
  const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 297)}...` : s);
  if (expected.outputs) {
    if (expected.outputs.length !== run.outputs.length)
      out.push(`${run.outputs.length} calls ran, ${expected.outputs.length} outputs expected`);
    const n = Math.min(expected.outputs.length, run.outputs.length);
    for (let i = 0; i < n; i++) {
      const want = outputMismatch(expected.outputs[i]!, run.outputs[i]!);
      if (want === undefined) continue;
      const [shown, note] = want.split(NOTE);
      out.push(`call ${i + 1} output differs:\n    expected: ${clip(shown!)}\n    actual:   ${clip(run.outputs[i]!)}${note ? `\n    ${note}` : ""}`);
    }
  }
  if (expected.changed) {
    const actual = changedRecords(initial, run.final);
    // undefined: not changed; null: deleted (records) or set to null (globals)
    const compare = (label: string, ev: unknown, av: unknown) => {
      if (ev === undefined && av === undefined) return;
      if ((ev === undefined) !== (av === undefined) || !deepEqual(ev ?? null, av ?? null)) {
        const show = (v: unknown) => (v === undefined ? "(unchanged)" : clip(stringifyOrdered(v)));
        out.push(`${label} differs:\n    expected: ${show(ev)}\n    actual:   ${show(av)}`);
      }
    };
    const tables = expected.changed.tables ?? {};
    for (const table of new Set([...Object.keys(tables), ...Object.keys(actual.tables)])) {
      const e = tables[table] ?? {};
      const a = actual.tables[table] ?? {};
      for (const key of new Set([...Object.keys(e), ...Object.keys(a)]))
        compare(`${table}[${JSON.stringify(key)}]`, key in e ? e[key] : undefined, key in a ? a[key] : undefined);
    }
    const globals = expected.changed.globals ?? {};
    for (const name of new Set([...Object.keys(globals), ...Object.keys(actual.globals)])) compare(name, globals[name], actual.globals[name]);
  }
  return out;
}

/** The expectation an episode's current outcome gives (`envc replay --record`). */
export function expectationOf(id: string, run: EpisodeRun, initial: Environment): EpisodeExpectation {
  return { id, outputs: run.outputs, changed: changedRecords(initial, run.final) };
}

/**
 * A change an episode makes to its initial state before its first call (the `set` of an
 * episode line): the value at a path of the state's JSON, `[table, key, field]` for a record's
 * field or `[field]` for a scalar state field. Examples recorded on a changed copy of a state
 * file name the file and the change, not the whole state.
 */
export interface StateChange {
  path: string[];
  value: unknown;
}

/** The `set` of an episode line, checked: a list of {path: [strings], value}; or why not. */
export function stateChangesOf(v: unknown): StateChange[] | string {
  if (!Array.isArray(v)) return `"set" must be a list of {"path": [...], "value": ...}`;
  for (const [i, c] of v.entries()) {
    const ok = c && typeof c === "object" && Array.isArray(c.path) && c.path.length > 0 && c.path.every((p: unknown) => typeof p === "string") && "value" in c;
    if (!ok) return `"set"[${i}] must be {"path": [one or more strings], "value": ...}`;
  }
  return v as StateChange[];
}

/** A copy of a state's JSON with the changes made; throws an Error naming a path that is not in it. */
export function changedState(state: unknown, changes: readonly StateChange[]): unknown {
  const copy = cloneJson(state) as Record<string, unknown>;
  for (const c of changes) {
    let at: unknown = copy;
    for (const key of c.path.slice(0, -1)) {
      at = at && typeof at === "object" && !Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined;
      if (at === undefined) throw new Error(`the state has nothing at ${JSON.stringify(c.path)}`);
    }
    if (!at || typeof at !== "object" || Array.isArray(at)) throw new Error(`the state has nothing at ${JSON.stringify(c.path)}`);
    (at as Record<string, unknown>)[c.path[c.path.length - 1]!] = c.value;
  }
  return copy;
}
