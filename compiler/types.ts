// The language's types: their shape (as the IR carries them), their printing in diagnostics,
// and the relations the checker needs (assignability, comparability, the join of two branches)
// and the builtin table's classifications. Pure functions of types; no spans, no diagnostics.
export type Type =
  | { k: "string" }
  | { k: "int" }
  | { k: "number" }
  | { k: "bool" }
  | { k: "date" }
  | { k: "datetime" }
  | { k: "json" }
  | { k: "null" }
  | { k: "void" }
  | { k: "error" }
  | { k: "enum"; name?: string; values: string[] }
  | { k: "list"; elem: Type }
  | { k: "map"; key: Type; value: Type }
  | { k: "record"; name?: string; fields: FieldType[]; entity?: string }
  | { k: "ref"; entity: string }
  | { k: "table"; entity: string }
  | { k: "optional"; inner: Type }
  | { k: "pair"; first: Type; second: Type }
  | { k: "lambda"; params: Type[]; result: Type };

export interface FieldType {
  name: string;
  type: Type;
  description?: string;
  default?: unknown; // a JSON constant
  hasDefault: boolean;
}

export const T = {
  string: { k: "string" } as Type,
  int: { k: "int" } as Type,
  number: { k: "number" } as Type,
  bool: { k: "bool" } as Type,
  date: { k: "date" } as Type,
  datetime: { k: "datetime" } as Type,
  json: { k: "json" } as Type,
  null: { k: "null" } as Type,
  void: { k: "void" } as Type,
  error: { k: "error" } as Type,
};

export function optional(t: Type): Type {
  if (t.k === "optional" || t.k === "null" || t.k === "error" || t.k === "json") return t;
  return { k: "optional", inner: t };
}
export function stripOptional(t: Type): Type {
  return t.k === "optional" ? t.inner : t;
}
export function isOptional(t: Type): boolean {
  return t.k === "optional" || t.k === "null";
}

export function typeToString(t: Type): string {
  switch (t.k) {
    case "enum":
      return t.name ?? t.values.map((v) => JSON.stringify(v)).join(" | ");
    case "list":
      return `list<${typeToString(t.elem)}>`;
    case "map":
      return `map<${typeToString(t.key)}, ${typeToString(t.value)}>`;
    case "record":
      return t.name ?? `{ ${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")} }`;
    case "ref":
      return `ref ${t.entity}`;
    case "table":
      return `table ${t.entity}`;
    case "optional":
      return `${typeToString(t.inner)}?`;
    case "pair":
      return `pair<${typeToString(t.first)}, ${typeToString(t.second)}>`;
    case "lambda":
      return `(${t.params.map(typeToString).join(", ")}) => ${typeToString(t.result)}`;
    case "error":
      return "unknown";
    default:
      return t.k;
  }
}

/** int, number, and the types that stand for anything (json, an already reported error). */
export function isNumeric(t: Type): boolean {
  return t.k === "int" || t.k === "number" || t.k === "error" || t.k === "json";
}
/** Types whose values are strings at run time. */
export function isStringLike(t: Type): boolean {
  return ["string", "date", "datetime", "enum", "ref", "error", "json"].includes(t.k);
}
/** Types that can be ordered (`<`, min, sorted). */
export function isComparable(t: Type): boolean {
  return isNumeric(t) || isStringLike(t) || t.k === "bool";
}

/** Can a value of type `from` stand where `to` is expected? Errors and json fit anything. */
export function assignable(from: Type, to: Type): boolean {
  if (from.k === "error" || to.k === "error" || from.k === "json" || to.k === "json") return true;
  if (to.k === "optional") {
    if (from.k === "null") return true;
    return assignable(from.k === "optional" ? from.inner : from, to.inner);
  }
  if (from.k === "null" || from.k === "optional") return false;
  switch (to.k) {
    case "number":
      return from.k === "int" || from.k === "number";
    case "string":
      return isStringLike(from);
    case "ref":
      return from.k === "string" || (from.k === "ref" && from.entity === to.entity);
    case "date":
    case "datetime":
      return from.k === to.k;
    case "enum":
      return from.k === "enum" && from.values.every((v) => to.values.includes(v));
    case "list":
      return from.k === "list" && assignable(from.elem, to.elem);
    case "map":
      return from.k === "map" && assignable(from.value, to.value);
    case "pair":
      return from.k === "pair" && assignable(from.first, to.first) && assignable(from.second, to.second);
    case "record":
      return from.k === "record" && recordAssignable(from, to);
    default:
      return from.k === to.k;
  }
}

function recordAssignable(from: Extract<Type, { k: "record" }>, to: Extract<Type, { k: "record" }>): boolean {
  if (from === to || (from.name && from.name === to.name)) return true;
  return to.fields.every((f) => {
    const g = from.fields.find((x) => x.name === f.name);
    return g ? assignable(g.type, f.type) : f.hasDefault || isOptional(f.type);
  });
}

/** Can values of these types ever be equal (`==`, `in`)? */
export function comparableTypes(a: Type, b: Type): boolean {
  const x = stripOptional(a);
  const y = stripOptional(b);
  if (x.k === "null" || y.k === "null") return true;
  if (x.k === "enum" && y.k === "enum") return x.values.some((v) => y.values.includes(v));
  if (isStringLike(x) && isStringLike(y)) return true;
  return assignable(x, y) || assignable(y, x);
}

/** The common type of two branches, or undefined when they do not fit together. */
export function join(a: Type, b: Type): Type | undefined {
  if (a.k === "null") return optional(b);
  if (b.k === "null") return optional(a);
  if (assignable(a, b)) return isOptional(a) ? optional(b) : b;
  if (assignable(b, a)) return isOptional(b) ? optional(a) : a;
  if (a.k === "enum" && b.k === "enum") return { k: "enum", values: [...new Set([...a.values, ...b.values])] };
  if (isStringLike(a) && isStringLike(b)) return T.string;
  if (isOptional(a) || isOptional(b)) {
    const j = join(stripOptional(a), stripOptional(b));
    return j ? optional(j) : undefined;
  }
  return undefined;
}
