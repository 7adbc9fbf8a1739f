// `envc fuzz`: property-based testing of every tool of a compiled spec with fast-check.
// A run is an initial state (a sample or scenario state, or one generated from the schema) and
// a sequence of call seeds; each seed picks a tool and, through a PRNG, arguments drawn from
// the live state. After every call: no environment fault (ensure and invariant violations are
// faults), a failed call or a query leaves the state as it was, a result has its declared
// type; each run is replayed to prove it deterministic. A failure is shrunk by fast-check and
// returned as an initial state and concrete calls that `envc replay` reproduces.
import fc from "fast-check";
import { Environment, StateError, diffIsEmpty, deepEqual, type CallResult, type EnvDefinition } from "../../runtime/index.js";
import { preconditionsIn, type IEnv, type IExpr, type IStmt, type ITool } from "../ir.js";
import { ArgMaker, prng, type Unmet } from "./args.js";
import { Planner } from "./planner.js";
import { toolGuide, type Pred } from "./guards.js";
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
  /**
   * findings already known (their findingKey): a call that shows one again is counted in
   * FuzzReport.known and the run goes on as after a refused call (the runtime rolled it back),
   * so that fuzzing looks for other findings (`envc mutate` on a spec whose original has one)
   */
  known?: ReadonlySet<string>;
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
  /** why it can never fail, when that is known statically (it is then not counted in the summary) */
  cannotFail?: string;
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
  /** for a tool that never succeeded: the precondition that refused it most, and why */
  blocked?: Blocked;
}

export interface Blocked {
  location: string;
  kind: string;
  message: string;
  failures: number;
  /** what the require asks, as the generator read it, and the actions that could make it hold */
  why: string;
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
  /** calls that showed a finding given in FuzzOptions.known again (not counted as findings) */
  known?: number;
}

/**
 * What identifies a finding across runs and mutants: its property, its tool and where it
 * happened (the invariant, ensure or expression), or without a location its message.
 */
export function findingKey(f: Pick<Finding, "property" | "tool" | "location" | "message">): string {
  return `${f.property}\u0000${f.tool}\u0000${f.location ?? (f.property === "env_fault" ? f.message : "")}`;
}

/** One call: the tool is `seed % tools`, the rest seeds the PRNG that draws its arguments. */
type CallSeed = number;

// the planner's odds: plan for an unmet require, how deep, retry a refused call
const PLAN = 0.6;
const PLAN_DEPTH = 3;
const RETRY = 0.35;

class PropertyFailure extends Error {
  /** seedIndex: the call seed being run; callIndex: the concrete call (planned ones counted) */
  constructor(readonly finding: Omit<Finding, "initial" | "calls"> & { seedIndex: number; callIndex: number }) {
    super(finding.message);
  }
}

/** Each precondition statement of a tool body (what coverage counts), in source order. */
function preconditionsOf(env: IEnv, tool: ITool): RequireCoverage[] {
  const loc = (s: IStmt) => `${env.file}:${s.span.start.line}:${s.span.start.column}`;
  const text = (e: { e: string; value?: unknown; parts?: unknown[] } | undefined) =>
    e?.e === "lit" ? String(e.value) : e?.e === "str" ? (e.parts ?? []).map((p) => (typeof p === "string" ? p : "${...}")).join("") : "...";
  return preconditionsIn(tool.body).map((s) => {
    const cov: RequireCoverage = { location: loc(s), kind: s.s === "let" ? "let else" : s.s, message: text((s.s === "let" ? s.orElse : s.message) as never), failures: 0 };
    if (s.s === "let" && lookupByReference(env, s.value)) cov.cannotFail = "a lookup by a reference field, and references are checked on every state";
    return cov;
  });
}

/**
 * `drones[m.drone_id]` where drone_id is a (non-optional) `ref Drone` and drones the table of
 * Drone: the runtime checks references on every state it accepts and after every action, so
 * the record is always there and the `else` can never be taken.
 */
export function lookupByReference(env: IEnv, e: IExpr): boolean {
  if (e.e !== "index" || e.mode !== "table" || e.object.e !== "state" || e.index.t.k !== "ref") return false;
  const table = env.state.find((f) => f.name === (e.object as { field: string }).field);
  return table?.table === e.index.t.entity;
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

/** The seed states (JSON) that are valid states of `def`, loaded; the others are left out. */
export function validSeedStates(def: EnvDefinition, states: readonly unknown[]): Environment[] {
  const out: Environment[] = [];
  for (const s of states) {
    try {
      out.push(Environment.createFrom(def, s));
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
    }
  }
  return out;
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
  let knownSeen = 0;
  const known = options.known;
  /** Throw the failure, unless it is a known finding: then count it and go on (false). */
  const fail = (f: ConstructorParameters<typeof PropertyFailure>[0]): false => {
    if (known?.has(findingKey(f))) {
      if (counting) knownSeen++;
      return false;
    }
    throw new PropertyFailure(f);
  };

  // seed states are validated once and forked per run
  const seeds = validSeedStates(def, seedStates);
  // generated states, made once: valid ones generated from the schema and invariants, and a
  // third reached by random successful actions from the seed states; smallest first so that
  // shrinking leans to small states; runs fork them
  const pool: Environment[] = [];
  if (options.generated !== false || seeds.length === 0) pool.push(...generatedPool(env, def, options.seed, options.poolSize ?? 24, generated, seeds));

  const planner = new Planner(env, tools);

  /**
   * Run calls from an initial environment; the concrete calls and results, or a
   * PropertyFailure. A call seed is one call of its tool, but may bring more: when no record
   * meets a parameter's requires, an action that can make one is run first (up to three deep:
   * create a claim, submit it, approve it, then pay it), and a call refused by a precondition
   * is tried again with new arguments now and then. All of them are checked and recorded, so
   * that a replay of the recorded calls is the same run.
   */
  const runCalls = (start: Environment, callSeeds: readonly CallSeed[], check: boolean): { calls: FuzzCall[]; results: CallResult[]; final: Environment } => {
    const live = start.fork();
    const calls: FuzzCall[] = [];
    const results: CallResult[] = [];
    maker.beginRun();
    let seedIndex = 0;
    const exec = (ti: number, args: Record<string, unknown>): CallResult => {
      const tool = tools[ti]!;
      const mark = live.checkpoint();
      const result = live.call(tool.name, args);
      calls.push({ name: tool.name, arguments: args });
      results.push(result);
      const callIndex = calls.length - 1;
      if (result.ok && tool.kind === "action") maker.noteSuccess(tool, args, result.value);
      if (!check) return result;
      const cov = coverage[ti]!;
      if (counting) {
        totalCalls++;
        cov.calls++;
      }
      if (result.ok) {
        if (counting) cov.ok++;
        if (tool.kind === "query" && live.changedSince(mark))
          fail({ property: "query_changed_state", tool: tool.name, seedIndex, callIndex, message: `query ${tool.name} changed the state` });
        if (tool.returnType) {
          const problem = typeProblem(tool.returnType, result.value, env);
          if (problem)
            fail({ property: "result_type", tool: tool.name, seedIndex, callIndex, location: `${env.file}:${tool.span.start.line}:${tool.span.start.column}`, message: `${tool.name} returned a value that is not its declared type: ${problem}` });
        }
        return result;
      }
      if (result.kind === "env_fault") {
        if (counting) cov.faults++;
        fail({ property: "env_fault", tool: tool.name, seedIndex, callIndex, location: result.location, message: `environment fault in ${tool.name}: ${result.error}` });
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
        fail({ property: "failed_call_changed_state", tool: tool.name, seedIndex, callIndex, message: `a failed call of ${tool.name} (${result.kind}: ${result.error}) changed the state` });
      return result;
    };
    /** Run one of the actions that can make `unmet` hold (picked with `rand`); whether it succeeded. */
    const enable = (unmet: Unmet, rand: () => number, depth: number): boolean => {
      const enablers = planner.enablersFor(unmet);
      if (!enablers.length) return false;
      const en = enablers[Math.floor(rand() * enablers.length)]!;
      return callPlanned(en.tool, rand, depth, en.force).ok;
    };
    /** One call of a tool, after the actions that can make its requires hold (planned). */
    const callPlanned = (ti: number, rand: () => number, depth: number, force?: Record<string, unknown>): CallResult => {
      const tool = tools[ti]!;
      let args = maker.make(tool, live, rand, start, force);
      // what to plan for: a record meeting a parameter's requires, or (a require is to be seen
      // failing, but no record breaks it) one that breaks it, then the call made again
      let target: { unmet: Unmet; violate?: { param: string; index: number } } | undefined;
      if (maker.unmet.length && depth < PLAN_DEPTH && rand() < PLAN) target = { unmet: maker.unmet[Math.floor(rand() * maker.unmet.length)]! };
      else if (maker.unbroken && depth < PLAN_DEPTH && rand() < PLAN)
        target = { unmet: maker.unbroken.unmet, violate: { param: maker.unbroken.unmet.param, index: maker.unbroken.index } };
      if (target && enable(target.unmet, rand, depth + 1)) args = maker.make(tool, live, rand, start, force, target.violate);
      return exec(ti, args);
    };
    for (; seedIndex < callSeeds.length; seedIndex++) {
      const cs = callSeeds[seedIndex]!;
      const ti = cs % tools.length;
      const rand = prng(Math.floor(cs / tools.length));
      const result = callPlanned(ti, rand, 0);
      if (!result.ok && result.kind === "precondition" && rand() < RETRY) {
        // refused: when the require that said no is about a parameter's record, first run an
        // action that can make a record meet it, then try again
        const at = live.lastPreconditionAt;
        const unmet = at ? planner.unmetAt(tools[ti]!, at) : undefined;
        if (unmet) enable(unmet, rand, 1);
        callPlanned(ti, rand, 1);
      }
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
      throw new PropertyFailure({ property: "nondeterministic", tool: first.calls.at(-1)?.name ?? "", seedIndex: callSeeds.length - 1, callIndex: first.calls.length - 1, message: "replaying the same calls from the same state gave different results or state" });
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
      const { calls } = runCalls(start, callSeeds.slice(0, err.finding.seedIndex + 1), false);
      calls.length = Math.min(calls.length, err.finding.callIndex + 1);
      const { callIndex: _i, seedIndex: _s, ...rest } = err.finding;
      finding = { ...rest, initial: start.toJSON(), calls };
    }
    if (!finding) {
      const e = details.errorInstance;
      finding = { property: "env_fault", tool: "", message: `fuzzing failed: ${e instanceof Error ? e.message : String(e)}`, initial: start.toJSON(), calls: [] };
    }
  }
  coverage.forEach((c, ti) => {
    if (c.calls > 0 && c.ok === 0) {
      const b = blockedBy(env, tools[ti]!, c, planner, coverage);
      if (b) c.blocked = b;
    }
  });
  return {
    env: env.name,
    runs: details.numRuns,
    calls: totalCalls,
    ms: performance.now() - started,
    setupMs,
    generated,
    coverage,
    ...(finding ? { finding } : {}),
    ...(known ? { known: knownSeen } : {}),
  };
}

/**
 * Why a tool never succeeded: the precondition that refused it most often, what the generator
 * understood it to ask (a condition on a parameter's record), and which actions could make
 * it hold, with how often they succeeded.
 */
function blockedBy(env: IEnv, tool: ITool, c: ToolCoverage, planner: Planner, coverage: readonly ToolCoverage[]): Blocked | undefined {
  if (c.invalidArgs === c.calls)
    return { location: `${env.file}:${tool.span.start.line}:${tool.span.start.column}`, kind: "arguments", message: "", failures: c.invalidArgs, why: "every call's arguments were refused by the tool's argument schema" };
  const top = [...c.requires].sort((a, b) => b.failures - a.failures)[0];
  if (!top || top.failures === 0) return undefined;
  const guide = toolGuide(env, tool);
  const asks: string[] = [];
  const enablers = new Set<string>();
  for (const [param, g] of guide.params) {
    const role = g.role;
    if (!role || (role.kind !== "key" && role.kind !== "field")) continue;
    const preds = role.preds.filter((p) => p.at === top.location);
    if (preds.length === 0) continue;
    asks.push(`${param}: a record of ${role.table} with ${preds.map(describePred).join(" and ")}`);
    for (const en of planner.enablersFor({ tool: tool.name, param, table: role.table, preds: role.preds }))
      enablers.add(`${coverage[en.tool]!.tool} (${coverage[en.tool]!.ok} successes)`);
  }
  let why: string;
  if (asks.length === 0) why = "its condition is not one the argument generator can read (a comparison of a parameter's record field with a literal, a parameter or a state field); arguments for it were drawn at random";
  else {
    why = `it asks ${asks.join("; ")}; no record met it in the states reached`;
    why += enablers.size ? `; actions that can make one: ${[...enablers].join(", ")}` : "; no action makes such a record (only an initial state can hold one)";
  }
  return { location: top.location, kind: top.kind, message: top.message, failures: top.failures, why };
}

function describePred(p: Pred): string {
  const field = p.via ? `${p.path[0]} -> ${p.via}.${p.path[1]}` : p.path.join(".");
  const v = p.value;
  const value = "lit" in v ? JSON.stringify(v.lit) : "param" in v ? `parameter ${v.param}` : v.global;
  return `${field} ${p.op} ${value}`;
}

/** How much of a spec fuzzing reached: tools that succeeded at least once, requires that failed at least once. */
export function coverageSummary(report: Pick<FuzzReport, "coverage">): { tools: number; reached: number; requires: number; requiresFailed: number; cannotFail: number } {
  const c = report.coverage;
  return {
    tools: c.length,
    reached: c.filter((t) => t.ok > 0).length,
    requires: c.reduce((n, t) => n + t.requires.filter((r) => !r.cannotFail).length, 0),
    requiresFailed: c.reduce((n, t) => n + t.requires.filter((r) => r.failures > 0 && !r.cannotFail).length, 0),
    cannotFail: c.reduce((n, t) => n + t.requires.filter((r) => r.cannotFail).length, 0),
  };
}

/** Lines of the coverage table (ending with the summary line), and the gaps worth a look. */
export function coverageReport(report: FuzzReport): { table: string[]; gaps: string[] } {
  const rows = report.coverage.map((c) => [
    c.tool, c.kind, String(c.calls), String(c.ok), String(c.preconditions), String(c.invalidArgs), String(c.faults),
    `${c.requires.filter((r) => r.failures > 0 && !r.cannotFail).length}/${c.requires.filter((r) => !r.cannotFail).length}`,
  ]);
  const head = ["tool", "kind", "calls", "ok", "precondition", "invalid args", "faults", "requires failed"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const sum = coverageSummary(report);
  const pct = sum.requires ? ` (${Math.round((100 * sum.requiresFailed) / sum.requires)}%)` : "";
  const table = [
    line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line),
    `reached ${sum.reached}/${sum.tools} tools; ${sum.requiresFailed}/${sum.requires} requires failed at least once${pct}` +
      (sum.cannotFail ? `; ${sum.cannotFail} more cannot fail (lookups by a checked reference)` : ""),
  ];
  const gaps: string[] = [];
  for (const c of report.coverage) {
    if (c.calls > 0 && c.ok === 0) {
      const b = c.blocked;
      gaps.push(
        `${c.tool} never succeeded in ${c.calls} calls: its success path is untested` +
          (b ? (b.kind === "arguments" ? `; ${b.why}` : `; most often refused by ${b.kind} "${b.message}" at ${b.location} (${b.failures} times): ${b.why}`) : ""),
      );
    }
    for (const r of c.requires)
      if (r.failures === 0 && c.calls > 0 && !r.cannotFail) gaps.push(`${r.location}: ${r.kind} "${r.message}" in ${c.tool} never failed`);
  }
  return { table, gaps };
}
