// Statement rules, one per statement kind, and blocks: each typed statement lowered to the
// IR. Reports unreachable statements, `else` that can never apply, assignments to what cannot
// be assigned, returns that do not fit, `break` outside loops. Narrowing: a `require`, `ensure`
// or an `if` that always exits tells what holds after it.
import type * as A from "../../grammar/ast.js";
import { T, isOptional, stripOptional, typeToString, assignable, isNumeric, isStringLike, type Type } from "../types.js";
import { conjuncts, type IExpr, type IStmt } from "../ir.js";
import type { Cx, StmtRule, StmtRules } from "./context.js";
import { factsOf, pathOf } from "./scope.js";
import { resolveType } from "./type-nodes.js";
import { checkPlace, declaredType } from "./places.js";
import { derivesFromState, effect, mutation } from "./purity.js";

/** Check a block's statements in a new frame, with `facts` known at its start. */
export function block(cx: Cx, stmts: A.Stmt[], facts?: Map<string, Type>): IStmt[] {
  cx.scope.push();
  if (facts) cx.scope.narrow(facts);
  const out: IStmt[] = [];
  let exited = false;
  let warned = false;
  for (const s of stmts) {
    if (exited && !warned) {
      cx.report("ENV4006", s.span, "This statement never runs: the block already ended");
      warned = true;
    }
    const r = cx.statement(s);
    if (!r) continue;
    out.push(r);
    if (isExit(r)) exited = true;
  }
  cx.scope.pop();
  return out;
}

function isExit(s: IStmt): boolean {
  if (s.s === "return" || s.s === "fail" || s.s === "break" || s.s === "continue") return true;
  if (s.s === "if" && s.otherwise) return alwaysExits(s.then) && alwaysExits(s.otherwise);
  return false;
}

/** Does every path through these statements end in a return or a fail? */
export function alwaysExits(stmts: IStmt[]): boolean {
  return stmts.some((s) => s.s === "return" || s.s === "fail" || (s.s === "if" && !!s.otherwise && alwaysExits(s.then) && alwaysExits(s.otherwise)));
}

/** A message (`else "..."`, `fail "..."`): a string. */
export function message(cx: Cx, e: A.Expr): IExpr {
  const m = cx.expr(e, T.string);
  if (!isStringLike(m.t) && m.t.k !== "error") cx.report("ENV3012", e.span, `A message must be a string, got ${typeToString(m.t)}`, { fix: 'write a string like "Order not found"' });
  return m;
}

const letRule: StmtRule<"Let"> = (cx, s) => {
  const declared = s.type ? resolveType(cx.sym, cx.sink, s.type) : undefined;
  cx.insertSlot = s.value;
  let value = cx.expr(s.value, declared);
  let orElse: IExpr | undefined;
  let type = value.t;
  if (s.orElse) {
    orElse = message(cx, s.orElse);
    if (value.e === "index" && (value.mode === "table" || value.mode === "map")) {
      value = { ...value, get: true };
      type = value.t;
    } else if (isOptional(value.t)) {
      type = stripOptional(value.t);
    } else if (value.t.k !== "error" && value.t.k !== "json") {
      cx.report("ENV3017", s.value.span, `This value (${typeToString(value.t)}) can never be missing, so 'else' never applies`, { fix: "remove the `else` part" });
    }
  }
  if (declared) {
    cx.expectAssignable(value.t.k === "optional" && s.orElse ? stripOptional(value.t) : value.t, declared, s.value.span);
    type = declared;
  }
  if (type.k === "void") cx.report("ENV3001", s.value.span, "This expression has no value to bind");
  cx.scope.bind(s.name, type, "let", derivesFromState(cx, value));
  return { s: "let", name: s.name.name, value, orElse, writable: false, span: s.span };
};

const assignRule: StmtRule<"Assign"> = (cx, s) => {
  const target = cx.expr(s.target);
  const isLocalRebind = target.e === "local";
  if (!isLocalRebind) checkPlace(cx, target, s.target.span);
  else {
    const local = cx.scope.lookup(target.name);
    if (local?.kind === "param") cx.report("ENV4009", s.target.span, `Parameter '${target.name}' is read-only`, { fix: `copy it first: \`let my_${target.name} = ${target.name}\`` });
    else if (local && local.kind !== "let") cx.report("ENV4005", s.target.span, `'${target.name}' cannot be assigned`);
  }
  // assigning a whole local is not a state change; writing through state (or a local read from it) is
  if (!isLocalRebind) effect(cx, target, s.span, "assignment");
  // the declared type, not a narrowed one: `x.note = null` is fine after `require x.note != null`
  const declared = declaredType(cx, target);
  const value = cx.expr(s.value, stripOptional(declared).k === "error" ? undefined : declared);
  const key = pathOf(target);
  if (key && declared !== target.t) cx.scope.setNarrowed(key, declared);
  if (s.op !== "=") {
    const ok = (isNumeric(target.t) && isNumeric(value.t)) || (s.op === "+=" && (target.t.k === "string" || target.t.k === "list"));
    if (!ok) cx.report("ENV3004", s.span, `'${s.op}' needs numbers (or strings/lists for +=), got ${typeToString(target.t)} and ${typeToString(value.t)}`);
    else if (target.t.k === "int" && value.t.k === "number") cx.report("ENV3001", s.value.span, "Adding a number to an int field: round it first (`round(x)`)");
  } else cx.expectAssignable(value.t, declared, s.value.span);
  return { s: "assign", target, op: s.op, value, span: s.span };
};

const ifRule: StmtRule<"If"> = (cx, s) => {
  const cond = cx.expectBool(s.cond, "An if condition");
  const then = block(cx, s.then.statements, factsOf(cond, true));
  const otherwise = s.otherwise ? block(cx, s.otherwise.statements, factsOf(cond, false)) : undefined;
  if (!otherwise && alwaysExits(then)) cx.scope.narrow(factsOf(cond, false));
  return { s: "if", cond, then, otherwise, span: s.span };
};

/** The types of a `for`'s variables: element (list, table, map value) or index/key and element. */
function loopVariables(cx: Cx, s: Extract<A.Stmt, { kind: "For" }>, it: Type): [Type, Type | undefined] {
  if (it.k === "list") return s.second ? [T.int, it.elem] : [it.elem, undefined];
  if (it.k === "table") {
    const ent = cx.sym.entities.get(it.entity)!.type;
    return s.second ? [T.string, ent] : [ent, undefined];
  }
  if (it.k === "map") return [it.key, it.value];
  if (it.k !== "error" && it.k !== "json")
    cx.report("ENV3014", s.iterable.span, `Cannot iterate over ${typeToString(it)}`, isOptional(it) ? { fix: "check it is not null first" } : {});
  return [T.error, undefined];
}

const forRule: StmtRule<"For"> = (cx, s) => {
  const iterable = cx.expr(s.iterable);
  const [first, second] = loopVariables(cx, s, iterable.t);
  cx.scope.push();
  const loopFromState = derivesFromState(cx, iterable);
  cx.scope.bind(s.name, first, "loop", loopFromState);
  if (s.second) cx.scope.bind(s.second, second ?? T.error, "loop", loopFromState);
  cx.loopDepth++;
  const body = block(cx, s.body.statements);
  cx.loopDepth--;
  cx.scope.pop();
  return { s: "for", name: s.name.name, second: s.second?.name, iterable, body, writable: false, span: s.span };
};

const requireRule: StmtRule<"Require"> = (cx, s) => {
  const cond = cx.expectBool(s.cond, "A require condition");
  const msg = message(cx, s.message);
  cx.scope.narrow(factsOf(cond, true));
  return { s: "require", cond, message: msg, span: s.span };
};

const ensureRule: StmtRule<"Ensure"> = (cx, s) => {
  const cond = cx.expectBool(s.cond, "An ensure condition");
  // an ensure states what cannot happen (`ensure x != null` after a lookup an earlier
  // require makes certain): what follows may rely on it, as after a require
  const facts = factsOf(cond, true);
  cx.scope.narrow(facts);
  // an assertion made only of null tests (`ensure x != null`) is what the code after it
  // relies on: the emitter checks it even with checks off (a postcondition that happens to
  // test a field for null stays a postcondition)
  const narrows = facts.size > 0 && conjuncts(cond).every((c) => c.e === "binary" && c.op === "!=" && ((c.left.e === "lit" && c.left.value === null) || (c.right.e === "lit" && c.right.value === null)));
  return { s: "ensure", cond, message: s.message ? message(cx, s.message) : undefined, ...(narrows ? { narrows: true } : {}), span: s.span };
};

const returnRule: StmtRule<"Return"> = (cx, s) => {
  const span = s.span;
  const rt = cx.currentTool?.returnType;
  if (!s.value) {
    if (rt && rt.k !== "error") cx.report("ENV3018", span, `'${cx.currentTool!.decl.name.name}' must return ${typeToString(rt)}`);
    return { s: "return", span };
  }
  if (!rt) {
    cx.report("ENV4008", s.value.span, `'${cx.currentTool?.decl.name.name ?? "this"}' declares no return type`, { fix: "add `-> Type` to the signature" });
    return { s: "return", value: cx.expr(s.value), span };
  }
  const value = cx.expr(s.value, rt);
  if (!assignable(value.t, rt))
    cx.report(isOptional(value.t) && assignable(stripOptional(value.t), rt) ? "ENV3002" : "ENV3018", s.value.span,
      `Returns ${typeToString(value.t)} where ${typeToString(rt)} is declared`,
      isOptional(value.t) ? { fix: "check for null first, or declare the return type optional" } : {});
  return { s: "return", value, span };
};

const deleteRule: StmtRule<"Delete"> = (cx, s) => {
  mutation(cx, s.span, "delete");
  const t = s.target;
  if (t.kind !== "Index") {
    cx.report("ENV4011", t.span, "delete takes a table or map entry, like `delete books[id]`");
    return undefined;
  }
  const target = cx.expr(t);
  if (target.e !== "index" || (target.mode !== "table" && target.mode !== "map")) {
    if (target.t.k !== "error") cx.report("ENV4011", t.span, "delete takes a table or map entry, like `delete books[id]`");
    return undefined;
  }
  if (target.mode === "map") checkPlace(cx, target.object, t.span);
  return { s: "delete", target, span: s.span };
};

const loopExitRule = (cx: Cx, s: Extract<A.Stmt, { kind: "Break" | "Continue" }>): IStmt => {
  if (cx.loopDepth === 0) cx.report("ENV4012", s.span, `'${s.kind.toLowerCase()}' outside a loop`);
  return { s: s.kind === "Break" ? "break" : "continue", span: s.span };
};

export const statementRules: StmtRules = {
  Let: letRule,
  Assign: assignRule,
  ExprStmt: (cx, s) => {
    cx.insertSlot = s.expr;
    return { s: "expr", expr: cx.expr(s.expr), span: s.span };
  },
  If: ifRule,
  For: forRule,
  Require: requireRule,
  Fail: (cx, s) => ({ s: "fail", message: message(cx, s.message), span: s.span }),
  Ensure: ensureRule,
  Return: returnRule,
  Delete: deleteRule,
  Break: loopExitRule,
  Continue: loopExitRule,
};
