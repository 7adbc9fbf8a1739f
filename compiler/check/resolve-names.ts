// Names in expressions: a bare name is a local, a state field, an enum value (bare when one
// enum lists it, qualified `Enum.value` otherwise), or `initial.field` and `reply` (what the
// agent said) in scenario checks.
// Everything else is ENV2001 with a suggestion.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import { T, stripOptional, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import { GLOBALS, METHOD_ALIASES } from "../builtins.js";
import type { Cx, ExprRule } from "./context.js";

export const nameRule: ExprRule<"Name"> = (cx, e, expected) => {
  const span = e.span;
  const local = cx.scope.lookup(e.name);
  if (local) {
    local.used = true;
    const t = cx.scope.narrowedType(e.name) ?? local.type;
    return { e: "local", name: e.name, t, span };
  }
  const st = cx.sym.state.get(e.name);
  if (st) {
    const t = cx.scope.narrowedType(e.name) ?? st.type;
    return { e: "state", field: e.name, table: !!st.table, t, span };
  }
  const exp = expected ? stripOptional(expected) : undefined;
  if (exp?.k === "enum" && exp.values.includes(e.name)) return { e: "lit", value: e.name, t: exp, span };
  // in scenario checks, what the agent said (the check's third argument in emitted code)
  if (e.name === "reply" && cx.kind === "check") {
    cx.replyRead = true;
    return { e: "local", name: "reply", t: T.string, span };
  }
  if (e.name === "initial") {
    cx.report("ENV5015", span, cx.kind === "check"
      ? "`initial` is the whole state at the start; read one of its fields, like `initial." + ([...cx.sym.state.keys()][0] ?? "field") + "`"
      : "`initial` (the state at the start of a scenario) exists only in scenario checks");
    return { e: "lit", value: null, t: T.error, span };
  }
  const owners = cx.sym.enumsByValue.get(e.name) ?? [];
  if (owners.length === 1) {
    const en = owners[0]!;
    return { e: "lit", value: e.name, t: { k: "enum", name: en.name, values: en.values }, span };
  }
  if (owners.length > 1) {
    cx.report("ENV2001", span, `'${e.name}' is a value of several enums (${owners.map((o) => o.name).join(", ")})`, { fix: `qualify it: \`${owners[0]!.name}.${e.name}\`` });
    return { e: "lit", value: e.name, t: T.error, span };
  }
  unknownName(cx, e);
  return { e: "lit", value: null, t: T.error, span };
};

function unknownName(cx: Cx, e: Extract<A.Expr, { kind: "Name" }>): void {
  const span = e.span;
  const candidates = [...cx.scope.localNames(), ...cx.sym.state.keys(), ...[...cx.sym.enums.values()].flatMap((en) => en.values)];
  const guess = closest(e.name, candidates);
  if (cx.sym.tools.has(e.name) || GLOBALS[e.name] || METHOD_ALIASES.has(e.name))
    cx.report("ENV2001", span, `'${e.name}' is a function; call it with (...)`);
  else if (cx.sym.enums.has(e.name)) cx.report("ENV2001", span, `'${e.name}' is an enum; use one of its values, like \`${e.name}.${cx.sym.enums.get(e.name)!.values[0] ?? "x"}\``);
  else cx.report("ENV2001", span, `Unknown name '${e.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
}

/** Is `name` free to mean a declaration (an enum, `initial`): no local or state field hides it? */
function unshadowed(cx: Cx, name: string): boolean {
  return !cx.scope.lookup(name) && !cx.sym.state.has(name);
}

/** `Enum.value`, or undefined when `e` is not one (then it is a field read). */
export function qualifiedEnumValue(cx: Cx, e: Extract<A.Expr, { kind: "Member" }>): IExpr | undefined {
  if (e.object.kind !== "Name" || !unshadowed(cx, e.object.name) || !cx.sym.enums.has(e.object.name)) return undefined;
  const en = cx.sym.enums.get(e.object.name)!;
  const span = e.span;
  if (!en.values.includes(e.name.name)) {
    const guess = closest(e.name.name, en.values);
    cx.report("ENV2010", e.name.span, `'${e.name.name}' is not a value of ${en.name}`, { fix: guess ? `did you mean \`${en.name}.${guess}\`?` : `use one of ${en.values.join(", ")}` });
    return { e: "lit", value: e.name.name, t: T.error, span };
  }
  const t: Type = { k: "enum", name: en.name, values: en.values };
  return { e: "lit", value: e.name.name, t, span };
}

/** `initial.field` (a state field at the start of a scenario), or undefined when `e` is not one. */
export function initialField(cx: Cx, e: Extract<A.Expr, { kind: "Member" }>): IExpr | undefined {
  if (e.object.kind !== "Name" || e.object.name !== "initial" || !unshadowed(cx, "initial")) return undefined;
  const span = e.span;
  if (cx.kind !== "check") {
    cx.report("ENV5015", e.object.span, "`initial` (the state at the start of a scenario) exists only in scenario checks");
    return { e: "lit", value: null, t: T.error, span };
  }
  const st = cx.sym.state.get(e.name.name);
  if (!st) {
    const guess = closest(e.name.name, cx.sym.state.keys());
    cx.report("ENV2003", e.name.span, `The state has no field '${e.name.name}'`, guess ? { fix: `did you mean \`initial.${guess}\`?` } : {});
    return { e: "lit", value: null, t: T.error, span };
  }
  return { e: "state", field: st.name, table: !!st.table, initial: true, t: st.type, span };
}
