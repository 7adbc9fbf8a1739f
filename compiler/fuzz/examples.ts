// Examples: short, recorded call sequences that pin down what each tool does. Found by the
// same argument maker and planner as fuzzing: for every tool a few successful calls with
// different results, for every `require`, `fail` and `let ... else` a call that trips it, and for
// every ordering comparison a tool or helper evaluates (`<`, `<=`, `>`, `>=`) a call that puts
// its two sides one step below, on and one step above its boundary (compiler/fuzz/probes.ts):
// the calls that tell `<` from `<=`, or a limit of 50000 from one of 50001. A random search comes
// first; then a local search (compiler/fuzz/deepen.ts) starts from the examples found and changes
// a state field, or runs one more action first, to reach what the random one missed. Each
// sequence is shrunk (earlier calls dropped while the last call still does the same thing).
// Written as an `envc replay` episodes file plus its expectations, they are a regression suite:
// `envc replay` proves the spec still behaves as recorded, and `envc mutate` counts a mutant
// whose examples replay differently as killed. Deterministic: the same spec, states and seed
// give the same file.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  Environment, StateError, renderResult, runEpisode, expectationOf, stringifyOrdered, changedRecords, compareEpisode, parseJsonOrdered, parseJsonLines, JsonLinesError,
  changedState, stateChangesOf, type CallResult, type EnvDefinition, type EpisodeExpectation, type StateChange,
} from "../../runtime/index.js";
import type { IEnv, ITool } from "../ir.js";
import { ArgMaker, prng } from "./args.js";
import { generatedPool, type FuzzCall } from "./engine.js";
import { Planner } from "./planner.js";
import { Probes, SIDES, SIDE_BIT, type ProbeHit, type Side } from "./probes.js";
import { deepen } from "./deepen.js";
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
  /** after the random search, search around the examples found for what it missed (default true) */
  deepen?: boolean;
}

export interface Example {
  /** `<tool>.ok.<n>`, `<tool>.fails.L<line>` or `<tool>.edge.L<line>:<col>.<below|at|above>` */
  id: string;
  /**
   * what the last call shows: `ok`, the location of the precondition it trips, or a side and
   * the location of the comparison it puts on that side of its boundary (`at spec.env:12:9`)
   */
  goal: string;
  /** index into ExampleSet.starts */
  start: number;
  calls: FuzzCall[];
}

/** What an example shows: a success, a tripped precondition, a comparison's boundary, or an included episode. */
export function exampleKind(e: Pick<Example, "goal">): "ok" | "trip" | "edge" | "included" {
  if (e.goal === "ok" || e.goal === "included") return e.goal;
  return /^(below|at|above) /.test(e.goal) ? "edge" : "trip";
}

export interface ExampleStart {
  env: Environment;
  /** the seed it came from (its file, when it has one); absent for a generated or changed state */
  seed?: SeedState;
  /** a changed state: the start it is a copy of, and the changes (written as the episode's `set`) */
  from?: { start: number; set: StateChange[] };
}

/** States larger than this (characters of JSON) are never written inline in an examples file. */
export const MAX_INLINE_STATE = 64_000;

export interface ExampleSet {
  starts: ExampleStart[];
  examples: Example[];
  /** tools that never succeeded and preconditions never tripped: what the examples miss */
  unreached: string[];
}

/** The renderer examples are recorded with: results as JSON, errors with their kind. */
export const EXAMPLE_RENDERER = "json" as const;

/** What an example's last call shows (see Example.goal). */
export type Goal =
  | { kind: "ok"; signature: string }
  | { kind: "trip"; at: string }
  | { kind: "edge"; site: number; side: Side };

/** An example found: the tool of its last call, where it starts, its calls, what it shows. */
export interface Found {
  tool: number;
  start: number;
  calls: FuzzCall[];
  goal: Goal;
  /** what the comparisons of its last call showed */
  hits: ReadonlyMap<number, ProbeHit>;
  /** a boundary reached by the same calls from the same start as an example already kept: not written again */
  same?: true;
}

/** The last call of a replay: its result, the state before and after it, its comparisons. */
export interface LastCall {
  result: CallResult;
  before: Environment;
  live: Environment;
  hits: ReadonlyMap<number, ProbeHit>;
}

/** What makes two successes of a tool different: the output and the records changed. */
function signatureOf(result: CallResult, live: Environment, before: Environment): string {
  return renderResult(result, EXAMPLE_RENDERER) + "\u0000" + stringifyOrdered(changedRecords(before, live));
}

/**
 * The search's record of what it found, shared by the random search (findExamples) and the
 * local one (deepen.ts). It runs on the probes' twin of the definition; `starts` hold the
 * ordinary definition's environments, which the examples are written with.
 */
export class Recorder {
  /** goal key -> the example that reaches it */
  readonly found = new Map<string, Found>();
  /** per tool, the signatures of the successes kept */
  readonly successes: Set<string>[];
  /** per start, the same state on the probes' twin */
  readonly probed: Environment[] = [];
  /** per comparison, the first call seen evaluating it (unshrunk): where the local search can start */
  readonly seen = new Map<number, Pick<Found, "start" | "calls" | "hits">>();
  readonly maker: ArgMaker;

  constructor(
    readonly env: IEnv, readonly def: EnvDefinition, readonly probes: Probes, readonly tools: readonly ITool[],
    readonly starts: ExampleStart[], readonly perTool: number,
  ) {
    this.successes = tools.map(() => new Set<string>());
    this.maker = new ArgMaker(env);
    for (const s of starts) this.probed.push(Environment.createFrom(probes.def, s.env.toJSON()));
  }

  /** Add a start: start `base` with the changes made (valid: `probed` was built from it); its index. */
  addStart(probed: Environment, base: number, set: readonly StateChange[]): number {
    // a change of a changed state is a change of the state that one was made from
    const was = this.starts[base]!.from;
    const from = was ? { start: was.start, set: [...was.set, ...set] } : { start: base, set: [...set] };
    this.starts.push({ env: Environment.createFrom(this.def, probed.toJSON()), from });
    this.probed.push(probed);
    return this.starts.length - 1;
  }

  /** Replay `calls` on a fork of `start` (a probed environment) and watch the last one. */
  last(start: Environment, calls: readonly FuzzCall[]): LastCall {
    const live = start.fork();
    for (let i = 0; i < calls.length - 1; i++) live.call(calls[i]!.name, calls[i]!.arguments);
    const before = live.fork();
    const c = calls[calls.length - 1]!;
    this.probes.reset();
    const result = live.call(c.name, c.arguments);
    return { result, before, live, hits: this.probes.hits() };
  }

  reaches(run: LastCall, goal: Goal): boolean {
    switch (goal.kind) {
      case "ok":
        return run.result.ok && signatureOf(run.result, run.live, run.before) === goal.signature;
      case "trip":
        return !run.result.ok && run.result.kind === "precondition" && run.live.lastPreconditionAt === goal.at;
      case "edge":
        return ((run.hits.get(goal.site)?.mask ?? 0) & SIDE_BIT[goal.side]) !== 0;
    }
  }

  /** Drop earlier calls one at a time while the last call still reaches the goal. */
  private shrink(start: Environment, calls: FuzzCall[], goal: Goal): FuzzCall[] {
    let kept = calls;
    for (let i = 0; i < kept.length - 1; ) {
      const without = [...kept.slice(0, i), ...kept.slice(i + 1)];
      if (this.reaches(this.last(start, without), goal)) kept = without;
      else i++;
    }
    return kept;
  }

  /**
   * The last of `calls` (of tool `ti`) just ran on a fork of `startEnv` with this result: record,
   * shrunk, every goal it reaches that no example reaches yet. `start` is the start's index, or
   * makes it (a changed state becomes a start only when an example needs it). `before` is the
   * state before the last call, when a new success is still wanted; `hits` its comparisons.
   * How many goals were new.
   */
  consider(
    ti: number, start: number | (() => number), startEnv: Environment, calls: readonly FuzzCall[],
    result: CallResult, live: Environment, before: Environment | undefined, hits: ReadonlyMap<number, ProbeHit>,
  ): number {
    const tool = this.tools[ti]!;
    const goals: [string, Goal][] = [];
    if (result.ok) {
      const kept = this.successes[ti]!;
      if (before && kept.size < this.perTool) {
        const signature = signatureOf(result, live, before);
        if (!kept.has(signature)) {
          kept.add(signature);
          goals.push([`${tool.name}\u0000ok\u0000${kept.size}`, { kind: "ok", signature }]);
        }
      }
    } else if (result.kind === "precondition" && live.lastPreconditionAt) {
      const key = `${tool.name}\u0000${live.lastPreconditionAt}`;
      if (!this.found.has(key)) goals.push([key, { kind: "trip", at: live.lastPreconditionAt }]);
    } else return 0;
    if (typeof start === "number") for (const site of hits.keys()) if (!this.seen.has(site)) this.seen.set(site, { start, calls: calls.slice(), hits });
    for (const [site, hit] of hits)
      for (const side of SIDES) {
        if (!(hit.mask & SIDE_BIT[side])) continue;
        const key = edgeKey(site, side);
        if (!this.found.has(key)) goals.push([key, { kind: "edge", site, side }]);
      }
    let index = typeof start === "number" ? start : undefined;
    for (const [key, goal] of goals) {
      const shrunk = this.shrink(startEnv, calls.slice(), goal);
      index ??= (start as () => number)();
      const text = `${index}\u0000${stringifyOrdered(shrunk)}`;
      const same = goal.kind === "edge" && this.kept.has(text);
      this.kept.add(text);
      this.found.set(key, { tool: ti, start: index, calls: shrunk, goal, hits: this.last(startEnv, shrunk).hits, ...(same ? { same: true as const } : {}) });
    }
    return goals.length;
  }

  /** start and calls of every example kept, to keep a boundary that an example already shows only once */
  private kept = new Set<string>();
}

export const edgeKey = (site: number, side: Side) => `edge\u0000${site}\u0000${side}`;

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
    for (const g of generatedPool(env, def, options.seed, 12, undefined, starts.map((s) => s.env)))
      // a generated state is written inline with each example on it: not one that would swell the file
      if (JSON.stringify(g.toJSON()).length <= MAX_INLINE_STATE) starts.push({ env: g });
  if (starts.length === 0) return { starts, examples: [], unreached: tools.map((t) => `${t.name} never succeeded`) };

  const probes = new Probes(env, def);
  const rec = new Recorder(env, def, probes, tools, starts, perTool);
  const maker = rec.maker;
  const planner = new Planner(env, tools);
  const rand = prng(options.seed);
  const seeded = starts.flatMap((s, i) => (s.seed ? [i] : []));
  const generated = starts.flatMap((s, i) => (s.seed ? [] : [i]));
  for (let run = 0; run < options.runs; run++) {
    // seed states (named files make readable examples) twice as often as generated ones
    const from = generated.length && (run % 3 === 2 || !seeded.length) ? generated : seeded;
    const si = from[Math.floor(rand() * from.length)]!;
    const start = rec.probed[si]!;
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
      // recorded too; the shrink drops the call again when it was not needed
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
      const before = rec.successes[ti]!.size < perTool ? live.fork() : undefined;
      probes.reset();
      const result = live.call(tool.name, args);
      if (!result.ok && result.kind === "env_fault") break; // fuzzing reports those
      if (result.ok && tool.kind === "action") maker.noteSuccess(tool, args, result.value);
      rec.consider(ti, si, start, calls, result, live, before, probes.hits());
    }
  }
  if (options.deepen !== false) deepen(rec, { seed: options.seed });

  // successes are numbered per tool, in the sorted order; then trips by line, then edges
  const lineOf = (location: string) => Number(location.split(":").at(-2));
  const order = (f: Found): number[] => {
    const g = f.goal;
    if (g.kind === "ok") return [f.tool, 0, 0, 0, 0];
    if (g.kind === "trip") return [f.tool, 1, lineOf(g.at), 0, 0];
    const site = probes.sites[g.site]!;
    return [f.tool, 2, site.line, site.column, SIDES.indexOf(g.side)];
  };
  const sorted = [...rec.found.values()].filter((f) => !f.same).map((f) => ({ f, o: order(f) })).sort((a, b) => {
    for (let i = 0; i < a.o.length; i++) if (a.o[i] !== b.o[i]) return a.o[i]! - b.o[i]!;
    return 0;
  });
  const okCount = new Map<string, number>();
  const examples: Example[] = sorted.map(({ f }) => {
    const tool = tools[f.tool]!.name;
    const g = f.goal;
    if (g.kind === "trip") return { id: `${tool}.fails.L${lineOf(g.at)}`, goal: g.at, start: f.start, calls: f.calls };
    if (g.kind === "edge") {
      const site = probes.sites[g.site]!;
      return { id: `${tool}.edge.L${site.line}:${site.column}.${g.side}`, goal: `${g.side} ${site.location}`, start: f.start, calls: f.calls };
    }
    okCount.set(tool, (okCount.get(tool) ?? 0) + 1);
    return { id: `${tool}.ok.${okCount.get(tool)}`, goal: "ok", start: f.start, calls: f.calls };
  });

  const unreached: string[] = [];
  for (const [ti, t] of tools.entries()) if (rec.successes[ti]!.size === 0) unreached.push(`${t.name} never succeeded`);
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
    const build = (json: unknown, extra: Partial<ExampleStart>): number => {
      try {
        set.starts.push({ env: Environment.createFrom(def, json), ...extra });
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        throw new ExamplesError(`${where}: the initial state${stateFile ? ` ${initial}` : ""}${extra.from ? " with its changes" : ""} is not valid: ${err.message.split("\n")[0]}`);
      }
      return set.starts.length - 1;
    };
    let start = stateFile === undefined ? undefined : byFile.get(stateFile);
    if (start === undefined) {
      start = build(state, stateFile ? { seed: { state, file: stateFile } } : {});
      if (stateFile) byFile.set(stateFile, start);
    }
    const changes = changesOf(value, where);
    if (changes) start = build(changedStateAt(state, changes, where), { from: { start, set: changes } });
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
 * a file is named by its path relative to the episodes file, a changed copy of one by that path
 * and the changes (`set`); any other is written inline.
 */
export function examplesToJsonl(set: ExampleSet, episodesFile: string): { episodes: string; expectations: string } {
  const dir = path.dirname(path.resolve(episodesFile));
  const episodes: string[] = [];
  const expectations: string[] = [];
  for (const ex of set.examples) {
    const start = set.starts[ex.start]!;
    // a changed copy of a state file: the file and the changes; any other state inline
    const base = start.from && set.starts[start.from.start]!.seed?.file;
    const initial = start.seed?.file ? relativeTo(dir, start.seed.file) : base ? relativeTo(dir, base) : start.env.toJSON();
    const changes = base ? { set: start.from!.set } : {};
    episodes.push(stringifyOrdered({ id: ex.id, goal: goalRelativeTo(dir, ex.goal), initial, ...changes, calls: ex.calls }));
    const run = runEpisode(start.env, ex.calls, EXAMPLE_RENDERER);
    expectations.push(stringifyOrdered(expectationOf(ex.id, run, start.env)));
  }
  return { episodes: episodes.map((l) => l + "\n").join(""), expectations: expectations.map((l) => l + "\n").join("") };
}

/**
 * A precondition's or a comparison's location (`path/to/spec.env:12:3`, `at path/to/spec.env:12:9`)
 * with the spec's path made relative to `dir`, the examples file's folder: the file then reads
 * the same whichever folder it was recorded from. `ok` and `included` stay as they are.
 */
function goalRelativeTo(dir: string, goal: string): string {
  const m = /^((?:below|at|above) )?(.*):(\d+):(\d+)$/.exec(goal);
  if (!m) return goal;
  return `${m[1] ?? ""}${relativeTo(dir, m[2]!)}:${m[3]}:${m[4]}`;
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
    const { state } = initialStateOf(value.initial, episodesFile, where, files);
    const changes = changesOf(value, where);
    out.push({ id, initial: changes ? changedStateAt(state, changes, where) : state, calls, expected: exp });
  }
  return out;
}

/** An episode line's calls: a list of {name, arguments}. */
function callsOf(value: Record<string, unknown>, where: string): FuzzCall[] {
  if (!Array.isArray(value.calls) || value.calls.some((c) => !c || typeof (c as { name?: unknown }).name !== "string"))
    throw new ExamplesError(`${where}: "calls" must be a list of {name, arguments}`);
  return value.calls as FuzzCall[];
}

/** An episode line's `set`: the changes made to its initial state before the calls, if any. */
function changesOf(value: Record<string, unknown>, where: string): StateChange[] | undefined {
  if (value.set === undefined) return undefined;
  const changes = stateChangesOf(value.set);
  if (typeof changes === "string") throw new ExamplesError(`${where}: ${changes}`);
  return changes;
}

function changedStateAt(state: unknown, changes: readonly StateChange[], where: string): unknown {
  try {
    return changedState(state, changes);
  } catch (err) {
    throw new ExamplesError(`${where}: ${(err as Error).message}`);
  }
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
