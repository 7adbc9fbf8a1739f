// Warning ENV4017: a `range(...)` in a tool's body whose size comes from a numeric argument that
// no earlier `require` (or `ensure`, or `if ... { fail }`) bounds. An agent can pass 1e9 there;
// the call then runs out of its step budget (runtime/env.ts) instead of doing its work, and the
// fuzzer reports it. Reads the IR of queries and actions (helpers get their arguments from
// their callers and are not followed). The analysis is deliberately simple and errs towards
// silence: any earlier bound counts, in whatever branch it is; locals carry the arguments
// their values were computed from, through arithmetic (not through collections).
import { conjuncts, stripOptional, type IExpr, type IStmt, type ITool } from "./ir.js";
import { forEachExprChild } from "./ir-walk.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import type { Span } from "../grammar/ast.js";

type Side = "upper" | "lower";

interface Scope {
  /** numeric parameters of the tool */
  params: Set<string>;
  /** what each local's value was computed from (names of parameters and locals) */
  sources: Map<string, Set<string>>;
  /** parameters and locals with a bound on that side, stated so far */
  upper: Set<string>;
  lower: Set<string>;
}

export function unboundedRanges(tools: readonly ITool[], file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const tool of tools) {
    if (tool.kind === "fn") continue;
    const params = new Set(tool.params.filter((p) => ["int", "number"].includes(stripOptional(p.type).k)).map((p) => p.name));
    if (params.size === 0) continue;
    const scope: Scope = { params, sources: new Map(), upper: new Set(), lower: new Set() };
    walkStmts(tool.body, scope, (span, name, side) => {
      const example = side === "upper" ? `require ${name} <= 1000 else "${name} is too large"` : `require ${name} >= 0 else "${name} is too small"`;
      out.push(
        makeDiagnostic("ENV4017", file, span, `This range's size comes from the argument '${name}', which no require bounds: a call with ${name} = ${side === "upper" ? "1000000000" : "-1000000000"} runs out of the step budget`, {
          fix: `add \`${example}\` before it, with the ${side === "upper" ? "largest" : "smallest"} value ${tool.name} should accept`,
        }),
      );
    });
  }
  return out;
}

type Report = (span: Span, param: string, side: Side) => void;

function walkStmts(stmts: readonly IStmt[], scope: Scope, report: Report): void {
  for (const s of stmts) {
    switch (s.s) {
      case "let":
        walkExpr(s.value, scope, report);
        scope.sources.set(s.name, namesIn(s.value));
        break;
      case "assign":
        walkExpr(s.value, scope, report);
        if (s.target.e === "local") {
          const prev = scope.sources.get(s.target.name) ?? new Set<string>();
          for (const n of namesIn(s.value)) prev.add(n);
          scope.sources.set(s.target.name, prev);
        }
        break;
      case "require":
      case "ensure":
        walkExpr(s.cond, scope, report);
        noteBounds(s.cond, scope, false);
        break;
      case "if":
        walkExpr(s.cond, scope, report);
        // `if n > 100 { fail "..." }`: what follows has n <= 100
        if (stops(s.then)) noteBounds(s.cond, scope, true);
        walkStmts(s.then, scope, report);
        if (s.otherwise) walkStmts(s.otherwise, scope, report);
        break;
      case "for":
        walkExpr(s.iterable, scope, report);
        walkStmts(s.body, scope, report);
        break;
      case "expr":
        walkExpr(s.expr, scope, report);
        break;
      case "return":
        if (s.value) walkExpr(s.value, scope, report);
        break;
      case "fail":
      case "delete":
      case "break":
      case "continue":
        break;
    }
  }
}

/** A block that always ends the call with a failure. */
function stops(stmts: readonly IStmt[]): boolean {
  const last = stmts[stmts.length - 1];
  return last?.s === "fail";
}

function walkExpr(e: IExpr, scope: Scope, report: Report): void {
  if (e.e === "builtin" && e.fn === "g.range") {
    const [lo, hi] = e.args.length > 1 ? [e.args[0]!, e.args[1]!] : [undefined, e.args[0]!];
    for (const p of unbounded(hi, scope, "upper")) report(e.span, p, "upper");
    if (lo) for (const p of unbounded(lo, scope, "lower")) report(e.span, p, "lower");
  }
  forEachExprChild(e, (c) => walkExpr(c, scope, report));
}

/** The parameters an expression's value comes from that have no bound on `side`. */
function unbounded(e: IExpr, scope: Scope, side: Side): string[] {
  const bounded = side === "upper" ? scope.upper : scope.lower;
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || bounded.has(name)) return;
    seen.add(name);
    if (scope.params.has(name)) out.add(name);
    for (const n of scope.sources.get(name) ?? []) visit(n);
  };
  for (const n of namesIn(e)) visit(n);
  return [...out];
}

/**
 * Record the bounds a condition states (`negated`: the condition of an `if` that fails, so
 * what holds after it is its negation): comparisons of a name with anything, in conjuncts
 * (or, negated, in disjuncts), and `name in [...]`.
 */
function noteBounds(cond: IExpr, scope: Scope, negated: boolean): void {
  const parts = negated ? disjuncts(cond) : conjuncts(cond);
  for (const part of parts) {
    if (part.e !== "binary") continue;
    const { op, left, right } = part;
    const name = (x: IExpr) => (x.e === "local" ? x.name : undefined);
    if (op === "in" && !negated && name(left)) {
      scope.upper.add(name(left)!);
      scope.lower.add(name(left)!);
      continue;
    }
    // normalise to `name OP other`
    let subject = name(left);
    let rel = op;
    if (!subject && name(right)) {
      subject = name(right);
      rel = FLIP[op] ?? op;
    }
    if (!subject) continue;
    if (negated) rel = NEGATE[rel] ?? "";
    if (rel === "<" || rel === "<=" || rel === "==") scope.upper.add(subject);
    if (rel === ">" || rel === ">=" || rel === "==") scope.lower.add(subject);
  }
}

const FLIP: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==" };
const NEGATE: Record<string, string> = { "<": ">=", "<=": ">", ">": "<=", ">=": "<", "!=": "==" };

function disjuncts(e: IExpr, out: IExpr[] = []): IExpr[] {
  if (e.e === "binary" && e.op === "or") {
    disjuncts(e.left, out);
    disjuncts(e.right, out);
  } else out.push(e);
  return out;
}

/**
 * The locals and parameters a number is computed from, through numbers only: the length of a
 * collection is bounded by the state (or by the budget that built it), whatever its filter
 * reads, so `agents.filter(a => a.level >= min_level).len()` does not come from min_level.
 */
function namesIn(e: IExpr, out = new Set<string>()): Set<string> {
  if (!isNumber(e)) return out;
  if (e.e === "local") out.add(e.name);
  forEachExprChild(e, (c) => namesIn(c, out));
  return out;
}

function isNumber(e: IExpr): boolean {
  const k = stripOptional(e.t).k;
  return k === "int" || k === "number";
}
