// The one walker over the IR: the child nodes of an expression or statement, in source order
// (the order the checker builds them in). Every pass that walks the IR goes through it, so a new
// node kind is added here once instead of in each hand-written walker. Types (`t`), spans and
// literal values are not children.
import type { IExpr, IStmt } from "./ir.js";

export type INode = IExpr | IStmt;

export function isExpr(n: INode): n is IExpr {
  return "e" in n;
}

/** Call `visit` on each child of `node` (expressions and statements), in order. */
export function forEachChild(node: INode, visit: (child: INode) => void): void {
  if ("e" in node) exprChildren(node, visit);
  else stmtChildren(node, visit);
}

/** The children of an expression, which are all expressions. */
export function forEachExprChild(e: IExpr, visit: (child: IExpr) => void): void {
  exprChildren(e, visit as (child: INode) => void);
}

function exprChildren(e: IExpr, visit: (child: INode) => void): void {
  switch (e.e) {
    case "lit":
    case "local":
    case "state":
      return;
    case "str":
      for (const p of e.parts) if (typeof p !== "string") visit(p);
      return;
    case "list":
      for (const x of e.items) visit(x);
      return;
    case "record":
      for (const f of e.fields) visit(f.value);
      return;
    case "member":
      return visit(e.object);
    case "index":
      visit(e.object);
      return visit(e.index);
    case "builtin":
    case "call":
      for (const a of e.args) visit(a);
      return;
    case "unary":
      return visit(e.operand);
    case "binary":
      visit(e.left);
      return visit(e.right);
    case "ternary":
      visit(e.cond);
      visit(e.then);
      return visit(e.otherwise);
    case "lambda":
      return visit(e.body);
    case "quant":
      visit(e.collection);
      if (e.where) visit(e.where);
      return visit(e.body);
    case "insert":
      return visit(e.value);
  }
}

function stmtChildren(s: IStmt, visit: (child: INode) => void): void {
  switch (s.s) {
    case "let":
      visit(s.value);
      if (s.orElse) visit(s.orElse);
      return;
    case "assign":
      visit(s.target);
      return visit(s.value);
    case "expr":
      return visit(s.expr);
    case "if":
      visit(s.cond);
      for (const x of s.then) visit(x);
      if (s.otherwise) for (const x of s.otherwise) visit(x);
      return;
    case "for":
      visit(s.iterable);
      for (const x of s.body) visit(x);
      return;
    case "require":
      visit(s.cond);
      return visit(s.message);
    case "fail":
      return visit(s.message);
    case "ensure":
      visit(s.cond);
      if (s.message) visit(s.message);
      return;
    case "return":
      if (s.value) visit(s.value);
      return;
    case "delete":
      return visit(s.target);
    case "break":
    case "continue":
      return;
  }
}

/**
 * Visit `root` (a node or a list of them) and everything below it, each node before its
 * children; when `visit` returns false, the node's children are skipped.
 */
export function walkIr(root: INode | readonly INode[], visit: (node: INode) => boolean | void): void {
  const go = (n: INode): void => {
    if (visit(n) !== false) forEachChild(n, go);
  };
  if (Array.isArray(root)) for (const n of root as readonly INode[]) go(n);
  else go(root as INode);
}
