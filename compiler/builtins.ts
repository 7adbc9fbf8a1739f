// Signatures of the built-in functions and methods: given the receiver and argument types,
// the result type or a problem. The checker calls these; the emitter maps the ids to code.
import { T, type Type, optional, stripOptional, typeToString, isNumeric, isStringLike, isComparable } from "./types.js";

export { isNumeric, isStringLike, isComparable };

export type ArgSpec =
  | { kind: "value" }
  | { kind: "lambda"; arity: number }; // a function of the element(s)

export interface MethodSig {
  id: string;
  args: ArgSpec[];
  minArgs: number;
  mutates?: boolean;
  /** result type from receiver element type and checked argument types (lambda args: their result type) */
  result: (elem: Type, args: Type[]) => Type | string;
}

const v: ArgSpec = { kind: "value" };
const f1: ArgSpec = { kind: "lambda", arity: 1 };

function sumType(t: Type): Type | string {
  if (t.k === "int") return T.int;
  if (isNumeric(t)) return T.number;
  return `sum needs numbers, got ${typeToString(t)}`;
}
function comparableOr(t: Type, label: string): Type | string {
  return isComparable(stripOptional(t)) ? optional(stripOptional(t)) : `${label} needs numbers, strings or dates, got ${typeToString(t)}`;
}
function boolResult(name: string) {
  return (_e: Type, a: Type[]) => {
    const r = a[0]!;
    if (r.k !== "bool" && r.k !== "error" && r.k !== "json") return `the function given to ${name} must return a bool, got ${typeToString(r)}`;
    return T.bool;
  };
}

/** Methods of lists and tables (a table acts as the list of its records). */
export const COLLECTION_METHODS: Record<string, MethodSig> = {
  filter: { id: "filter", args: [f1], minArgs: 1, result: (e, a) => { const r = boolResult("filter")(e, a); return typeof r === "string" ? r : { k: "list", elem: e }; } },
  map: { id: "map", args: [f1], minArgs: 1, result: (_e, a) => ({ k: "list", elem: a[0]! }) },
  flat_map: { id: "flat_map", args: [f1], minArgs: 1, result: (_e, a) => (a[0]!.k === "list" ? a[0]! : `flat_map's function must return a list, got ${typeToString(a[0]!)}`) },
  find: { id: "find", args: [f1], minArgs: 1, result: (e, a) => { const r = boolResult("find")(e, a); return typeof r === "string" ? r : optional(e); } },
  any: { id: "any", args: [f1], minArgs: 0, result: (e, a) => (a.length ? boolResult("any")(e, a) : T.bool) },
  all: { id: "all", args: [f1], minArgs: 1, result: boolResult("all") },
  count: { id: "count", args: [f1], minArgs: 0, result: (e, a) => { if (!a.length) return T.int; const r = boolResult("count")(e, a); return typeof r === "string" ? r : T.int; } },
  len: { id: "len", args: [], minArgs: 0, result: () => T.int },
  first: { id: "first", args: [], minArgs: 0, result: (e) => optional(e) },
  last: { id: "last", args: [], minArgs: 0, result: (e) => optional(e) },
  contains: { id: "contains", args: [v], minArgs: 1, result: () => T.bool },
  index_of: { id: "index_of", args: [v], minArgs: 1, result: () => T.int },
  sum: { id: "sum", args: [f1], minArgs: 0, result: (e, a) => sumType(a.length ? a[0]! : e) },
  min: { id: "min", args: [f1], minArgs: 0, result: (e, a) => comparableOr(a.length ? a[0]! : e, "min") },
  max: { id: "max", args: [f1], minArgs: 0, result: (e, a) => comparableOr(a.length ? a[0]! : e, "max") },
  min_by: { id: "min_by", args: [f1], minArgs: 1, result: (e, a) => { const r = comparableOr(a[0]!, "min_by"); return typeof r === "string" ? r : optional(e); } },
  max_by: { id: "max_by", args: [f1], minArgs: 1, result: (e, a) => { const r = comparableOr(a[0]!, "max_by"); return typeof r === "string" ? r : optional(e); } },
  sorted: { id: "sorted", args: [f1], minArgs: 0, result: (e, a) => { const r = comparableOr(a.length ? a[0]! : e, "sorted"); return typeof r === "string" ? r : { k: "list", elem: e }; } },
  sorted_desc: { id: "sorted_desc", args: [f1], minArgs: 0, result: (e, a) => { const r = comparableOr(a.length ? a[0]! : e, "sorted_desc"); return typeof r === "string" ? r : { k: "list", elem: e }; } },
  reversed: { id: "reversed", args: [], minArgs: 0, result: (e) => ({ k: "list", elem: e }) },
  distinct: { id: "distinct", args: [], minArgs: 0, result: (e) => ({ k: "list", elem: e }) },
  slice: { id: "slice", args: [v, v], minArgs: 1, result: (e) => ({ k: "list", elem: e }) },
  join: { id: "join", args: [v], minArgs: 0, result: (e) => (isStringLike(e) ? T.string : `join needs a list of strings, got list<${typeToString(e)}>`) },
};

/** Methods that change a list in place. */
export const LIST_MUTATORS: Record<string, MethodSig> = {
  append: { id: "append", args: [v], minArgs: 1, mutates: true, result: () => T.void },
  remove: { id: "remove", args: [v], minArgs: 1, mutates: true, result: () => T.void },
  insert_at: { id: "insert_at", args: [v, v], minArgs: 2, mutates: true, result: () => T.void },
  pop: { id: "pop", args: [], minArgs: 0, mutates: true, result: (e) => optional(e) },
  clear: { id: "clear", args: [], minArgs: 0, mutates: true, result: () => T.void },
};

/**
 * A builtin's id in the IR: the receiver kind and the name, `g.round` (a global function),
 * `list.filter`, `str.lower`, `table.get`, `map.keys`. The checker makes ids with builtinId and
 * the emitter reads them with parseBuiltinId: one spelling, here.
 */
export type BuiltinKind = "g" | "list" | "str" | "table" | "map";

export function builtinId(kind: BuiltinKind, name: string): string {
  return `${kind}.${name}`;
}

export function parseBuiltinId(fn: string): [kind: BuiltinKind, name: string] {
  const dot = fn.indexOf(".");
  return [fn.slice(0, dot) as BuiltinKind, fn.slice(dot + 1)];
}

/** Is builtin `fn` (an IR id like `list.append`) a list mutator? Checker and emitter both ask this. */
export function isListMutator(fn: string): boolean {
  const [kind, name] = parseBuiltinId(fn);
  return kind === "list" && Object.hasOwn(LIST_MUTATORS, name);
}

/**
 * Methods that take constant time, so a budgeted call is charged no step per element: lengths,
 * ends, lookups, and the list mutators (which charge themselves). `any` and `count` are
 * constant-time only without a function.
 */
export const CONSTANT_TIME_METHODS: ReadonlySet<string> = new Set(["len", "first", "last", "get", "keys", "values", "entries", "append", "insert_at", "pop", "clear", "remove"]);
export const CONSTANT_TIME_WITHOUT_FN: ReadonlySet<string> = new Set(["any", "count"]);

export const STRING_METHODS: Record<string, MethodSig> = {
  lower: { id: "lower", args: [], minArgs: 0, result: () => T.string },
  upper: { id: "upper", args: [], minArgs: 0, result: () => T.string },
  trim: { id: "trim", args: [], minArgs: 0, result: () => T.string },
  starts_with: { id: "starts_with", args: [v], minArgs: 1, result: () => T.bool },
  ends_with: { id: "ends_with", args: [v], minArgs: 1, result: () => T.bool },
  contains: { id: "contains", args: [v], minArgs: 1, result: () => T.bool },
  split: { id: "split", args: [v], minArgs: 1, result: () => ({ k: "list", elem: T.string }) },
  replace: { id: "replace", args: [v, v], minArgs: 2, result: () => T.string },
  slice: { id: "slice", args: [v, v], minArgs: 1, result: () => T.string },
  len: { id: "len", args: [], minArgs: 0, result: () => T.int },
  index_of: { id: "index_of", args: [v], minArgs: 1, result: () => T.int },
  // an answer check's fact in a reply, case, punctuation and number formats aside (runtime/answers.ts)
  mentions: { id: "mentions", args: [v], minArgs: 1, result: () => T.bool },
};

/** Extra methods of tables and maps. */
export const KEYED_METHODS = ["keys", "values", "entries", "get", "len"] as const;

/** Global functions that are a method of their first argument. */
export const METHOD_ALIASES = new Set([
  "len", "keys", "values", "sum", "sorted", "sorted_desc", "lower", "upper", "trim", "starts_with", "ends_with",
  "contains", "split", "replace", "slice", "entries", "reversed", "distinct", "join", "mentions",
]);

export interface GlobalSig {
  params: Type[]; // checked with assignability; json accepts anything
  minArgs: number;
  variadic?: boolean;
  result: (args: Type[]) => Type | string;
}

const num = T.number;
export const GLOBALS: Record<string, GlobalSig> = {
  round: { params: [num, T.int], minArgs: 1, result: (a) => (a.length > 1 ? T.number : T.int) },
  abs: { params: [num], minArgs: 1, result: (a) => (a[0]!.k === "int" ? T.int : T.number) },
  floor: { params: [num], minArgs: 1, result: () => T.int },
  ceil: { params: [num], minArgs: 1, result: () => T.int },
  min: { params: [num, num], minArgs: 2, variadic: true, result: (a) => (a.every((t) => t.k === "int") ? T.int : T.number) },
  max: { params: [num, num], minArgs: 2, variadic: true, result: (a) => (a.every((t) => t.k === "int") ? T.int : T.number) },
  str: { params: [T.json], minArgs: 1, result: () => T.string },
  arith: { params: [T.string], minArgs: 1, result: () => optional(T.number) },
  int: { params: [T.json], minArgs: 1, result: () => T.int },
  number: { params: [T.json], minArgs: 1, result: () => T.number },
  date_add: { params: [T.date, T.int], minArgs: 2, result: () => T.date },
  datetime_add: { params: [T.datetime, num], minArgs: 2, result: () => T.datetime },
  days_between: { params: [T.string, T.string], minArgs: 2, result: () => T.int },
  date_of: { params: [T.string], minArgs: 1, result: () => T.date },
  new_id: { params: [T.string], minArgs: 1, result: () => T.string },
  range: { params: [T.int, T.int], minArgs: 1, result: () => ({ k: "list", elem: T.int }) },
  zip: {
    params: [T.json, T.json],
    minArgs: 2,
    result: (a) => {
      const [x, y] = a as [Type, Type];
      if (x.k !== "list" || y.k !== "list") return `zip needs two lists, got ${typeToString(x)} and ${typeToString(y)}`;
      return { k: "list", elem: { k: "pair", first: x.elem, second: y.elem } };
    },
  },
};
