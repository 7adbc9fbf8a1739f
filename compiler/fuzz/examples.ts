// Examples: short, recorded call sequences that pin down what each tool does. Found by the
// same argument maker as fuzzing: for every tool a few successful calls with different results,
// and for every `require`, `fail` and `let ... else` a call that trips it; each sequence is
// shrunk (earlier calls dropped while the last call still does the same thing). Written as an
// `envc replay` episodes file plus its expectations, they are a regression suite: `envc replay`
// proves the spec still behaves as recorded, and `envc mutate` counts a mutant whose examples
// replay differently as killed. Deterministic: the same spec, states and seed give the same file.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  Environment, StateError, renderResult, runEpisode, expectationOf, stringifyOrdered, changedRecords, compareEpisode, parseJsonOrdered, parseJsonLines, JsonLinesError,
  type CallResult, type EnvDefinition, type EpisodeExpectation,
} from "../../runtime/index.js";
import type { IEnv } from "../ir.js";
import { ArgMaker, prng } from "./args.js";
import { generatedPool, type FuzzCall } from "./engine.js";
import { Planner } from "./planner.js";
import type { SeedState } from "./seeds.js";

export interface ExampleOptions {
  seed: number;
  /** call sequences tried */
  runs: number;
  /** longest sequence tried */
  maxCalls: number;
  /** successful examples kept per tool, each with a different result (default 3) */
  perTool?: number;
  /** also start from states generated from the schema (default true) */
  generated?: boolean;
}

export interface Example {
  /** `<tool>.ok.<n>` or `<tool>.fails.L<line>` */
  id: string;
  /** what the last call shows: `ok` or the location of the precondition it trips */
  goal: string;
  /** index into ExampleSet.starts */
  start: number;
  calls: FuzzCall[];
}

export interface ExampleStart {
  env: Environment;
  /** the seed it came from (its file, when it has one); absent for a generated state */
  seed?: SeedState;
}

export interface ExampleSet {
  starts: ExampleStart[];
  examples: Example[];
  /** tools that never succeeded and preconditions never tripped: what the examples miss */
  unreached: string[];
}

/** The renderer examples are recorded with: results as JSON, errors with their kind. */
export const EXAMPLE_RENDERER = "json" as const;

interface Outcome {
  goal: string;
  /** what makes two successes of a tool different: the output and the records changed */
  signature: string;
}

function outcomeOf(result: CallResult, live: Environment, before: Environment | undefined): Outcome | undefined {
  if (result.ok) {
    const changed = before ? stringifyOrdered(changedRecords(before, live)) : "";
    return { goal: "ok", signature: renderResult(result, EXAMPLE_RENDERER) + "\u0000" + changed };
  }
  if (result.kind !== "precondition") return undefined;
  const at = live.lastPreconditionAt;
  return at ? { goal: at, signature: at } : undefined;
}

/** Replays calls on a fork of `start`; the outcome of the last call. */
function lastOutcome(start: Environment, calls: readonly FuzzCall[]): Outcome | undefined {
  const live = start.fork();
  for (let i = 0; i < calls.length - 1; i++) live.call(calls[i]!.name, calls[i]!.arguments);
  const before = live.fork();
  const last = calls[calls.length - 1]!;
  return outcomeOf(live.call(last.name, last.arguments), live, before);
}

/** Drop earlier calls one at a time while the last call still ends the same way. */
function shrink(start: Environment, calls: FuzzCall[], want: Outcome): FuzzCall[] {
  let kept = calls;
  for (let i = 0; i < kept.length - 1; ) {
    const without = [...kept.slice(0, i), ...kept.slice(i + 1)];
    const got = lastOutcome(start, without);
    if (got && got.goal === want.goal && got.signature === want.signature) kept = without;
    else i++;
  }
  return kept;
}

export function findExamples(env: IEnv, def: EnvDefinition, seeds: readonly SeedState[], options: ExampleOptions): ExampleSet {
  const tools = env.tools.filter((t) => t.kind !== "fn");
  const perTool = options.perTool ?? 3;
  const starts: ExampleStart[] = [];
  for (const seed of seeds) {
    try {
      starts.push({ env: Environment.createFrom(def, seed.state), seed });
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
    }
  }
  if (options.generated !== false || starts.length === 0)
    for (const g of generatedPool(env, def, options.seed, 12, undefined, starts.map((s) => s.env))) starts.push({ env: g });
  if (starts.length === 0) return { starts, examples: [], unreached: tools.map((t) => `${t.name} never succeeded`) };

  const maker = new ArgMaker(env);
  const planner = new Planner(env, tools);
  const rand = prng(options.seed);
  // goal -> the calls that reached it; successes are told apart by their signature
  const found = new Map<string, { tool: number; start: number; calls: FuzzCall[]; outcome: Outcome }>();
  const successes = tools.map(() => new Set<string>());
  const seeded = starts.flatMap((s, i) => (s.seed ? [i] : []));
  const generated = starts.flatMap((s, i) => (s.seed ? [] : [i]));
  for (let run = 0; run < options.runs; run++) {
    // seed states (named files make readable examples) twice as often as generated ones
    const from = generated.length && (run % 3 === 2 || !seeded.length) ? generated : seeded;
    const si = from[Math.floor(rand() * from.length)]!;
    const start = starts[si]!.env;
    const live = start.fork();
    const length = 1 + Math.floor(rand() * options.maxCalls);
    const calls: FuzzCall[] = [];
    for (let i = 0; i < length; i++) {
      const callSeed = Math.floor(rand() * 2 ** 31);
      const ti = callSeed % tools.length;
      const tool = tools[ti]!;
      const callRand = prng(Math.floor(callSeed / tools.length));
      let args = maker.make(tool, live, callRand, start);
      // as envc fuzz does: when no record meets (or breaks) what the tool's requires ask, run
      // an action that can make one first, so that guarded successes and deep requires are
      // recorded too; the shrink below drops the call again when it was not needed
      const need = maker.unmet[0] ?? maker.unbroken?.unmet;
      const violate = maker.unmet.length ? undefined : maker.unbroken && { param: maker.unbroken.unmet.param, index: maker.unbroken.index };
      const enablers = need ? planner.enablersFor(need) : [];
      if (enablers.length && callRand() < 0.6) {
        const en = enablers[Math.floor(callRand() * enablers.length)]!;
        const enTool = tools[en.tool]!;
        const enArgs = maker.make(enTool, live, callRand, start, en.force);
        calls.push({ name: enTool.name, arguments: enArgs });
        const r = live.call(enTool.name, enArgs);
        if (!r.ok && r.kind === "env_fault") break;
        if (r.ok) {
          maker.noteSuccess(enTool, enArgs, r.value);
          args = maker.make(tool, live, callRand, start, undefined, violate);
        }
      }
      calls.push({ name: tool.name, arguments: args });
      const wanted = successes[ti]!.size < perTool;
      const before = wanted ? live.fork() : undefined;
      const result = live.call(tool.name, args);
      if (!result.ok && result.kind === "env_fault") break; // fuzzing reports those
      if (result.ok && tool.kind === "action") maker.noteSuccess(tool, args, result.value);
      const outcome = outcomeOf(result, live, before);
      if (!outcome) continue;
      let key: string;
      if (outcome.goal === "ok") {
        if (!wanted || successes[ti]!.has(outcome.signature)) continue;
        successes[ti]!.add(outcome.signature);
        key = `${tool.name}\u0000ok\u0000${successes[ti]!.size}`;
      } else {
        key = `${tool.name}\u0000${outcome.goal}`;
        if (found.has(key)) continue;
      }
      found.set(key, { tool: ti, start: si, calls: shrink(start, calls.slice(), outcome), outcome });
    }
  }

  const lineOf = (location: string) => Number(location.split(":").at(-2));
  // successes are numbered per tool, in the sorted order
  const okCount = new Map<string, number>();
  const examples: Example[] = [...found.values()]
    .sort((a, b) => a.tool - b.tool || (a.outcome.goal === "ok" ? 0 : lineOf(a.outcome.goal)) - (b.outcome.goal === "ok" ? 0 : lineOf(b.outcome.goal)))
    .map((f) => {
      const tool = tools[f.tool]!.name;
      const goal = f.outcome.goal;
      if (goal !== "ok") return { id: `${tool}.fails.L${lineOf(goal)}`, goal, start: f.start, calls: f.calls };
      okCount.set(tool, (okCount.get(tool) ?? 0) + 1);
      return { id: `${tool}.ok.${okCount.get(tool)}`, goal, start: f.start, calls: f.calls };
    });

  const unreached: string[] = [];
  for (const [ti, t] of tools.entries()) if (successes[ti]!.size === 0) unreached.push(`${t.name} never succeeded`);
  return { starts, examples, unreached };
}

/**
 * Add hand-written or imported episodes (an `envc replay` episodes file: `{id, initial?, calls}`
 * per line) to a set, after the found examples; their goal is `included`. An episode without
 * `initial` starts from `defaultInit` (a state file). Initial state files are read once. With
 * `onlyIncluded`, only the lines whose goal is `included` are taken: how recording again keeps
 * what an earlier recording included. The same episode included twice is added once.
 */
export function includeEpisodes(set: ExampleSet, def: EnvDefinition, file: string, defaultInit?: string, onlyIncluded = false): number {
  // start states from files, by absolute path: an episode on one of them reuses it
  const byFile = new Map<string, number>();
  const files = new Map<string, unknown>();
  set.starts.forEach((s, i) => {
    if (!s.seed?.file) return;
    byFile.set(path.resolve(s.seed.file), i);
    files.set(path.resolve(s.seed.file), s.seed.state);
  });
  const ids = new Set(set.examples.map((e) => e.id));
  let added = 0;
  for (const { line, value } of jsonLines(file)) {
    if (onlyIncluded && value.goal !== "included") continue;
    const where = `${file}:${line}`;
    const id = value.id as string;
    const calls = callsOf(value, where);
    if (ids.has(id)) {
      // the same episode again (included before, and now once more): nothing to add
      const same = set.examples.find((e) => e.id === id && e.goal === "included" && stringifyOrdered(e.calls) === stringifyOrdered(calls));
      if (same) continue;
      throw new ExamplesError(`${where}: example id '${id}' is already taken`);
    }
    const initial = value.initial === undefined && defaultInit !== undefined ? path.resolve(defaultInit) : value.initial;
    if (initial === undefined) throw new ExamplesError(`${where}: the episode names no initial state; give it one or pass a default initial state file`);
    const { state, file: stateFile } = initialStateOf(initial, file, where, files);
    let start = stateFile === undefined ? undefined : byFile.get(stateFile);
    if (start === undefined) {
      try {
        set.starts.push({ env: Environment.createFrom(def, state), ...(stateFile ? { seed: { state, file: stateFile } } : {}) });
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        throw new ExamplesError(`${where}: the initial state${stateFile ? ` ${initial}` : ""} is not valid: ${err.message.split("\n")[0]}`);
      }
      start = set.starts.length - 1;
      if (stateFile) byFile.set(stateFile, start);
    }
    set.examples.push({ id, goal: "included", start, calls });
    ids.add(id);
    added++;
    // a tool the search never got to succeed may succeed here
    const run = runEpisode(set.starts[start]!.env, calls, EXAMPLE_RENDERER);
    run.results.forEach((r, i) => {
      if (r.ok) set.unreached = set.unreached.filter((u) => u !== `${calls[i]!.name} never succeeded`);
    });
  }
  return added;
}

/**
 * The examples as an episodes file and its expectations (JSONL texts). A start that came from
 * a file is named by its path relative to the episodes file; any other is written inline.
 */
export function examplesToJsonl(set: ExampleSet, episodesFile: string): { episodes: string; expectations: string } {
  const dir = path.dirname(path.resolve(episodesFile));
  const episodes: string[] = [];
  const expectations: string[] = [];
  for (const ex of set.examples) {
    const start = set.starts[ex.start]!;
    const initial = start.seed?.file ? relativeTo(dir, start.seed.file) : start.env.toJSON();
    episodes.push(stringifyOrdered({ id: ex.id, goal: goalRelativeTo(dir, ex.goal), initial, calls: ex.calls }));
    const run = runEpisode(start.env, ex.calls, EXAMPLE_RENDERER);
    expectations.push(stringifyOrdered(expectationOf(ex.id, run, start.env)));
  }
  return { episodes: episodes.map((l) => l + "\n").join(""), expectations: expectations.map((l) => l + "\n").join("") };
}

/**
 * A precondition's location (`path/to/spec.env:12:3`) with the spec's path made relative to
 * `dir`, the examples file's folder: the file then reads the same whichever folder it was
 * recorded from. `ok` and `included` stay as they are.
 */
function goalRelativeTo(dir: string, goal: string): string {
  const m = /^(.*):(\d+):(\d+)$/.exec(goal);
  if (!m) return goal;
  return `${relativeTo(dir, m[1]!)}:${m[2]}:${m[3]}`;
}

/** `file` as a path from `dir`, with forward slashes: what the examples file holds on any system. */
function relativeTo(dir: string, file: string): string {
  return path.relative(dir, path.resolve(file)).split(path.sep).join("/");
}

/** One example ready to replay on a (possibly mutated) definition. */
export interface LoadedExample {
  id: string;
  /** the initial state's JSON; examples starting from the same file share the object */
  initial: unknown;
  calls: FuzzCall[];
  expected: EpisodeExpectation;
}

/** A malformed examples or expectations file: the message names the file and line. */
export class ExamplesError extends Error {}

/** Where a spec's examples live by default: examples.jsonl in the spec's folder. */
export function defaultExamplesFile(specFile: string): string {
  return path.join(path.dirname(specFile), "examples.jsonl");
}

/** `examples.jsonl` -> `examples.expect.jsonl`: where an episodes file's expectations live. */
export function expectationsFileOf(episodesFile: string): string {
  return episodesFile.replace(/(\.jsonl)?$/, ".expect.jsonl");
}

function jsonLines(file: string): { line: number; value: Record<string, unknown> }[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ExamplesError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let lines: { line: number; value: Record<string, unknown> }[];
  try {
    lines = parseJsonLines(text, file);
  } catch (err) {
    if (err instanceof JsonLinesError) throw new ExamplesError(err.message);
    throw err;
  }
  for (const { line, value } of lines)
    if (typeof value.id !== "string") throw new ExamplesError(`${file}:${line}:1: expected a string "id"`);
  return lines;
}

/** Read an episodes file and its expectations (`expectationsFileOf`), initial state files once each. */
export function loadExamples(episodesFile: string): LoadedExample[] {
  const expectFile = expectationsFileOf(episodesFile);
  const expected = new Map(jsonLines(expectFile).map(({ value }) => [value.id as string, value as unknown as EpisodeExpectation]));
  const files = new Map<string, unknown>();
  const out: LoadedExample[] = [];
  for (const { line, value } of jsonLines(episodesFile)) {
    const id = value.id as string;
    const where = `${episodesFile}:${line}`;
    const exp = expected.get(id);
    if (!exp) throw new ExamplesError(`${where}: example '${id}' has no expectation in ${expectFile}; re-record with envc examples`);
    const calls = callsOf(value, where);
    out.push({ id, initial: initialStateOf(value.initial, episodesFile, where, files).state, calls, expected: exp });
  }
  return out;
}

/** An episode line's calls: a list of {name, arguments}. */
function callsOf(value: Record<string, unknown>, where: string): FuzzCall[] {
  if (!Array.isArray(value.calls) || value.calls.some((c) => !c || typeof (c as { name?: unknown }).name !== "string"))
    throw new ExamplesError(`${where}: "calls" must be a list of {name, arguments}`);
  return value.calls as FuzzCall[];
}

/**
 * An episode's initial state: a state object, or a path (relative to the episodes file) to a
 * state file, read once into `files` (absolute path -> state), so episodes on one file share it.
 */
function initialStateOf(initial: unknown, episodesFile: string, where: string, files: Map<string, unknown>): { state: unknown; file?: string } {
  if (typeof initial === "string") {
    const file = path.resolve(path.dirname(episodesFile), initial);
    if (!files.has(file)) {
      try {
        files.set(file, parseJsonOrdered(readFileSync(file, "utf8")));
      } catch (err) {
        throw new ExamplesError(`${where}: cannot read the initial state ${initial}: ${(err as Error).message}`);
      }
    }
    return { state: files.get(file), file };
  }
  if (initial && typeof initial === "object" && !Array.isArray(initial)) return { state: initial };
  throw new ExamplesError(`${where}: "initial" must be a state object or a path to one`);
}

/**
 * Replay examples on a definition; the first that does not come out as recorded, with why.
 * Environments for the same initial state are built once.
 */
export function firstExampleMismatch(def: EnvDefinition, examples: readonly LoadedExample[]): { id: string; message: string } | undefined {
  const built = new Map<unknown, Environment | string>();
  for (const ex of examples) {
    let start = built.get(ex.initial);
    if (start === undefined) {
      try {
        start = Environment.createFrom(def, ex.initial);
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        start = `its initial state is not valid: ${err.message.split("\n")[0]}`;
      }
      built.set(ex.initial, start);
    }
    if (typeof start === "string") return { id: ex.id, message: start };
    const problems = compareEpisode(runEpisode(start, ex.calls, EXAMPLE_RENDERER), start, ex.expected);
    if (problems.length) return { id: ex.id, message: problems[0]!.split("\n").map((l) => l.trim()).join(" ") };
  }
  return undefined;
}
