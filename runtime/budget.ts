// The step budget of a tool call, its numbers and its fault: what a budget is by default and at
// most, what a write costs, and the env_fault result of a call that ran over (runtime/env.ts
// counts the steps in Ctx; the exceptions are in ops.ts, which generated code calls).
import { StepBudgetExceeded, MAX_CALL_DEPTH, type CallDepthExceeded } from "./ops.js";
import type { CallResult } from "./env.js";

/**
 * Evaluation steps one call may take unless the spec or the caller says otherwise. The bundled
 * specs' heaviest call (scenarios, recorded examples, fuzzing) takes under two thousand steps
 * (tests/runtime/budget.test.ts measures it); 100,000 is far from that, and a runaway call
 * reaches it in milliseconds (tens for one that writes or builds text on every step), so a
 * server's other sessions barely notice.
 */
export const DEFAULT_MAX_STEPS = 100_000;
/**
 * What one write to the state costs: copying and journaling a record (and checking it after
 * the action) takes 1-4 µs, about a hundred loop steps. At 10, a call may still write ten
 * thousand records under the default budget, and a loop of writes runs out of it in tens of
 * milliseconds rather than seconds.
 */
export const WRITE_STEPS = 10;
/** The largest budget: steps stays a small integer (a V8 Smi), which keeps the counting cheap. */
export const MAX_MAX_STEPS = 1_000_000_000;
/**
 * Ctx.steps outside tool calls: invariants and scenario checks are not budgeted, but the
 * helpers they call count like any body does. Far above any budget (steps > MAX_MAX_STEPS
 * means "lifted", however much such helpers took), and still a small integer (2^30 - 1).
 */
export const UNBUDGETED = 1_073_741_823;

/** A budget as given (a spec, a flag), made a whole number in 1..MAX_MAX_STEPS. */
export function clampSteps(n: number): number {
  if (!Number.isFinite(n)) return n > 0 ? MAX_MAX_STEPS : 1;
  return Math.min(MAX_MAX_STEPS, Math.max(1, Math.floor(n)));
}

/** The env_fault result of a call that ran over its budget or nested its calls too deep. */
export function budgetFault(err: StepBudgetExceeded | CallDepthExceeded, tool: string, budget: number): CallResult {
  if (err instanceof StepBudgetExceeded)
    return {
      ok: false,
      kind: "env_fault",
      error:
        `${tool} ran over its budget of ${budget.toLocaleString("en-US")} evaluation steps at ${err.location}: ` +
        "a loop, recursion or collection there grew past what one call may do. Bound the arguments that drive it " +
        "with a `require`, or raise the budget (`limits { steps: N }` in the spec, `--max-steps N`)",
      location: err.location,
    };
  return {
    ok: false,
    kind: "env_fault",
    error: `${tool} nested tool and helper calls more than ${MAX_CALL_DEPTH} deep at ${err.location}: a recursion that does not end soon enough`,
    location: err.location,
  };
}
