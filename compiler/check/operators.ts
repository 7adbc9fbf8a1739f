// Operator rules: `not` and unary minus; `and`/`or` (the right side sees what the left proves),
// `??`, equality (a bare literal on one side takes its meaning from the other), `in`, ordering
// and arithmetic, `+` on strings and lists.
import type * as A from "../../grammar/ast.js";
import { T, isOptional, stripOptional, typeToString, isNumeric, isStringLike, comparableTypes, join, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import type { Cx, ExprRule } from "./context.js";
import { factsOf } from "./scope.js";

type BinaryExpr = Extract<A.Expr, { kind: "Binary" }>;

export const unaryRule: ExprRule<"Unary"> = (cx, e) => {
  if (e.op === "not") {
    const operand = cx.expectBool(e.operand, "The operand of 'not'");
    return { e: "unary", op: "not", operand, t: T.bool, span: e.span };
  }
  const operand = cx.expr(e.operand);
  if (!isNumeric(operand.t)) cx.report("ENV3004", e.span, `Cannot negate ${typeToString(operand.t)}`);
  return { e: "unary", op: "-", operand, t: operand.t.k === "int" ? T.int : T.number, span: e.span };
};

const ORDERING = ["<", "<=", ">", ">="];

export const binaryRule: ExprRule<"Binary"> = (cx, e, expected) => {
  switch (e.op) {
    case "and":
    case "or":
      return logical(cx, e);
    case "??":
      return coalesce(cx, e, expected);
    case "==":
    case "!=":
      return equality(cx, e);
    case "in":
    case "not in":
      return membership(cx, e);
    default:
      return arithmetic(cx, e);
  }
};

function logical(cx: Cx, e: BinaryExpr): IExpr {
  const op = e.op;
  const left = cx.expectBool(e.left, `The left side of '${op}'`);
  cx.scope.push();
  cx.scope.narrow(factsOf(left, op === "and"));
  const right = cx.expectBool(e.right, `The right side of '${op}'`);
  cx.scope.pop();
  return { e: "binary", op, left, right, t: T.bool, span: e.span };
}

function coalesce(cx: Cx, e: BinaryExpr, expected?: Type): IExpr {
  const left = cx.expr(e.left, expected);
  const right = cx.expr(e.right, expected ?? stripOptional(left.t));
  if (!isOptional(left.t) && left.t.k !== "error" && left.t.k !== "json")
    cx.report("ENV3001", e.left.span, `'??' needs an optional value on the left; ${typeToString(left.t)} is never null`);
  const t = join(stripOptional(left.t), right.t);
  if (!t) cx.report("ENV3001", e.span, `'??' sides differ: ${typeToString(stripOptional(left.t))} and ${typeToString(right.t)}`);
  return { e: "binary", op: e.op, left, right, t: t ?? T.error, span: e.span };
}

function equality(cx: Cx, e: BinaryExpr): IExpr {
  // a bare literal or enum name takes its meaning from the other side: check that side first
  const leftIsLiteral = e.left.kind === "String" || (e.left.kind === "Name" && !cx.scope.lookup(e.left.name) && !cx.sym.state.has(e.left.name));
  let l: IExpr;
  let right: IExpr;
  if (leftIsLiteral) {
    right = cx.expr(e.right);
    l = cx.expr(e.left, right.t.k === "null" ? undefined : right.t);
  } else {
    l = cx.expr(e.left);
    right = cx.expr(e.right, l.t.k === "null" ? undefined : l.t);
  }
  if (!comparableTypes(l.t, right.t))
    cx.report("ENV3016", e.opSpan, `${typeToString(l.t)} and ${typeToString(right.t)} are never equal`, { fix: "compare values of the same type" });
  return { e: "binary", op: e.op, left: l, right, t: T.bool, span: e.span };
}

function membership(cx: Cx, e: BinaryExpr): IExpr {
  const right = cx.expr(e.right);
  const rt = right.t;
  let left: IExpr;
  if (rt.k === "table" || rt.k === "map") {
    left = cx.expr(e.left, rt.k === "map" ? rt.key : T.string);
    if (!isStringLike(left.t)) cx.report("ENV3004", e.left.span, `Keys are strings, got ${typeToString(left.t)}`);
  } else if (rt.k === "list") {
    left = cx.expr(e.left, rt.elem);
    if (!comparableTypes(left.t, rt.elem)) cx.report("ENV3004", e.left.span, `A ${typeToString(left.t)} is never in a ${typeToString(rt)}`);
  } else if (isStringLike(rt)) {
    left = cx.expr(e.left, T.string);
    if (!isStringLike(left.t)) cx.report("ENV3004", e.left.span, `Only strings can be found in a string, got ${typeToString(left.t)}`);
  } else {
    left = cx.expr(e.left);
    if (rt.k !== "error" && rt.k !== "json") cx.report("ENV3004", e.right.span, `'in' needs a table, map, list or string on the right, got ${typeToString(rt)}`);
  }
  return { e: "binary", op: e.op, left, right, t: T.bool, span: e.span };
}

/** Ordering, `+` (numbers, strings, lists) and the other arithmetic operators. */
function arithmetic(cx: Cx, e: BinaryExpr): IExpr {
  const { op, span } = e;
  const left = cx.expr(e.left);
  const right = cx.expr(e.right, ORDERING.includes(op) ? left.t : undefined);
  const lt = left.t;
  const rtt = right.t;
  const node = (t: Type): IExpr => ({ e: "binary", op, left, right, t, span });
  const bad = (t: Type = T.error): IExpr => {
    if (lt.k !== "error" && rtt.k !== "error") {
      const opt = isOptional(lt) || isOptional(rtt);
      cx.report(opt ? "ENV3002" : "ENV3004", e.opSpan, `Cannot apply '${op}' to ${typeToString(lt)} and ${typeToString(rtt)}`, opt ? { fix: "check for null first, or use `??`" } : {});
    }
    return node(t);
  };
  if (ORDERING.includes(op)) {
    const ok = (isNumeric(lt) && isNumeric(rtt)) || (isStringLike(lt) && isStringLike(rtt));
    return ok ? node(T.bool) : bad(T.bool);
  }
  if (op === "+") {
    if (isNumeric(lt) && isNumeric(rtt)) return node(lt.k === "int" && rtt.k === "int" ? T.int : T.number);
    if (isStringLike(lt) && isStringLike(rtt) && lt.k !== "json") return node(T.string);
    if (lt.k === "list" && rtt.k === "list") {
      const j = join(lt, rtt);
      return j ? node(j) : bad();
    }
    return bad();
  }
  if (isNumeric(lt) && isNumeric(rtt)) return node(op === "/" ? T.number : lt.k === "int" && rtt.k === "int" ? T.int : T.number);
  return bad();
}
