// Does a JSON value (a tool's result) fit a declared IR type? Used by the fuzzer to catch tools
// that return something other than what their signature promises. The checks follow what the
// runtime's zod schemas accept for states (calendar dates and datetimes as runtime/dates.ts
// defines them, defaults and optional fields that may be absent), plus what zod cannot see:
// ints that are safe integers, finite numbers, enum keys of maps. Never throws.
import { typeToString, type FieldType, type IEnv, type Type } from "../ir.js";
import { DATE_PATTERN, DATETIME_PATTERN, isDate, isDatetime, dateProblem, datetimeProblem } from "../../runtime/dates.js";

/**
 * The first place where `value` does not match `type`, as `path: expected X, got Y` (the path
 * in JSONPath style from `path`, e.g. `$.items[2].qty: expected int, got 1.5`), or undefined
 * when it matches.
 */
export function typeProblem(type: Type, value: unknown, env: IEnv, path = "$"): string | undefined {
  try {
    // the fuzzer asks after every successful call: answer the common "yes" without building paths
    if (fits(type, value, 0)) return undefined;
    return check(type, value, env, path, 0);
  } catch (err) {
    // cyclic values, getters that throw, stack exhaustion: report instead of throwing
    return `${path}: could not be checked (${err instanceof Error ? err.message : String(err)})`;
  }
}

const MAX_DEPTH = 200;

/**
 * Frozen values already found to fit a record, list or map type. Queries return the state's
 * own records again and again, and the runtime deep-freezes every committed record (a frozen
 * value never changes, and everything inside it is frozen too), so one look per record and
 * type is enough. Keyed by the type object: the IR of one compiled spec.
 */
const fitting = new WeakMap<Type, WeakSet<object> | null>();

/**
 * The cache of values known to fit a type, or null for a record of scalar fields only: looking
 * at its few fields costs less than adding each new record (every successful action returns
 * one) to a WeakSet, which was the largest single cost of the result check.
 */
function fittingOf(type: Type): WeakSet<object> | null {
  let known = fitting.get(type);
  if (known === undefined) fitting.set(type, (known = type.k === "record" && type.fields.every((f) => scalar(f.type)) ? null : new WeakSet()));
  return known;
}

function scalar(type: Type): boolean {
  switch (type.k) {
    case "optional":
      return scalar(type.inner);
    case "string":
    case "ref":
    case "enum":
    case "int":
    case "number":
    case "bool":
    case "date":
    case "datetime":
    case "json":
    case "null":
    case "void":
    case "error":
      return true;
    default:
      return false;
  }
}

/** The same judgement as check(), as a bool: no paths, no messages, no allocations. */
function fits(type: Type, value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if ((type.k === "record" || type.k === "list" || type.k === "map") && typeof value === "object" && value !== null && Object.isFrozen(value)) {
    const known = fittingOf(type);
    if (known === null) return fitsShape(type, value, depth);
    if (known.has(value)) return true;
    if (!fitsShape(type, value, depth)) return false;
    known.add(value);
    return true;
  }
  return fitsShape(type, value, depth);
}

function fitsShape(type: Type, value: unknown, depth: number): boolean {
  switch (type.k) {
    case "string":
    case "ref":
      return typeof value === "string";
    case "date":
      return isDate(value);
    case "datetime":
      return isDatetime(value);
    case "int":
      return Number.isSafeInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "bool":
      return typeof value === "boolean";
    case "enum":
      return typeof value === "string" && type.values.includes(value);
    case "json":
    case "error":
      return true;
    case "null":
    case "void":
      return value === null || value === undefined;
    case "optional":
      return value === null || value === undefined || fits(type.inner, value, depth + 1);
    case "list":
      if (!Array.isArray(value)) return false;
      for (let i = 0; i < value.length; i++) if (!fits(type.elem, value[i], depth + 1)) return false;
      return true;
    case "record": {
      if (!isPlainObject(value)) return false;
      let known = 0;
      for (const f of type.fields) {
        const v = value[f.name];
        const present = v !== undefined && Object.prototype.hasOwnProperty.call(value, f.name);
        if (!present) {
          if (f.hasDefault || f.type.k === "optional" || f.type.k === "null" || f.type.k === "json" || f.type.k === "void") continue;
          return false;
        }
        known++;
        if (!fits(f.type, v, depth + 1)) return false;
      }
      // no unknown fields: every own key is one of the fields (undefined-valued keys count as absent)
      let own = 0;
      for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k) && value[k] !== undefined) own++;
      return own === known;
    }
    case "map": {
      if (!isPlainObject(value)) return false;
      const kk = type.key.k;
      if (kk !== "string" && kk !== "ref") return false; // enum or date keys: check() looks at them
      for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k) && !fits(type.value, value[k], depth + 1)) return false;
      return true;
    }
    default:
      return false; // pairs and the rest: let check() decide, with its message
  }
}

function check(type: Type, value: unknown, env: IEnv, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `${path}: value nested too deeply (over ${MAX_DEPTH} levels)`;
  switch (type.k) {
    case "string":
    case "ref":
      return typeof value === "string" ? undefined : expected(path, type.k === "ref" ? `${typeToString(type)} (a key string)` : "string", value);
    case "date":
      if (typeof value !== "string") return expected(path, "date", value);
      if (!DATE_PATTERN.test(value)) return expected(path, "date (YYYY-MM-DD)", value);
      return isDate(value) ? undefined : `${path}: ${dateProblem(value)}`;
    case "datetime":
      if (typeof value !== "string") return expected(path, "datetime", value);
      if (!DATETIME_PATTERN.test(value)) return expected(path, "datetime (YYYY-MM-DDTHH:MM:SS)", value);
      return isDatetime(value) ? undefined : `${path}: ${datetimeProblem(value)}`;
    case "int":
      return Number.isSafeInteger(value) ? undefined : expected(path, "int", value);
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? undefined : expected(path, "number", value);
    case "bool":
      return typeof value === "boolean" ? undefined : expected(path, "bool", value);
    case "enum":
      if (typeof value === "string" && type.values.includes(value)) return undefined;
      return expected(path, enumText(type), value);
    case "json":
    case "error":
      return undefined;
    case "null":
    case "void":
      return value === null || value === undefined ? undefined : expected(path, "null", value);
    case "optional":
      return value === null || value === undefined ? undefined : check(type.inner, value, env, path, depth + 1);
    case "list": {
      if (!Array.isArray(value)) return expected(path, typeToString(type), value);
      for (let i = 0; i < value.length; i++) {
        const p = check(type.elem, value[i], env, `${path}[${i}]`, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    case "pair": {
      if (!Array.isArray(value) || value.length !== 2) return expected(path, `${typeToString(type)} (a 2-element array)`, value);
      return check(type.first, value[0], env, `${path}[0]`, depth + 1) ?? check(type.second, value[1], env, `${path}[1]`, depth + 1);
    }
    case "map": {
      if (!isPlainObject(value)) return expected(path, typeToString(type), value);
      const keyType = type.key.k === "optional" ? type.key.inner : type.key;
      for (const k of Object.keys(value)) {
        const kp = member(path, k);
        if (keyType.k === "enum" && !keyType.values.includes(k)) return `${kp}: unexpected key (expected a key of ${enumText(keyType)})`;
        if (keyType.k === "date" && !isDate(k)) return `${kp}: unexpected key (${dateProblem(k)})`;
        if (keyType.k === "datetime" && !isDatetime(k)) return `${kp}: unexpected key (${datetimeProblem(k)})`;
        const p = check(type.value, value[k], env, kp, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    case "table": {
      if (!isPlainObject(value)) return expected(path, typeToString(type), value);
      const entity = env.entities.find((e) => e.name === type.entity);
      if (!entity) return undefined;
      for (const k of Object.keys(value)) {
        const p = check(entity.type, value[k], env, member(path, k), depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    case "record":
      return checkRecord(type, value, env, path, depth);
    case "lambda":
      return expected(path, typeToString(type), value);
  }
}

function checkRecord(type: Extract<Type, { k: "record" }>, value: unknown, env: IEnv, path: string, depth: number): string | undefined {
  if (!isPlainObject(value)) return expected(path, typeToString(type), value);
  // an entity's record type holds its fields; with an external key the key is not among them
  const fields: readonly FieldType[] = type.fields;
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const f of fields) {
    const fp = member(path, f.name);
    const present = Object.prototype.hasOwnProperty.call(value, f.name) && value[f.name] !== undefined;
    if (!present) {
      if (f.hasDefault || f.type.k === "optional" || f.type.k === "null" || f.type.k === "json" || f.type.k === "void") continue;
      return `${fp}: missing (expected ${typeToString(f.type)})`;
    }
    const p = check(f.type, value[f.name], env, fp, depth + 1);
    if (p) return p;
  }
  for (const k of Object.keys(value)) {
    if (byName.has(k)) continue;
    const entity = type.entity ? env.entities.find((e) => e.name === type.entity) : undefined;
    const note = entity?.externalKey && k === entity.key ? ` (${entity.name} has an external key: records do not hold ${k})` : "";
    return `${member(path, k)}: unknown field${note} (expected ${fields.length ? `one of ${fields.map((f) => f.name).join(", ")}` : "no fields"})`;
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function member(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function enumText(t: Extract<Type, { k: "enum" }>): string {
  const values = t.values.map((v) => JSON.stringify(v)).join(" | ");
  return t.name ? `${t.name} (${values})` : values;
}

function expected(path: string, what: string, value: unknown): string {
  return `${path}: expected ${what}, got ${describe(value)}`;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : String(v);
  if (typeof v === "string") {
    const s = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    return s;
  }
  if (typeof v === "boolean") return String(v);
  if (typeof v === "object") {
    const keys = Object.keys(v);
    return keys.length ? `an object with ${keys.slice(0, 4).join(", ")}${keys.length > 4 ? ", ..." : ""}` : "an empty object";
  }
  return typeof v;
}
