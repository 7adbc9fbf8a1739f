// The bodies pass: tool, helper and invariant bodies typed and lowered to the IR, each in a
// fresh context over the read-only symbol table. Records what each body calls (for the purity
// pass), whether it writes or can fail, which locals must hold writable copies of state records,
// and for invariants which state fields they read and whether they are per-record.
import type * as A from "../../grammar/ast.js";
import { typeToString } from "../types.js";
import { preconditionsIn, type IExpr, type IInvariant, type ITool } from "../ir.js";
import { forEachChild, type INode } from "../ir-walk.js";
import type { Cx } from "./context.js";
import { alwaysExits, block } from "./statements.js";
import { markWritable } from "./writable.js";
import type { ToolWithCalls } from "./purity.js";

/** Check every tool's body (signatures are in the symbol table already). */
export function toolsPass(cx: Cx): ToolWithCalls[] {
  const out: ToolWithCalls[] = [];
  for (const sig of cx.sym.tools.values()) {
    const d = sig.decl;
    cx.begin(d.toolKind, sig);
    for (const p of sig.params) {
      const decl = d.params.find((x) => x.name.name === p.name)!;
      cx.scope.bind(decl.name, p.type, "param");
    }
    const body = block(cx, d.body.statements);
    if (sig.returnType && sig.returnType.k !== "error" && !alwaysExits(body)) {
      cx.report("ENV4007", d.name.span, `'${d.name.name}' returns ${typeToString(sig.returnType)} but can reach its end without returning`, {
        fix: "add a `return` (or `fail`) at the end",
      });
    }
    cx.scope.pop();
    markWritable(body);
    out.push({
      name: d.name.name,
      kind: d.toolKind,
      params: sig.params,
      returnType: sig.returnType,
      description: d.description,
      body,
      writes: cx.writes,
      fails: preconditionsIn(body).length > 0,
      span: d.name.span,
      calls: cx.calls,
    });
  }
  cx.currentTool = undefined;
  return out;
}

/** Check every invariant; also the tools each one calls (an invariant may not call a writer). */
export function invariantsPass(ast: A.SpecFile, cx: Cx): { invariants: IInvariant[]; calls: Map<string, A.Span> } {
  const invariants: IInvariant[] = [];
  const calls = new Map<string, A.Span>();
  for (const d of ast.decls) {
    if (d.kind !== "Invariant") continue;
    cx.begin("invariant", cx.currentTool);
    const expr = cx.expectBool(d.expr, "An invariant");
    cx.scope.pop();
    for (const c of cx.calls) calls.set(c.callee, c.span);
    invariants.push({ name: d.name.name, description: d.description, expr, perRecord: perRecordForm(expr), reads: stateReads(expr), span: d.span });
  }
  return { invariants, calls };
}

/** `all x in table [where c]: body` (or `table.all(x => body)`): re-checked only on changed records. */
function perRecordForm(expr: IExpr): IInvariant["perRecord"] {
  if (expr.e === "quant" && expr.quantifier === "all" && expr.collection.e === "state" && expr.collection.table)
    return { table: expr.collection.field, variable: expr.variable, where: expr.where, body: expr.body };
  if (
    expr.e === "builtin" && expr.fn === "table.all" && expr.args[0]!.e === "state" && expr.args[1]!.e === "lambda" &&
    expr.args[1]!.params.length === 1
  )
    return { table: (expr.args[0] as { field: string }).field, variable: expr.args[1]!.params[0]!, body: expr.args[1]!.body };
  return undefined;
}

/**
 * The state fields an expression reads, each once, and "*" for each tool call (a call may read
 * anything). The order is that of a depth-first walk taking the last child first, which the
 * emitted code has always listed them in.
 */
function stateReads(e: IExpr): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const stack: INode[] = [e];
  const push = (c: INode) => void stack.push(c);
  while (stack.length) {
    const node = stack.pop()!;
    if ("e" in node && node.e === "state" && !seen.has(node.field)) {
      seen.add(node.field);
      out.push(node.field);
    }
    if ("e" in node && node.e === "call") out.push("*");
    forEachChild(node, push);
  }
  return out;
}
