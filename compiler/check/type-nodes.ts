// Written types and defaults: resolves a type as written (`list<Book>`, `ref Member`, `T?`,
// an inline record, a union of strings) against the symbol table, the fields of records,
// parameters and the state, and evaluates each field's default as a constant of its type.
// Used by the declarations pass and by `let x: T` in bodies.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import { dateValueProblem } from "../../runtime/dates.js";
import { T, optional, stripOptional, isOptional, typeToString, isNumeric, isStringLike, type Type, type FieldType } from "../types.js";
import { refuseReserved } from "./scope.js";
import type { SymbolTable } from "./symbols.js";
import type { Sink } from "./sink.js";

export const PRIMITIVES: Record<string, Type> = {
  string: T.string, int: T.int, number: T.number, bool: T.bool, date: T.date, datetime: T.datetime, json: T.json,
};

export function resolveFields(
  sym: SymbolTable, sink: Sink, fields: A.FieldDecl[], what: "field" | "parameter" | "state field", allowTable = false,
): FieldType[] {
  const out: FieldType[] = [];
  const seen = new Map<string, A.Span>();
  for (const f of fields) {
    const prev = seen.get(f.name.name);
    if (prev) {
      sink.report(what === "parameter" ? "ENV2007" : "ENV2005", f.name.span, `Duplicate ${what} '${f.name.name}'`, {
        related: [{ file: sink.file, span: prev, message: "first declared here" }],
      });
      continue;
    }
    seen.set(f.name.name, f.name.span);
    refuseReserved(sink, f.name, what);
    let type = resolveType(sym, sink, f.type, allowTable);
    if (f.optionalMark) type = optional(type);
    let dflt: unknown;
    let hasDefault = false;
    if (f.default) {
      const c = constant(sym, sink, f.default, type);
      if (c.ok) {
        dflt = c.value;
        hasDefault = true;
      }
    }
    out.push({ name: f.name.name, type, description: f.description, default: dflt, hasDefault });
  }
  return out;
}

export function resolveType(sym: SymbolTable, sink: Sink, t: A.TypeNode, allowTable = false): Type {
  switch (t.kind) {
    case "OptionalType":
      return optional(resolveType(sym, sink, t.inner));
    case "UnionType":
      return { k: "enum", values: [...new Set(t.values.map((v) => v.value))] };
    case "RecordType":
      return { k: "record", fields: resolveFields(sym, sink, t.fields, "field") };
    case "RefType":
    case "TableType":
      return entityType(sym, sink, t, allowTable);
    case "NamedType":
      return namedType(sym, sink, t);
  }
}

function entityType(sym: SymbolTable, sink: Sink, t: Extract<A.TypeNode, { kind: "RefType" | "TableType" }>, allowTable: boolean): Type {
  const entity = sym.entities.get(t.entity.name);
  if (!entity) {
    const guess = closest(t.entity.name, sym.entities.keys());
    sink.report("ENV2011", t.entity.span, `'${t.entity.name}' is not an entity`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
    return T.error;
  }
  if (t.kind === "TableType") {
    if (!allowTable) {
      sink.report("ENV4014", t.span, `'table ${t.entity.name}' is only allowed as a state field's type`, { fix: `use \`list<${t.entity.name}>\`` });
      return T.error;
    }
    return { k: "table", entity: entity.name };
  }
  return { k: "ref", entity: entity.name };
}

function namedType(sym: SymbolTable, sink: Sink, t: Extract<A.TypeNode, { kind: "NamedType" }>): Type {
  const name = t.name.name;
  const arity = (n: number) => {
    if (t.args.length !== n) {
      sink.report("ENV3013", t.span, `'${name}' takes ${n === 0 ? "no type arguments" : n === 1 ? "one type argument" : "two type arguments"}`, {
        fix: name === "list" ? "write `list<T>`" : name === "map" ? "write `map<string, T>`" : undefined,
      });
      return false;
    }
    return true;
  };
  if (name === "list") return arity(1) ? { k: "list", elem: resolveType(sym, sink, t.args[0]!) } : T.error;
  if (name === "map") {
    if (!arity(2)) return T.error;
    const key = resolveType(sym, sink, t.args[0]!);
    if (!isStringLike(key) || key.k === "ref") {
      if (key.k !== "ref") {
        sink.report("ENV3013", t.args[0]!.span, `Map keys are strings (JSON object keys), not ${typeToString(key)}`, { fix: "use `map<string, ...>`" });
        return T.error;
      }
    }
    return { k: "map", key, value: resolveType(sym, sink, t.args[1]!) };
  }
  const prim = PRIMITIVES[name];
  if (prim) return arity(0) ? prim : T.error;
  const en = sym.enums.get(name);
  if (en) return arity(0) ? { k: "enum", name, values: en.values } : T.error;
  const rec = sym.records.get(name);
  if (rec) return arity(0) ? rec.type : T.error;
  const candidates = [...Object.keys(PRIMITIVES), "list", "map", ...sym.enums.keys(), ...sym.records.keys()];
  const guess = closest(name, candidates);
  sink.report("ENV2002", t.name.span, `Unknown type '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
  return T.error;
}

type Constant = { ok: true; value: unknown } | { ok: false };

/** Evaluate a default: a constant of the expected type. */
export function constant(sym: SymbolTable, sink: Sink, e: A.Expr, type: Type): Constant {
  const bad = (msg: string): Constant => {
    sink.report("ENV3010", e.span, msg);
    return { ok: false };
  };
  const base = stripOptional(type);
  switch (e.kind) {
    case "Null":
      return isOptional(type) || type.k === "json" ? { ok: true, value: null } : bad(`Default null for a ${typeToString(type)} field: declare it \`${typeToString(type)}?\``);
    case "Int":
    case "Number":
      if (base.k === "int" && e.kind === "Number") return bad(`Default ${e.value} is not an int`);
      if (!isNumeric(base)) return bad(`Default ${e.value} does not fit ${typeToString(type)}`);
      return { ok: true, value: e.value };
    case "Bool":
      return base.k === "bool" || base.k === "json" ? { ok: true, value: e.value } : bad(`Default ${e.value} does not fit ${typeToString(type)}`);
    case "String":
      return stringConstant(e, type, base, bad);
    case "Name":
      if (base.k === "enum" && base.values.includes(e.name)) return { ok: true, value: e.name };
      return bad(`Default '${e.name}' is not a constant${base.k === "enum" ? ` of ${typeToString(base)}` : ""}`);
    case "Member":
      if (e.object.kind === "Name" && sym.enums.has(e.object.name) && base.k === "enum" && base.values.includes(e.name.name))
        return { ok: true, value: e.name.name };
      return bad("Defaults are constants");
    case "List":
      return listConstant(sym, sink, e, type, base, bad);
    case "RecordLit":
      return recordConstant(sym, sink, e, type, base, bad);
    default:
      return bad("Defaults are constants: a literal, list, record or enum value");
  }
}

function stringConstant(e: Extract<A.Expr, { kind: "String" }>, type: Type, base: Type, bad: (m: string) => Constant): Constant {
  if (!e.parts.every((p) => typeof p === "string")) return bad("Defaults are constants: no `${...}` interpolation");
  const s = e.parts.join("");
  if (base.k === "enum" && !base.values.includes(s)) return bad(`"${s}" is not a value of ${typeToString(base)}`);
  if (base.k === "date" || base.k === "datetime") {
    // the calendar decides (runtime/dates.ts): "2024-02-31" is no date
    const why = dateValueProblem(base.k, s);
    if (why) return bad(why);
  }
  if (!isStringLike(base)) return bad(`Default "${s}" does not fit ${typeToString(type)}`);
  return { ok: true, value: s };
}

function listConstant(sym: SymbolTable, sink: Sink, e: Extract<A.Expr, { kind: "List" }>, type: Type, base: Type, bad: (m: string) => Constant): Constant {
  if (base.k !== "list" && base.k !== "json") return bad(`A list does not fit ${typeToString(type)}`);
  const out: unknown[] = [];
  for (const item of e.items) {
    const c = constant(sym, sink, item, base.k === "list" ? base.elem : T.json);
    if (!c.ok) return c;
    out.push(c.value);
  }
  return { ok: true, value: out };
}

function recordConstant(sym: SymbolTable, sink: Sink, e: Extract<A.Expr, { kind: "RecordLit" }>, type: Type, base: Type, bad: (m: string) => Constant): Constant {
  if (base.k === "map" || base.k === "json") {
    const out: Record<string, unknown> = {};
    for (const f of e.fields) {
      const c = constant(sym, sink, f.value, base.k === "map" ? base.value : T.json);
      if (!c.ok) return c;
      // defined, not assigned: a map key may be "__proto__", which assignment would swallow
      Object.defineProperty(out, f.name.name, { value: c.value, enumerable: true, writable: true, configurable: true });
    }
    return { ok: true, value: out };
  }
  if (base.k !== "record") return bad(`A record does not fit ${typeToString(type)}`);
  const out: Record<string, unknown> = {};
  for (const f of e.fields) {
    const ft = base.fields.find((x) => x.name === f.name.name);
    if (!ft) return bad(`${typeToString(base)} has no field '${f.name.name}'`);
    const c = constant(sym, sink, f.value, ft.type);
    if (!c.ok) return c;
    out[f.name.name] = c.value;
  }
  return { ok: true, value: out };
}
