// Which names a spec may not use, and why: the checker refuses them (ENV2020) so that the
// generated code is valid and behaves for every name it accepts. Names the emitter can make
// safe by itself (a tool called `call` or `fork`, a record called `State`, a local called
// `new`) are not here: emit.ts and emit-js.ts rename what they generate instead.
// Assumes identifiers are [A-Za-z_][A-Za-z0-9_]* (grammar/tokens.ts).

/** What a name names, as the message says it. */
export type NameRole = "parameter" | "field" | "state field" | "type" | "tool" | "invariant" | "local";

export interface ReservedName {
  /** why the name cannot be used, a sentence fragment after "'x' cannot name a <role>: " */
  reason: string;
  /** a replacement to suggest */
  suggestion: string;
}

/**
 * Names every JavaScript object inherits (Object.prototype's own names). A field, state field
 * or parameter named so would read the inherited value when absent (`rec.toString` is a
 * function, `rec.constructor` is Object), and zod itself reads them so: an optional field
 * `constructor` missing from a state was refused as "received function". Listed, not read
 * from Object.prototype at run time, so that the language does not change with the engine.
 */
export const OBJECT_MEMBER_NAMES: ReadonlySet<string> = new Set([
  "__proto__", "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toString",
  "toLocaleString", "valueOf", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
]);

/**
 * Type names the generated TypeScript cannot declare: the .env language's own types (a record
 * `string` could never be referred to), TypeScript's primitive type names (`interface string`
 * is an error) and the generated module's imports (`z` from zod, `rt` the runtime).
 */
const TYPE_NAMES: ReadonlySet<string> = new Set([
  "string", "int", "number", "bool", "date", "datetime", "json", "list", "map", "table", "ref",
  "boolean", "object", "symbol", "bigint", "undefined", "void", "never", "unknown", "any",
  "z", "rt",
]);

/** Why `name` cannot name a `role`, or undefined when it can. */
export function reservedName(name: string, role: NameRole): ReservedName | undefined {
  const suggestion = `${name.replace(/^_+|_+$/g, "") || "name"}_${role === "type" ? "type" : "value"}`;
  // `__proto__` sets an object's prototype when assigned: it names nothing in a spec
  if (name === "__proto__")
    return { reason: "`__proto__` is JavaScript's prototype accessor: a value stored under it would be lost", suggestion: "proto" };
  switch (role) {
    case "parameter":
    case "field":
    case "state field":
      // a parameter is a property of the arguments object, like a field of a record. A
      // reserved word may name one (tool APIs need them: tau-bench's `state`), as it may name a
      // field: the body reads it where any word is allowed (`{ state }` in a record literal)
      if (OBJECT_MEMBER_NAMES.has(name))
        return {
          reason: `every JavaScript object already has a '${name}', so the generated code could not tell a missing ${role} from it`,
          suggestion,
        };
      return undefined;
    case "type":
      if (TYPE_NAMES.has(name))
        return {
          reason: name === "z" || name === "rt" ? `the generated module imports '${name}'` : `'${name}' is a built-in type name`,
          suggestion: name[0]!.toUpperCase() + name.slice(1) + "Type",
        };
      return undefined;
    default:
      return undefined;
  }
}
