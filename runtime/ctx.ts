// What generated tool code receives as `$s`: the live state (tables, globals), new ids, the
// failure of a precondition, and the step budget's counting (steps, nested calls). One per
// environment, made by runtime/env.ts; the counting is hot: kept to a few monomorphic methods.
import type { Store, Table } from "./store.js";
import { EnvFault, PreconditionFailure, FAILED, MAX_CALL_DEPTH, overBudget, tooDeep } from "./ops.js";
import { WRITE_STEPS, UNBUDGETED } from "./budget.js";

/** What generated tool code receives: the live state and runtime services. */
export class Ctx {
  t: Record<string, Table<any>>;
  /**
   * The steps the running call has left. Tool bodies count down: one per loop iteration and per
   * tool or helper call, and the length of every collection an operation walks or builds
   * (`filter`, `sorted`, `in` on a list, `range(n)`, `xs + ys`, ...), charged before the work.
   * A statement that writes the state counts WRITE_STEPS. Below zero the call ends with
   * StepBudgetExceeded. Set by Environment.call.
   */
  steps = UNBUDGETED;
  /** tool and helper calls nested inside the running call */
  depth = 0;
  constructor(
    public store: Store,
    public checks: boolean,
  ) {
    this.t = store.tables;
  }
  /** Charge one step per element of a collection an operation is about to walk; returns it. */
  n<X extends { readonly length: number }>(xs: X, loc: string): X {
    const k = xs.length;
    if (k > this.steps) overBudget(loc);
    this.steps -= k;
    return xs;
  }
  /** A statement that writes the state (assignment, insert, delete, list change): WRITE_STEPS steps. */
  write(loc: string): void {
    if ((this.steps -= WRITE_STEPS) < 0) overBudget(loc);
  }
  /** A tool or helper called from a body: one step, one level deeper. */
  call(f: (s: Ctx, a: any) => any, a: any, loc: string): any {
    if (--this.steps < 0) overBudget(loc);
    if (++this.depth > MAX_CALL_DEPTH) tooDeep(loc);
    const r = f(this, a);
    // a throw skips this: it ends the whole call, and Environment's error handling resets depth
    this.depth--;
    return r;
  }
  get g(): any {
    return this.store.globals;
  }
  gw(): any {
    return this.store.globalsW();
  }
  newId(prefix: string): string {
    const tables = Object.values(this.store.tables);
    for (;;) {
      const id = `${prefix}_${this.store.idCounter++}`;
      if (!tables.some((t) => t.has(id))) return id;
    }
  }
  ensure(cond: boolean, message: string, loc: string) {
    if (this.checks && !cond) throw new EnvFault(message, loc);
  }
  /** the message and spec location of the precondition that stopped the running body */
  failMessage = "";
  failAt: string | undefined = undefined;
  /** A body stopped by a precondition returns this: `return $s.fail(...)`. */
  fail(message: string, location: string): typeof FAILED {
    this.failMessage = message;
    this.failAt = location;
    return FAILED;
  }
  /** The value of a tool called from an expression; its failed precondition fails the caller. */
  sure<T>(value: T | typeof FAILED): T {
    if (value === FAILED) throw new PreconditionFailure(this.failMessage, this.failAt);
    return value;
  }
}
