// Purity: what changes state. In a body, a write (assignment through the state, insert, delete,
// a list mutator, new_id) where the body may not write is ENV4001. After every body is checked,
// writes and failing preconditions propagate through calls to a fixpoint, and a query (or an
// invariant) that calls something that writes is ENV4002.
import type * as A from "../../grammar/ast.js";
import type { IExpr, ITool } from "../ir.js";
import type { Cx } from "./context.js";
import type { Sink } from "./sink.js";

/** A tool as the tools pass leaves it: with the calls its body makes, for this pass. */
export type ToolWithCalls = ITool & { calls: { callee: string; span: A.Span }[] };

/** A state change at `span`: refused where the body may not write, and noted. */
export function mutation(cx: Cx, span: A.Span, what: string): void {
  const k = cx.kind;
  if (k === "query" || k === "invariant" || k === "check" || k === "default") {
    cx.report("ENV4001", span, `${k === "query" ? `Query '${cx.currentTool?.decl.name.name}'` : "This expression"} cannot change state (${what})`, {
      fix: k === "query" ? "declare it as an `action`" : undefined,
    });
  }
  cx.writes = true;
}

/** Does this value come from the state (so that writing through it changes the state)? */
export function derivesFromState(cx: Cx, e: IExpr): boolean {
  switch (e.e) {
    case "state":
    case "call":
    case "insert":
      return true;
    case "local":
      return cx.scope.lookup(e.name)?.fromState ?? true;
    case "member":
    case "index":
      return derivesFromState(cx, e.object);
    case "builtin":
      return e.args.length > 0 && derivesFromState(cx, e.args[0]!);
    case "ternary":
      return derivesFromState(cx, e.then) || derivesFromState(cx, e.otherwise);
    case "binary":
      return e.op === "??" && (derivesFromState(cx, e.left) || derivesFromState(cx, e.right));
    default:
      return false;
  }
}

/** A write through `target`: a state change unless it only touches a fresh local value. */
export function effect(cx: Cx, target: IExpr, span: A.Span, what: string): void {
  if (derivesFromState(cx, target)) mutation(cx, span, what);
}

/**
 * Propagate writes and failing preconditions through calls (a callee's write is its caller's,
 * and so is its failure), then refuse queries and invariants that call something that writes.
 * Drops each tool's `calls`, which only this pass needs.
 */
export function purityPass(tools: ITool[], invariantCalls: ReadonlyMap<string, A.Span>, sink: Sink): ITool[] {
  const byName = new Map(tools.map((t) => [t.name, t as ToolWithCalls]));
  propagate(byName);
  for (const t of byName.values()) {
    if (t.kind === "query") {
      for (const c of t.calls) {
        const callee = byName.get(c.callee);
        if (callee?.writes)
          sink.report("ENV4002", c.span, `Query '${t.name}' calls '${c.callee}', which changes state`, {
            related: [{ file: sink.file, span: callee.span, message: `'${c.callee}' is declared here` }],
            fix: `make '${t.name}' an action, or keep '${c.callee}' from writing`,
          });
      }
    }
    delete (t as { calls?: unknown }).calls;
  }
  for (const [name, span] of invariantCalls) {
    const callee = byName.get(name);
    if (callee?.writes) sink.report("ENV4002", span, `An invariant calls '${name}', which changes state`);
  }
  return tools;
}

function propagate(byName: Map<string, ToolWithCalls>): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of byName.values()) {
      if (!t.writes && t.calls.some((c) => byName.get(c.callee)?.writes)) {
        t.writes = true;
        changed = true;
      }
      if (!t.fails && t.calls.some((c) => byName.get(c.callee)?.fails)) {
        t.fails = true;
        changed = true;
      }
    }
  }
}
