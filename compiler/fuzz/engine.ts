// `envc fuzz`: property-based testing of every tool of a compiled spec with fast-check.
// A run is an initial state (a sample or scenario state, or one generated from the schema) and
// a sequence of call seeds; each seed picks a tool and, through a PRNG, arguments drawn from
// the live state. After every call: no environment fault (ensure and invariant violations are
// faults), a failed call or a query leaves the state as it was, a result has its declared
// type; each run is replayed to prove it deterministic. A failure is shrunk by fast-check and
// returned as an initial state and concrete calls that `envc replay` reproduces.
import fc from "fast-check";
import { Environment, StateError, diffIsEmpty, deepEqual, type CallResult, type EnvDefinition } from "../../runtime/index.js";
import { preconditionsIn, type IEnv, type IStmt, type ITool } from "../ir.js";
import { ArgMaker, prng } from "./args.js";
import { evolvedStates, validStates } from "./states.js";
import { typeProblem } from "./types.js";

export interface FuzzOptions {
  seed: number;
  /** property runs (each: an initial state and a call sequence) */
  runs: number;
  /** longest call sequence */
  maxCalls?: number;
  /** stop after this long (ms), keeping what was found */
  timeMs?: number;
  /** also start from states generated from the schema (filtered by validity) */
  generated?: boolean;
  /** how many valid generated states to keep as starting points (default 24) */
  poolSize?: number;
}

export interface FuzzCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Finding {
  property: "env_fault" | "failed_call_changed_state" | "query_changed_state" | "result_type" | "nondeterministic";
  message: string;
  /** the initial state (JSON) and the calls up to and including the failing one */
  initial: unknown;
  calls: FuzzCall[];
  tool: string;
  location?: string;
}

export interface RequireCoverage {
  location: string;
  /** `require`, `fail` or `let ... else` */
  kind: string;
  message: string;
  failures: number;
}

export interface ToolCoverage {
  tool: string;
  kind: "query" | "action";
  calls: number;
  ok: number;
  invalidArgs: number;
  preconditions: number;
  faults: number;
  requires: RequireCoverage[];
}

export interface FuzzReport {
  env: string;
  runs: number;
  calls: number;
  ms: number;
  /** of ms, the time spent before the first run: validating seed states, building the pool */
  setupMs: number;
  /** generated initial states tried and accepted (schema, references and invariants) */
  generated: { tried: number; valid: number };
  coverage: ToolCoverage[];
  finding?: Finding;
}

/** One call: the tool is `seed % tools`, the rest seeds the PRNG that draws its arguments. */
type CallSeed = number;

class PropertyFailure extends Error {
  constructor(readonly finding: Omit<Finding, "initial" | "calls"> & { callIndex: number }) {
    super(finding.message);
  }
}

/** Each precondition statement of a tool body (what coverage counts), in source order. */
function preconditionsOf(env: IEnv, tool: ITool): RequireCoverage[] {
  const loc = (s: IStmt) => `${env.file}:${s.span.start.line}:${s.span.start.column}`;
  const text = (e: { e: string; value?: unknown; parts?: unknown[] } | undefined) =>
    e?.e === "lit" ? String(e.value) : e?.e === "str" ? (e.parts ?? []).map((p) => (typeof p === "string" ? p : "${...}")).join("") : "...";
  return preconditionsIn(tool.body).map((s) => ({
    location: loc(s),
    kind: s.s === "let" ? "let else" : s.s,
    message: text((s.s === "let" ? s.orElse : s.message) as never),
    failures: 0,
  }));
}

/** Same records, same values, same order in every table and the same globals. */
function sameState(a: Environment, b: Environment, tables: readonly string[]): boolean {
  if (!diffIsEmpty(a.diff(b))) return false;
  for (const t of tables) {
    const ka = a.table(t)!.keys();
    const kb = b.table(t)!.keys();
    if (ka === kb) continue;
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return false;
  }
  return true;
}

/**
 * Up to `want` valid states generated from the schema and made valid by construction and
 * repair (states.ts: validStates), smallest first so that shrinking leans to small states.
 * With `seeds` (validated sample and scenario states), about a third of the pool instead comes
 * from random successful action sequences run from them (evolvedStates). `counts` gets how
 * many generated states were tried and became valid.
 */
export function generatedPool(env: IEnv, def: EnvDefinition, seed: number, want: number, counts = { tried: 0, valid: 0 }, seeds: readonly Environment[] = []): Environment[] {
  const tables = def.tables.map((t) => t.name);
  const evolved = seeds.length ? evolvedStates(env, def, seeds, seed, Math.floor(want / 3)) : [];
  const generated = validStates(env, def, seed, want - evolved.length, counts);
  const valid = [...generated, ...evolved].map((e) => ({ env: e, size: tables.reduce((n, t) => n + e.table(t)!.size, 0) }));
  valid.sort((a, b) => a.size - b.size);
  return valid.map((v) => v.env);
}

export function fuzzEnv(env: IEnv, def: EnvDefinition, seedStates: readonly unknown[], options: FuzzOptions): FuzzReport {
  const started = performance.now();
  const tools = env.tools.filter((t) => t.kind !== "fn");
  const tables = def.tables.map((t) => t.name);
  const maker = new ArgMaker(env);
  const coverage: ToolCoverage[] = tools.map((t) => ({
    tool: t.name, kind: t.kind as "query" | "action", calls: 0, ok: 0, invalidArgs: 0, preconditions: 0, faults: 0, requires: preconditionsOf(env, t),
  }));
  const requireAt = coverage.map((c) => new Map(c.requires.map((r) => [r.location, r])));
  const generated = { tried: 0, valid: 0 };
  let totalCalls = 0;
  let counting = true;

  // seed states are validated once and forked per run
  const seeds: Environment[] = [];
  for (const s of seedStates) {
    try {
      seeds.push(Environment.createFrom(def, s));
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
    }
  }
  // generated states: sampled from the schema once, filtered by validity (schema, references,
  // invariants), smallest first so that shrinking leans to small states; runs fork them
  const pool: Environment[] = [];
  if (options.generated !== false || seeds.length === 0) pool.push(...generatedPool(env, def, options.seed, options.poolSize ?? 24, generated));

  /** Run calls from an initial environment; the concrete calls and results, or a PropertyFailure. */
  const runCalls = (start: Environment, callSeeds: readonly CallSeed[], check: boolean): { calls: FuzzCall[]; results: CallResult[]; final: Environment } => {
    const live = start.fork();
    const calls: FuzzCall[] = [];
    const results: CallResult[] = [];
    for (let i = 0; i < callSeeds.length; i++) {
      const cs = callSeeds[i]!;
      const ti = cs % tools.length;
      const tool = tools[ti]!;
      const rand = prng(Math.floor(cs / tools.length));
      const args = maker.make(tool, live, rand, start);
      const mark = live.checkpoint();
      const result = live.call(tool.name, args);
      calls.push({ name: tool.name, arguments: args });
      results.push(result);
      if (!check) continue;
      const cov = coverage[ti]!;
      if (counting) {
        totalCalls++;
        cov.calls++;
      }
      if (result.ok) {
        if (counting) cov.ok++;
        if (tool.kind === "query" && live.changedSince(mark))
          throw new PropertyFailure({ property: "query_changed_state", tool: tool.name, callIndex: i, message: `query ${tool.name} changed the state` });
        if (tool.returnType) {
          const problem = typeProblem(tool.returnType, result.value, env);
          if (problem)
            throw new PropertyFailure({ property: "result_type", tool: tool.name, callIndex: i, location: `${env.file}:${tool.span.start.line}:${tool.span.start.column}`, message: `${tool.name} returned a value that is not its declared type: ${problem}` });
        }
        continue;
      }
      if (result.kind === "env_fault") {
        if (counting) cov.faults++;
        throw new PropertyFailure({ property: "env_fault", tool: tool.name, callIndex: i, location: result.location, message: `environment fault in ${tool.name}: ${result.error}` });
      }
      if (counting) {
        if (result.kind === "invalid_args") cov.invalidArgs++;
        else if (result.kind === "precondition") {
          cov.preconditions++;
          const at = live.lastPreconditionAt;
          const r = at ? requireAt[ti]!.get(at) : undefined;
          if (r) r.failures++;
        }
      }
      if (live.changedSince(mark))
        throw new PropertyFailure({ property: "failed_call_changed_state", tool: tool.name, callIndex: i, message: `a failed call of ${tool.name} (${result.kind}: ${result.error}) changed the state` });
    }
    return { calls, results, final: live };
  };

  /** The same concrete calls again from the same start: what `envc replay` would do. */
  const replayCalls = (start: Environment, calls: readonly FuzzCall[]): { results: CallResult[]; final: Environment } => {
    const live = start.fork();
    const results: CallResult[] = [];
    for (const c of calls) results.push(live.call(c.name, c.arguments));
    return { results, final: live };
  };

  let runIndex = 0;
  const runOnce = (start: Environment, callSeeds: readonly CallSeed[], alwaysReplay = false) => {
    const first = runCalls(start, callSeeds, true);
    // the same calls from the same state must give the same results and state; replaying every
    // eighth run (and the counterexample) keeps most of the speed and still catches it. The
    // recorded calls are replayed (arguments are never changed by a call: they are validated
    // into a copy), so the property is the environment's, as `envc replay` sees it
    if (!alwaysReplay && runIndex++ % 8 !== 0) return;
    const again = replayCalls(start, first.calls);
    if (!deepEqual(first.results, again.results) || !sameState(first.final, again.final, tables))
      throw new PropertyFailure({ property: "nondeterministic", tool: first.calls.at(-1)?.name ?? "", callIndex: callSeeds.length - 1, message: "replaying the same calls from the same state gave different results or state" });
  };

  const callsArb = fc.array(fc.nat(), { minLength: 1, maxLength: options.maxCalls ?? 20, size: "max" });
  const setupMs = performance.now() - started;
  type Start = { seed?: number; pooled?: number };
  const startArbs: fc.Arbitrary<Start>[] = [];
  if (pool.length) startArbs.push(fc.nat({ max: pool.length - 1 }).map((pooled) => ({ pooled })));
  if (seeds.length) startArbs.push(fc.nat({ max: seeds.length - 1 }).map((seed) => ({ seed })));
  if (startArbs.length === 0) {
    return { env: env.name, runs: 0, calls: 0, ms: performance.now() - started, setupMs, generated, coverage };
  }
  const startArb = startArbs.length === 1 ? startArbs[0]! : fc.oneof(startArbs[0]!, startArbs[1]!);
  const startOf = (s: Start): Environment => (s.seed !== undefined ? seeds[s.seed]! : pool[s.pooled!]!);

  const property = fc.property(startArb, callsArb, (s, callSeeds) => {
    runOnce(startOf(s), callSeeds);
  });
  const details = fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.timeMs ? { interruptAfterTimeLimit: options.timeMs, markInterruptAsFailure: false } : {}),
  });

  let finding: Finding | undefined;
  if (details.failed && details.counterexample) {
    counting = false;
    const [s, callSeeds] = details.counterexample as [Start, CallSeed[]];
    const start = startOf(s);
    try {
      runOnce(start, callSeeds, true);
    } catch (err) {
      if (!(err instanceof PropertyFailure)) throw err;
      const { calls } = runCalls(start, callSeeds.slice(0, err.finding.callIndex + 1), false);
      const { callIndex: _i, ...rest } = err.finding;
      finding = { ...rest, initial: start.toJSON(), calls };
    }
    if (!finding) {
      const e = details.errorInstance;
      finding = { property: "env_fault", tool: "", message: `fuzzing failed: ${e instanceof Error ? e.message : String(e)}`, initial: start.toJSON(), calls: [] };
    }
  }
  return {
    env: env.name,
    runs: details.numRuns,
    calls: totalCalls,
    ms: performance.now() - started,
    setupMs,
    generated,
    coverage,
    ...(finding ? { finding } : {}),
  };
}

/** Lines of the coverage table, and the gaps worth a look. */
export function coverageReport(report: FuzzReport): { table: string[]; gaps: string[] } {
  const rows = report.coverage.map((c) => [
    c.tool, c.kind, String(c.calls), String(c.ok), String(c.preconditions), String(c.invalidArgs), String(c.faults),
    `${c.requires.filter((r) => r.failures > 0).length}/${c.requires.length}`,
  ]);
  const head = ["tool", "kind", "calls", "ok", "precondition", "invalid args", "faults", "requires failed"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const table = [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  const gaps: string[] = [];
  for (const c of report.coverage) {
    if (c.calls > 0 && c.ok === 0) gaps.push(`${c.tool} never succeeded in ${c.calls} calls: its success path is untested`);
    for (const r of c.requires)
      if (r.failures === 0 && c.calls > 0) gaps.push(`${r.location}: ${r.kind} "${r.message}" in ${c.tool} never failed`);
  }
  return { table, gaps };
}
