// Expression rules for literals, lists, records, field reads, indexing, conditionals,
// quantifiers and inserts; calls are in calls.ts, operators in operators.ts, names in
// resolve-names.ts. Literals take their meaning from the expected type: a string is an enum
// value or a date where one is expected, and is checked as such.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import { dateValueProblem } from "../../runtime/dates.js";
import { T, optional, isOptional, stripOptional, typeToString, isStringLike, join, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import { builtinId, type BuiltinKind } from "../builtins.js";
import type { Cx, ExprRule, ExprRules } from "./context.js";
import { factsOf, pathOf } from "./scope.js";
import { mutation } from "./purity.js";
import { initialField, nameRule, qualifiedEnumValue } from "./resolve-names.js";

/** `.len` etc. are builtins named after their receiver: `list.len`, `str.len`. */
export function receiverKind(t: Type): BuiltinKind {
  if (t.k === "table") return "table";
  if (t.k === "map") return "map";
  if (t.k === "list") return "list";
  return "str";
}

/** The element type of what a quantifier or method goes over. */
export function elementType(cx: Cx, coll: IExpr, span: A.Span): Type {
  const t = coll.t;
  if (t.k === "list") return t.elem;
  if (t.k === "table") return cx.sym.entities.get(t.entity)!.type;
  if (t.k === "map") return t.value;
  if (t.k === "error" || t.k === "json") return t;
  cx.report("ENV3014", span, `Cannot iterate over ${typeToString(t)}`, isOptional(t) ? { fix: "check it is not null first" } : {});
  return T.error;
}

const stringRule: ExprRule<"String"> = (cx, e, expected) => {
  const span = e.span;
  if (!e.parts.every((p) => typeof p === "string")) {
    const parts = e.parts.map((p) => (typeof p === "string" ? p : cx.expr(p)));
    for (const p of parts) if (typeof p !== "string" && p.t.k === "void") cx.report("ENV3001", p.span, "This expression has no value to show");
    return { e: "str", parts, t: T.string, span };
  }
  const s = (e.parts as string[]).join("");
  const exp = expected ? stripOptional(expected) : undefined;
  if (exp?.k === "enum") {
    if (!exp.values.includes(s)) {
      const guess = closest(s, exp.values);
      cx.report("ENV2010", span, `"${s}" is not a value of ${typeToString(exp)}`, { fix: guess ? `did you mean "${guess}"?` : `use one of ${exp.values.map((v) => JSON.stringify(v)).join(", ")}` });
      return { e: "lit", value: s, t: T.error, span };
    }
    return { e: "lit", value: s, t: exp, span };
  }
  if (exp?.k === "date" || exp?.k === "datetime") {
    // a literal where a date is expected is one: the calendar decides (runtime/dates.ts)
    const why = dateValueProblem(exp.k, s);
    if (!why) return { e: "lit", value: s, t: exp, span };
    cx.report("ENV3001", span, why, { fix: exp.k === "date" ? "write a real date, like \"2024-05-01\"" : "write a real datetime, like \"2024-05-01T09:30:00\"" });
    return { e: "lit", value: s, t: T.error, span };
  }
  if (exp?.k === "ref") return { e: "lit", value: s, t: exp, span };
  return { e: "lit", value: s, t: T.string, span };
};

const listRule: ExprRule<"List"> = (cx, e, expected) => {
  const exp = expected ? stripOptional(expected) : undefined;
  const elemExp = exp?.k === "list" ? exp.elem : undefined;
  const items = e.items.map((i) => cx.expr(i, elemExp));
  let elem: Type = elemExp ?? (items.length ? items[0]!.t : T.error);
  if (!elemExp && items.length) {
    for (const it of items.slice(1)) {
      const j = join(elem, it.t);
      if (!j) {
        cx.report("ENV3001", it.span, `List items must share one type: ${typeToString(elem)} and ${typeToString(it.t)}`);
        break;
      }
      elem = j;
    }
  } else if (elemExp) for (const it of items) cx.expectAssignable(it.t, elemExp, it.span);
  return { e: "list", items, t: { k: "list", elem }, span: e.span };
};

const recordRule: ExprRule<"RecordLit"> = (cx, e, expected) => {
  const span = e.span;
  const exp = expected ? stripOptional(expected) : undefined;
  if (exp?.k === "map") {
    const fields: { name: string; value: IExpr }[] = [];
    for (const f of e.fields) {
      fields.push({ name: f.name.name, value: cx.expr(f.value, exp.value) });
      cx.expectAssignable(fields.at(-1)!.value.t, exp.value, f.value.span);
    }
    return { e: "record", fields, t: exp, span };
  }
  const target = exp?.k === "record" ? exp : undefined;
  const seen = new Set<string>();
  const fields = recordFields(cx, e, target, seen);
  if (target) {
    const missing = target.fields.filter((f) => !seen.has(f.name) && !f.hasDefault && !isOptional(f.type));
    // inserts report their own, more specific diagnostic
    if (missing.length && !target.entity)
      cx.report("ENV3015", span, `${typeToString(target)} needs field${missing.length > 1 ? "s" : ""} ${missing.map((m) => m.name).join(", ")}`);
    return { e: "record", fields, t: target, span };
  }
  return {
    e: "record",
    fields,
    t: { k: "record", fields: fields.map((f) => ({ name: f.name, type: f.value.t, hasDefault: false })) },
    span,
  };
};

/** The fields of a record literal, each typed against `target`'s field of its name, if any. */
function recordFields(cx: Cx, e: Extract<A.Expr, { kind: "RecordLit" }>, target: Extract<Type, { k: "record" }> | undefined, seen: Set<string>) {
  const fields: { name: string; value: IExpr }[] = [];
  for (const f of e.fields) {
    if (seen.has(f.name.name)) {
      cx.report("ENV2005", f.name.span, `Field '${f.name.name}' is given twice`);
      continue;
    }
    seen.add(f.name.name);
    const ft = target?.fields.find((x) => x.name === f.name.name);
    if (target && !ft) {
      const guess = closest(f.name.name, target.fields.map((x) => x.name));
      cx.report("ENV3015", f.name.span, `${typeToString(target)} has no field '${f.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
      cx.expr(f.value);
      continue;
    }
    const value = cx.expr(f.value, ft?.type);
    if (ft) cx.expectAssignable(value.t, ft.type, f.value.span);
    fields.push({ name: f.name.name, value });
  }
  return fields;
}

const memberRule: ExprRule<"Member"> = (cx, e) => {
  const special = qualifiedEnumValue(cx, e) ?? initialField(cx, e);
  if (special) return special;
  const span = e.span;
  const object = cx.expr(e.object);
  const name = e.name.name;
  const mk = (t: Type): IExpr => {
    const node: IExpr = { e: "member", object, name, t, span };
    const key = pathOf(node);
    const narrowed = key ? cx.scope.narrowedType(key) : undefined;
    return narrowed ? { ...node, t: narrowed } : node;
  };
  const ot = object.t;
  if (ot.k === "error" || ot.k === "json") return mk(ot);
  if (isOptional(ot)) {
    cx.report("ENV3002", e.object.span, `This value may be null (${typeToString(ot)}); check it before reading '.${name}'`, {
      fix: "use `require x != null else \"...\"`, `if x != null { ... }` or `let x = ... else \"...\"`",
    });
    return mk(T.error);
  }
  if (ot.k === "record") {
    const f = ot.fields.find((x) => x.name === name);
    if (!f) {
      const guess = closest(name, ot.fields.map((x) => x.name));
      cx.report("ENV2003", e.name.span, `${typeToString(ot)} has no field '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
      return mk(T.error);
    }
    return mk(f.type);
  }
  if (ot.k === "pair" && (name === "first" || name === "second")) return mk(name === "first" ? ot.first : ot.second);
  if ((ot.k === "list" || isStringLike(ot) || ot.k === "table" || ot.k === "map") && name === "length")
    return { e: "builtin", fn: builtinId(receiverKind(ot), "len"), args: [object], t: T.int, span };
  cx.report("ENV2003", e.name.span, `${typeToString(ot)} has no field '${name}'`);
  return mk(T.error);
};

const indexRule: ExprRule<"Index"> = (cx, e) => {
  const span = e.span;
  const object = cx.expr(e.object);
  const ot = object.t;
  if (ot.k === "table") {
    const index = cx.expr(e.index, T.string);
    if (!isStringLike(index.t)) cx.report("ENV3005", e.index.span, `Table keys are strings, got ${typeToString(index.t)}`);
    return { e: "index", object, index, mode: "table", get: false, t: cx.sym.entities.get(ot.entity)!.type, span };
  }
  if (ot.k === "map") {
    const index = cx.expr(e.index, ot.key);
    if (!isStringLike(index.t)) cx.report("ENV3005", e.index.span, `Map keys are strings, got ${typeToString(index.t)}`);
    return { e: "index", object, index, mode: "map", get: false, t: ot.value, span };
  }
  if (ot.k === "list" || ot.k === "string") {
    const index = cx.expr(e.index, T.int);
    if (index.t.k !== "int" && index.t.k !== "error") cx.report("ENV3005", e.index.span, `List and string positions are ints, got ${typeToString(index.t)}`);
    return { e: "index", object, index, mode: ot.k === "list" ? "list" : "string", get: false, t: ot.k === "list" ? ot.elem : T.string, span };
  }
  const index = cx.expr(e.index);
  if (ot.k === "json" || ot.k === "error") return { e: "index", object, index, mode: "json", get: false, t: ot, span };
  cx.report("ENV3005", e.object.span, `Cannot index ${typeToString(ot)}`, isOptional(ot) ? { fix: "check it is not null first" } : {});
  return { e: "index", object, index, mode: "json", get: false, t: T.error, span };
};

const ternaryRule: ExprRule<"Ternary"> = (cx, e, expected) => {
  const cond = cx.expectBool(e.cond, "A condition");
  cx.scope.push();
  cx.scope.narrow(factsOf(cond, true));
  const then = cx.expr(e.then, expected);
  cx.scope.pop();
  cx.scope.push();
  cx.scope.narrow(factsOf(cond, false));
  const otherwise = cx.expr(e.otherwise, expected ?? then.t);
  cx.scope.pop();
  const t = join(then.t, otherwise.t);
  if (!t) cx.report("ENV3001", e.span, `The two branches have different types: ${typeToString(then.t)} and ${typeToString(otherwise.t)}`);
  return { e: "ternary", cond, then, otherwise, t: t ?? T.error, span: e.span };
};

const quantifierRule: ExprRule<"Quantifier"> = (cx, e) => {
  const collection = cx.expr(e.collection);
  const elem = elementType(cx, collection, e.collection.span);
  cx.scope.push();
  cx.scope.bind(e.variable, elem, "lambda");
  const where = e.where ? cx.expectBool(e.where, "A where clause") : undefined;
  if (where) cx.scope.narrow(factsOf(where, true));
  const body = cx.expectBool(e.body, `The body of '${e.quantifier}'`);
  cx.scope.pop();
  return { e: "quant", quantifier: e.quantifier, variable: e.variable.name, collection, where, body, t: T.bool, span: e.span };
};

const insertRule: ExprRule<"Insert"> = (cx, e) => {
  const span = e.span;
  if (cx.insertSlot !== e && (cx.kind === "action" || cx.kind === "fn"))
    cx.report("ENV4010", span, "insert stands alone: as a statement or as the value of a `let`", { fix: "insert in a `for` loop, then use the records" });
  mutation(cx, span, "insert");
  const field = cx.sym.state.get(e.table.name);
  if (!field || !field.table) {
    if (!field) {
      const guess = closest(e.table.name, [...cx.sym.state.values()].filter((f) => f.table).map((f) => f.name));
      cx.report("ENV2001", e.table.span, `No table named '${e.table.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
    } else cx.report("ENV2017", e.table.span, `'${e.table.name}' is not a table`);
    cx.expr(e.value);
    return { e: "lit", value: null, t: T.error, span };
  }
  const entity = cx.sym.entities.get(field.table)!;
  if (entity.externalKey)
    cx.report("ENV2019", e.table.span, `Records of ${entity.name} do not hold their key (external), so an insert cannot tell where to store one`, {
      fix: `give ${entity.name} a key field (\`${entity.key}: string\`) and drop \`external\``,
    });
  const value = cx.expr(e.value, entity.type);
  if (e.value.kind === "RecordLit") {
    const given = new Set(e.value.fields.map((f) => f.name.name));
    const missing = entity.type.fields.filter((f) => !given.has(f.name) && !f.hasDefault && !isOptional(f.type)).map((f) => f.name);
    if (missing.length)
      cx.report("ENV4004", span, `Insert into '${e.table.name}' misses required field${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`, {
        fix: `give ${missing.map((m) => `\`${m}\``).join(", ")}`,
      });
  } else cx.expectAssignable(value.t, entity.type, e.value.span);
  return { e: "insert", table: e.table.name, value, t: entity.type, span };
};

export const expressionRules: Omit<ExprRules, "Call" | "Unary" | "Binary"> = {
  Int: (_cx, e) => ({ e: "lit", value: e.value, t: T.int, span: e.span }),
  Number: (_cx, e) => ({ e: "lit", value: e.value, t: T.number, span: e.span }),
  Bool: (_cx, e) => ({ e: "lit", value: e.value, t: T.bool, span: e.span }),
  Null: (_cx, e, expected) => ({ e: "lit", value: null, t: expected ? optional(expected) : T.null, span: e.span }),
  Error: (_cx, e) => ({ e: "lit", value: null, t: T.error, span: e.span }),
  String: stringRule,
  Name: nameRule,
  List: listRule,
  RecordLit: recordRule,
  Member: memberRule,
  Index: indexRule,
  Ternary: ternaryRule,
  Lambda: (cx, e) => {
    cx.report("ENV3009", e.span, "A function (`x => ...`) can only be given to a collection method like filter or map");
    return { e: "lit", value: null, t: T.error, span: e.span };
  },
  Quantifier: quantifierRule,
  Insert: insertRule,
};
