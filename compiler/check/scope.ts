// Scopes of a body: frames of locals (parameters, lets, loop variables, lambda parameters)
// and the types that null tests narrowed paths to, plus the facts a condition proves when it is
// true or false. Binding a name checks it against reserved names, other locals, state fields and
// enum values; closing a frame reports lets that were never read.
import type * as A from "../../grammar/ast.js";
import { isOptional, stripOptional, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import { reservedName, type NameRole } from "../names.js";
import type { SymbolTable } from "./symbols.js";
import type { Sink } from "./sink.js";

export interface Local {
  type: Type;
  kind: "param" | "let" | "loop" | "lambda";
  span: A.Span;
  used: boolean;
  /** holds (part of) a record or value read from the state: writing through it changes state */
  fromState: boolean;
}

interface Frame {
  locals: Map<string, Local>;
  narrowed: Map<string, Type>;
}

/** ENV2020 when `name` cannot name a `role` (compiler/names.ts says which and why); false then. */
export function refuseReserved(sink: Sink, name: A.Ident, role: NameRole): boolean {
  const r = reservedName(name.name, role);
  if (!r) return true;
  sink.report("ENV2020", name.span, `'${name.name}' cannot name a ${role}: ${r.reason}`, { fix: `rename it, e.g. \`${r.suggestion}\`` });
  return false;
}

export class Scope {
  private frames: Frame[] = [];

  constructor(private readonly sym: SymbolTable, private readonly sink: Sink) {}

  get depth(): number {
    return this.frames.length;
  }
  reset(): void {
    this.frames = [];
  }
  /** Drop frames above `depth` without reporting (recovering from a rule that threw). */
  truncate(depth: number): void {
    this.frames.length = Math.min(this.frames.length, depth);
  }
  push(): void {
    this.frames.push({ locals: new Map(), narrowed: new Map() });
  }
  pop(): void {
    const f = this.frames.pop()!;
    for (const [name, l] of f.locals)
      if (!l.used && l.kind === "let") this.sink.report("ENV4015", l.span, `'${name}' is never used`, { fix: "remove the `let` or use the value" });
  }
  lookup(name: string): Local | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const l = this.frames[i]!.locals.get(name);
      if (l) return l;
    }
    return undefined;
  }
  narrowedType(path: string): Type | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const n = this.frames[i]!.narrowed.get(path);
      if (n) return n;
    }
    return undefined;
  }
  /** Every local in scope, innermost frame last (for "did you mean"). */
  localNames(): string[] {
    return this.frames.flatMap((f) => [...f.locals.keys()]);
  }
  bind(name: A.Ident, type: Type, kind: Local["kind"], fromState = true): boolean {
    if (kind !== "param") refuseReserved(this.sink, name, "local"); // parameters: in resolveFields
    if (this.lookup(name.name)) {
      this.sink.report("ENV2008", name.span, `'${name.name}' is already bound in this tool`, { fix: "choose another name" });
      return false;
    }
    if (this.sym.state.has(name.name) && kind !== "lambda") {
      this.sink.report("ENV2008", name.span, `'${name.name}' hides the state field of the same name`, { fix: "choose another name" });
    }
    const shadowed = this.sym.enumsByValue.get(name.name)?.[0];
    if (shadowed && kind !== "lambda")
      this.sink.report("ENV2018", name.span, `'${name.name}' hides the enum value ${shadowed.name}.${name.name}`, { fix: "choose another name, or write the enum value qualified" });
    this.top().locals.set(name.name, { type, kind, span: name.span, used: kind !== "let", fromState });
    return true;
  }
  /** Record what is known about paths from here to the end of the innermost frame. */
  narrow(facts: Map<string, Type>): void {
    const frame = this.top();
    for (const [k, t] of facts) frame.narrowed.set(k, t);
  }
  /** `path` holds `type` again from here (an assignment undid a narrowing). */
  setNarrowed(path: string, type: Type): void {
    this.top().narrowed.set(path, type);
  }
  private top(): Frame {
    return this.frames[this.frames.length - 1]!;
  }
}

/** The path a narrowing can be keyed by (`x`, `x.f.g`, `initial.f`), if the expression is one. */
export function pathOf(e: IExpr): string | undefined {
  if (e.e === "local") return e.name;
  if (e.e === "state") return e.initial ? `initial.${e.field}` : e.field;
  if (e.e === "member") {
    const p = pathOf(e.object);
    return p ? `${p}.${e.name}` : undefined;
  }
  return undefined;
}

/** What a condition tells about nullability when it is true (or false). */
export function factsOf(cond: IExpr, positive: boolean): Map<string, Type> {
  const facts = new Map<string, Type>();
  const visit = (c: IExpr, pos: boolean): void => {
    if (c.e === "unary" && c.op === "not") return visit(c.operand, !pos);
    if (c.e !== "binary") return;
    if ((c.op === "and" && pos) || (c.op === "or" && !pos)) {
      visit(c.left, pos);
      visit(c.right, pos);
    } else if (c.op === "==" || c.op === "!=") nullFacts(c, pos, facts);
  };
  visit(cond, positive);
  return facts;
}

/** `x != null` (or `x == value`) proves x is not null. */
function nullFacts(c: Extract<IExpr, { e: "binary" }>, pos: boolean, facts: Map<string, Type>): void {
  const nonNullWhen = c.op === "!=" ? pos : !pos;
  if (!nonNullWhen) return;
  const [x, other] = c.right.e === "lit" && c.right.value === null ? [c.left, c.right] : c.left.e === "lit" && c.left.value === null ? [c.right, c.left] : [c.left, c.right];
  const p = pathOf(x);
  if (p && other.e === "lit" && other.value === null && isOptional(x.t)) facts.set(p, stripOptional(x.t));
  // `x == value` with a non-null value also proves x is not null
  if (c.op === "==" && pos && p && isOptional(x.t) && !isOptional(other.t) && other.t.k !== "error") facts.set(p, stripOptional(x.t));
}
