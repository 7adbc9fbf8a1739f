// Scenarios at run time: checks over the final state (with the initial state and the agent's
// reply beside it), outcomes (the final state equals what the reference solution leaves),
// rewards for an episode as named parts, and the verification of a scenario's reference
// solution and reference reply.
// Assumes checker functions emitted by the compiler (or built in memory from the same code);
// imports nothing from the compiler.
import { Ctx, Environment, diffIsEmpty, type CallResult, type StateDiff } from "./env.js";

export interface ScenarioCheckDef {
  /** the natural-language question; it names the check in rewards */
  text: string;
  /** file:line:col of the check in its source */
  location: string;
  /** `reply`: everything the agent said to the user in the episode, in order ("" when nothing) */
  check: (final: Ctx, initial: Ctx, reply: string) => boolean;
  /** the check reads `reply`: an answer check, judged on what the agent said */
  readsReply?: boolean;
}

/**
 * The final state, or some of its fields, must equal what the scenario's reference solution
 * leaves from the same initial state: tau-bench's reward, which catches collateral changes.
 */
export interface ScenarioOutcomeDef {
  text: string;
  location: string;
  /** the state fields compared; undefined: the whole state */
  fields?: string[];
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
  /** a reply that answers the task (what verify proves the answer checks accept) */
  reply?: string;
  outcomes?: ScenarioOutcomeDef[];
  /** "all": the reward is 1 when every part holds, else 0 (tau-bench's); "fraction" (default): the fraction of parts that hold */
  reward?: "all" | "fraction";
}

export interface CheckOutcome {
  check: string;
  passed: boolean;
  /** set when evaluating the check itself failed (e.g. it indexed a missing record) */
  error?: string;
  /** what kind of reward part: a state check, an answer check (reads the reply), an outcome */
  part?: "answer" | "outcome";
  /** an outcome that failed: what differs between the final state and the reference's */
  diff?: StateDiff;
}

/** Evaluate every check on `final`, with `initial` bound to the start of the episode and `reply` to what the agent said. */
export function evaluateChecks(checks: readonly ScenarioCheckDef[], final: Environment, initial: Environment, reply = ""): CheckOutcome[] {
  const f = final.readContext();
  const i = initial.readContext();
  return checks.map((c) => {
    const part = c.readsReply ? { part: "answer" as const } : {};
    try {
      return { check: c.text, passed: c.check(f, i, reply) === true, ...part };
    } catch (err) {
      return { check: c.text, passed: false, error: err instanceof Error ? err.message : String(err), ...part };
    }
  });
}

/** The environment the scenario's reference solution leaves, from `initial` (which is not changed). */
export function referenceFinal(scenario: Pick<ScenarioDef, "solution">, initial: Environment): Environment {
  const run = initial.fork();
  replayCalls(run, scenario.solution);
  return run;
}

/** The diff `final` - `reference` restricted to `fields` (all when undefined). */
function outcomeDiff(final: Environment, reference: Environment, fields: readonly string[] | undefined): StateDiff {
  const d = reference.diff(final);
  if (!fields) return d;
  const keep = new Set(fields);
  return {
    tables: Object.fromEntries(Object.entries(d.tables).filter(([t]) => keep.has(t))),
    globals: Object.fromEntries(Object.entries(d.globals).filter(([g]) => keep.has(g))),
  };
}

/** Evaluate outcomes: each holds when the final state equals `reference` on its fields. */
export function evaluateOutcomes(outcomes: readonly ScenarioOutcomeDef[], final: Environment, reference: Environment): CheckOutcome[] {
  return outcomes.map((o) => {
    const diff = outcomeDiff(final, reference, o.fields);
    return diffIsEmpty(diff) ? { check: o.text, passed: true, part: "outcome" } : { check: o.text, passed: false, part: "outcome", diff };
  });
}

export interface Reward {
  /**
   * the fraction of parts (checks, answer checks, outcomes) that hold, or with `reward "all"`
   * 1 when all hold and else 0; null when the environment faulted (not the agent's doing)
   */
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

/** What scoring needs of a scenario: its checks, and where it has them its outcomes, solution and reward mode. */
export type Scored = Pick<ScenarioDef, "checks"> & Partial<Pick<ScenarioDef, "outcomes" | "solution" | "reward">>;

/**
 * The reward of an episode: which checks (with `reply`, what the agent said) and outcomes hold
 * at the end, with faults counted apart. `scenario`: the scenario, or only its checks (the
 * form this function took before outcomes existed). Outcomes compare with the reference
 * solution replayed from `initial`.
 */
export function scoreEpisode(
  scenario: Scored | readonly ScenarioCheckDef[],
  final: Environment,
  initial: Environment,
  results: readonly CallResult[],
  reply = "",
): Reward {
  const sc: Scored = Array.isArray(scenario) ? { checks: scenario as ScenarioCheckDef[] } : (scenario as Scored);
  const outcomes = evaluateChecks(sc.checks, final, initial, reply);
  if (sc.outcomes?.length) outcomes.push(...evaluateOutcomes(sc.outcomes, final, referenceFinal({ solution: sc.solution ?? [] }, initial)));
  const passed = outcomes.filter((o) => o.passed).length;
  const faults: Reward["faults"] = [];
  let agentErrors = 0;
  results.forEach((r, call) => {
    if (r.ok) return;
    if (r.kind === "env_fault") faults.push({ call, error: r.error, ...(r.location ? { location: r.location } : {}) });
    else agentErrors++;
  });
  const total = outcomes.length;
  const fraction = total === 0 ? 1 : passed / total;
  return {
    reward: faults.length ? null : sc.reward === "all" ? (passed === total ? 1 : 0) : fraction,
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
 * checks false at the start (with an empty reply), the solution runs without an error result
 * and with the reference reply makes every check true, and every check is false in at least
 * one broken variant of the solution (one call dropped, or stopped early; with no reply, so an
 * answer check is decided by the empty reply), else it is vacuous. Outcomes hold after the
 * solution by definition, and may hold at the start (they guard what must not change).
 */
export function verifyScenario(scenario: ScenarioDef, initial: Environment): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const checks = scenario.checks;
  // `failedSomewhere[c]`: check c was false in some broken variant. Stopping before the first
  // call is not counted: every check passing the first test is false there.
  const failedSomewhere = new Array<boolean>(checks.length).fill(false);
  const mark = (env: Environment) => {
    evaluateChecks(checks, env, initial, "").forEach((o, c) => {
      if (!o.passed) failedSomewhere[c] = true;
    });
  };
  evaluateChecks(checks, initial, initial, "").forEach((o, c) => {
    if (o.passed) problems.push({ kind: "initially_true", check: c });
    // an answer check that an empty reply fails measures the reply, whatever the state
    else if (checks[c]!.readsReply) failedSomewhere[c] = true;
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
  evaluateChecks(checks, run, initial, scenario.reply ?? "").forEach((o, c) => {
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
