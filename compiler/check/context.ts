// The context a body is checked in (a tool, an invariant, a default, a scenario check): the
// read-only symbol table, the diagnostics sink, the scope, what the body did so far (writes,
// calls), and the rule registry that types each node kind. Rules are registered per AST node
// kind (rules.ts puts the tables together); `expr` and `statement` dispatch to them, and a rule
// that throws becomes an ENV0000 diagnostic on its node instead of ending the whole check.
import type * as A from "../../grammar/ast.js";
import { T, isOptional, stripOptional, typeToString, assignable, type Type } from "../types.js";
import type { IExpr, IStmt } from "../ir.js";
import type { Code, Related } from "../diagnostics.js";
import type { SymbolTable, ToolSig } from "./symbols.js";
import type { Sink } from "./sink.js";
import { Scope } from "./scope.js";

/** What kind of body is being checked: decides what may change state and what `initial` is. */
export type BodyKind = "query" | "action" | "fn" | "invariant" | "default" | "check";

export type ExprRule<K extends A.Expr["kind"]> = (cx: Cx, e: Extract<A.Expr, { kind: K }>, expected?: Type) => IExpr;
export type StmtRule<K extends A.Stmt["kind"]> = (cx: Cx, s: Extract<A.Stmt, { kind: K }>) => IStmt | undefined;
export type ExprRules = { [K in A.Expr["kind"]]: ExprRule<K> };
export type StmtRules = { [K in A.Stmt["kind"]]: StmtRule<K> };

export interface Rules {
  expr: ExprRules;
  stmt: StmtRules;
}

export class Cx {
  readonly scope: Scope;
  kind: BodyKind = "default";
  /** set when a scenario check reads `reply` (ScenarioChecker.scenarioCheck resets and reads it) */
  replyRead = false;
  currentTool?: ToolSig;
  /** the body changes state (directly; through calls is the purity pass's business) */
  writes = false;
  /** tools the body calls, for the purity pass */
  calls: { callee: string; span: A.Span }[] = [];
  loopDepth = 0;
  /** the one expression where an insert may stand: a let's value or a statement */
  insertSlot: A.Expr | undefined;

  constructor(readonly sym: SymbolTable, readonly sink: Sink, private readonly rules: Rules) {
    this.scope = new Scope(sym, sink);
  }

  /** Start a new body of kind `kind`: empty scope (one frame), no calls recorded. */
  begin(kind: BodyKind, tool?: ToolSig): void {
    this.kind = kind;
    this.currentTool = tool;
    this.writes = false;
    this.calls = [];
    this.scope.reset();
    this.scope.push();
  }

  report(code: Code, span: A.Span, message: string, extra: { related?: Related[]; fix?: string } = {}): void {
    this.sink.report(code, span, message, extra);
  }

  /** Type an expression; `expected` lets literals take their meaning (an enum value, a date). */
  expr(e: A.Expr, expected?: Type): IExpr {
    const rule = this.rules.expr[e.kind] as ExprRule<A.Expr["kind"]>;
    const depth = this.scope.depth;
    const loops = this.loopDepth;
    try {
      return rule(this, e, expected);
    } catch (err) {
      this.recover(e.span, err, depth, loops);
      return { e: "lit", value: null, t: T.error, span: e.span };
    }
  }

  statement(s: A.Stmt): IStmt | undefined {
    const rule = this.rules.stmt[s.kind] as StmtRule<A.Stmt["kind"]>;
    const depth = this.scope.depth;
    const loops = this.loopDepth;
    try {
      return rule(this, s);
    } catch (err) {
      this.recover(s.span, err, depth, loops);
      return undefined;
    }
  }

  private recover(span: A.Span, err: unknown, depth: number, loops: number): void {
    this.sink.internal(span, err);
    this.scope.truncate(depth); // a rule that threw may have left frames open
    this.loopDepth = loops;
  }

  expectBool(e: A.Expr, what: string): IExpr {
    const x = this.expr(e, T.bool);
    if (x.t.k !== "bool" && x.t.k !== "error" && x.t.k !== "json")
      this.report("ENV3003", e.span, `${what} must be a bool, got ${typeToString(x.t)}`, isOptional(x.t) ? { fix: "compare with null: `x != null`" } : {});
    return x;
  }

  expectAssignable(from: Type, to: Type, span: A.Span): boolean {
    if (assignable(from, to)) return true;
    if (isOptional(from) && assignable(stripOptional(from), to)) {
      this.report("ENV3002", span, `This value may be null (${typeToString(from)}), but ${typeToString(to)} is required`, {
        fix: "check it first (`require x != null else ...`) or add a fallback with `??`",
      });
    } else this.report("ENV3001", span, `Expected ${typeToString(to)}, got ${typeToString(from)}`);
    return false;
  }
}
