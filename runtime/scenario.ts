// Scenarios at run time: checks over the final state (with the initial state beside it),
// rewards for an episode, and the verification of a scenario's reference solution.
// Assumes checker functions emitted by the compiler (or built in memory from the same code);
// imports nothing from the compiler.
import { Ctx, Environment, type CallResult } from "./env.js";

export interface ScenarioCheckDef {
  /** the natural-language question; it names the check in rewards */
  text: string;
  /** file:line:col of the check in its source */
  location: string;
  check: (final: Ctx, initial: Ctx) => boolean;
}

export interface ToolCallSpec {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ScenarioDef {
  id: string;
  description?: string;
  task: string;
  persona?: string;
  /** the initial state, inline */
  initial?: unknown;
  /** or a JSON file, relative to the folder of `source` */
  initialFile?: string;
  /** the file the scenario was written in */
  source: string;
  checks: ScenarioCheckDef[];
  solution: ToolCallSpec[];
}

export interface CheckOutcome {
  check: string;
  passed: boolean;
  /** set when evaluating the check itself failed (e.g. it indexed a missing record) */
  error?: string;
}

/** Evaluate every check on `final`, with `initial` bound to the start of the episode. */
export function evaluateChecks(checks: readonly ScenarioCheckDef[], final: Environment, initial: Environment): CheckOutcome[] {
  const f = final.readContext();
  const i = initial.readContext();
  return checks.map((c) => {
    try {
      return { check: c.text, passed: c.check(f, i) === true };
    } catch (err) {
      return { check: c.text, passed: false, error: err instanceof Error ? err.message : String(err) };
    }
  });
}

export interface Reward {
  /** the fraction of checks that hold; null when the environment faulted (not the agent's doing) */
  reward: number | null;
  passed: number;
  total: number;
  checks: CheckOutcome[];
  calls: number;
  /** calls the agent got wrong: invalid arguments, unknown tools, failed preconditions */
  agentErrors: number;
  /** calls where the environment itself failed; an episode with any is not scored */
  envFaults: number;
  faults: { call: number; error: string; location?: string }[];
}

/** The reward of an episode: which checks hold at the end, with faults counted apart. */
export function scoreEpisode(
  checks: readonly ScenarioCheckDef[],
  final: Environment,
  initial: Environment,
  results: readonly CallResult[],
): Reward {
  const outcomes = evaluateChecks(checks, final, initial);
  const passed = outcomes.filter((o) => o.passed).length;
  const faults: Reward["faults"] = [];
  let agentErrors = 0;
  results.forEach((r, call) => {
    if (r.ok) return;
    if (r.kind === "env_fault") faults.push({ call, error: r.error, ...(r.location ? { location: r.location } : {}) });
    else agentErrors++;
  });
  const total = outcomes.length;
  return {
    reward: faults.length ? null : total === 0 ? 1 : passed / total,
    passed,
    total,
    checks: outcomes,
    calls: results.length,
    agentErrors,
    envFaults: faults.length,
    faults,
  };
}

export type VerifyProblem =
  | { kind: "initially_true"; check: number }
  | { kind: "step_failed"; step: number; result: Extract<CallResult, { ok: false }> }
  | { kind: "check_false"; check: number; error?: string }
  | { kind: "vacuous"; check: number };

/**
 * Verify a scenario against a valid initial environment (which is not changed):
 * checks false at the start, the solution runs without an error result and makes every
 * check true, and every check is false in at least one broken variant of the solution
 * (one call dropped, or stopped early), else it is vacuous.
 */
export function verifyScenario(scenario: ScenarioDef, initial: Environment): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const checks = scenario.checks;
  // `failedSomewhere[c]`: check c was false in some broken variant. Stopping before the first
  // call is not counted: every check passing the first test is false there.
  const failedSomewhere = new Array<boolean>(checks.length).fill(false);
  const mark = (env: Environment) => {
    evaluateChecks(checks, env, initial).forEach((o, c) => {
      if (!o.passed) failedSomewhere[c] = true;
    });
  };
  evaluateChecks(checks, initial, initial).forEach((o, c) => {
    if (o.passed) problems.push({ kind: "initially_true", check: c });
  });
  const run = initial.fork();
  const steps = scenario.solution;
  for (let s = 0; s < steps.length; s++) {
    if (s > 0) mark(run); // stopped early, after s calls
    const result = run.call(steps[s]!.name, steps[s]!.arguments);
    if (!result.ok) {
      problems.push({ kind: "step_failed", step: s, result });
      return problems; // what follows depends on a solution that works
    }
  }
  evaluateChecks(checks, run, initial).forEach((o, c) => {
    if (!o.passed) problems.push({ kind: "check_false", check: c, ...(o.error ? { error: o.error } : {}) });
  });
  if (problems.some((p) => p.kind === "check_false")) return problems;
  const undecided = () => failedSomewhere.some((failed, c) => !failed && !problems.some((p) => p.kind === "initially_true" && p.check === c));
  for (let drop = 0; drop < steps.length && undecided(); drop++) {
    const variant = initial.fork();
    for (let s = 0; s < steps.length; s++) if (s !== drop) variant.call(steps[s]!.name, steps[s]!.arguments);
    mark(variant);
  }
  // a check true at the start was reported already; if allowed, it guards what must not change,
  // which no broken variant is meant to upset
  const initiallyTrue = new Set(problems.flatMap((p) => (p.kind === "initially_true" ? [p.check] : [])));
  failedSomewhere.forEach((failed, c) => {
    if (!failed && !initiallyTrue.has(c)) problems.push({ kind: "vacuous", check: c });
  });
  return problems;
}

/** Replay calls on an environment, in order; every result is kept, failures included. */
export function replayCalls(env: Environment, calls: readonly { name: string; arguments?: unknown }[]): CallResult[] {
  return calls.map((c) => env.call(c.name, c.arguments ?? {}));
}
