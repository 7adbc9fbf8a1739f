// A fast path for validating tool arguments: for argument schemas made of the field types the
// emitter writes for parameters (strings, dates and datetimes, booleans, numbers,
// integers, enums, lists of those, optional and defaulted ones), a generated function that
// accepts exactly what zod accepts without an issue and returns what zod returns; anything
// else (including every invalid input) is left to zod, so that results and error messages
// stay zod's. Relies on zod 4's schema internals (`_zod.def`); on any surprise it builds nothing.
import type { ZodType } from "zod";
import { isDate, isDatetime } from "./dates.js";

/** Validates arguments like the tool's zod schema would, or gives up (undefined) to let zod decide. */
export type FastArgs = (args: unknown) => Record<string, unknown> | undefined;
const fastArgsCache = new WeakMap<object, FastArgs | null>();

/**
 * For a zod strictObject whose fields are plain strings (optionally with one regex, or the one
 * calendar check of dates.ts's DateSchema or DatetimeSchema), booleans,
 * numbers, (safe) integers, string enums or arrays of those, each possibly nullable, optional
 * or with a default: a function that accepts exactly the inputs zod accepts with no issue (a
 * plain object with known keys, of those types) and returns what zod would (a new object,
 * keys in schema order, absent optional keys left out, defaults filled in from zod's own
 * `defaultValue`); for any other input it returns undefined, and the caller asks zod. null
 * for any other schema.
 */
export function fastArgsFor(schema: ZodType): FastArgs | null {
  const cached = fastArgsCache.get(schema);
  if (cached !== undefined) return cached;
  let fast: FastArgs | null = null;
  try {
    fast = buildFastArgs(schema);
  } catch {
    fast = null;
  }
  fastArgsCache.set(schema, fast);
  return fast;
}

type ZodDef = Record<string, any>;
const zdef = (s: unknown): ZodDef | undefined => (s as { _zod?: { def?: ZodDef } })?._zod?.def;
/** the def holds these keys and no others (a refine, a coercion or a format would add some) */
const only = (def: ZodDef, ...keys: string[]) => Object.keys(def).every((k) => keys.includes(k));

/** What the generated code needs besides its text: patterns, date tests, enum sets, defaults' defs. */
interface Parts {
  patterns: RegExp[];
  tests: ((s: string) => boolean)[];
  enums: Set<unknown>[];
  defaults: ZodDef[];
}

/**
 * A JavaScript condition that is true when `v` is NOT a value of this scalar type (no wrappers,
 * no lists), or null when the type is not one the fast path knows.
 */
function rejects(def: ZodDef | undefined, v: string, parts: Parts): string | null {
  if (!def) return null;
  const checks = (def.checks ?? []) as { _zod?: { def?: ZodDef } }[];
  switch (def.type) {
    case "string": {
      if (!only(def, "type", "checks", "error")) return null;
      if (checks.length === 0) return `typeof ${v} !== "string"`;
      const c = zdef(checks[0]);
      // dates.ts's refine: its function is the whole test (its error only words zod's message)
      if (checks.length === 1 && c && c.check === "custom" && (c.fn === isDate || c.fn === isDatetime) && only(c, "type", "check", "fn", "error")) {
        parts.tests.push(c.fn as (s: string) => boolean);
        return `typeof ${v} !== "string" || !T[${parts.tests.length - 1}](${v})`;
      }
      if (checks.length !== 1 || !c || !only(c, "check", "format", "error", "pattern")) return null;
      if (c.check !== "string_format" || c.format !== "regex" || !(c.pattern instanceof RegExp)) return null;
      // a global or sticky pattern carries state between tests (zod resets lastIndex; not worth it)
      if (c.pattern.global || c.pattern.sticky) return null;
      parts.patterns.push(c.pattern);
      return `typeof ${v} !== "string" || !P[${parts.patterns.length - 1}].test(${v})`;
    }
    case "boolean":
      return only(def, "type", "checks", "error") && checks.length === 0 ? `typeof ${v} !== "boolean"` : null;
    case "number": {
      if (!only(def, "type", "checks", "error")) return null;
      if (checks.length === 0) return `typeof ${v} !== "number" || !Number.isFinite(${v})`;
      const c = zdef(checks[0]);
      if (checks.length === 1 && c?.check === "number_format" && c.format === "safeint") return `!Number.isSafeInteger(${v})`;
      return null;
    }
    case "enum": {
      if (!only(def, "type", "entries", "error") || !def.entries || typeof def.entries !== "object") return null;
      const values = Object.values(def.entries as Record<string, unknown>);
      if (!values.every((x) => typeof x === "string")) return null;
      parts.enums.push(new Set(values));
      return `!E[${parts.enums.length - 1}].has(${v})`;
    }
    default:
      return null;
  }
}

function buildFastArgs(schema: ZodType): FastArgs | null {
  const def = zdef(schema);
  if (!def || def.type !== "object" || zdef(def.catchall)?.type !== "never") return null;
  // a strict object and nothing more (a refine() would add checks)
  if (!only(def, "type", "shape", "catchall", "error")) return null;
  const shape = def.shape as Record<string, unknown>;
  if (!shape || Object.getPrototypeOf(shape) !== Object.prototype || Object.getOwnPropertySymbols(shape).length) return null;
  const keys = Object.keys(shape);
  if (keys.length > 16) return null;
  const parts: Parts = { patterns: [], tests: [], enums: [], defaults: [] };
  const helpers: string[] = [];
  const checks: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === "__proto__") return null; // zod leaves it out of its output
    const key = JSON.stringify(k);
    let f = zdef(shape[k]);
    // wrappers, outermost first: optional or default, then nullable
    let optional = false;
    let defaulted = -1;
    if (f?.type === "optional" && only(f, "type", "innerType")) {
      optional = true;
      f = zdef(f.innerType);
    } else if (f?.type === "default" && only(f, "type", "innerType", "defaultValue")) {
      parts.defaults.push(f);
      defaulted = parts.defaults.length - 1;
      f = zdef(f.innerType);
    }
    let nullable = false;
    if (f?.type === "nullable" && only(f, "type", "innerType")) {
      nullable = true;
      f = zdef(f.innerType);
    }
    // the accepted value: the input's own, or for a list a dense copy (zod returns a new array)
    let accept: string;
    if (f?.type === "array") {
      if (!only(f, "type", "element", "error")) return null;
      const elem = rejects(zdef(f.element), "e", parts);
      if (elem === null) return null;
      helpers.push(`function list${i}(x) {
      if (!Array.isArray(x)) return undefined;
      const c = new Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const e = x[j];
        if (${elem}) return undefined;
        c[j] = e;
      }
      return c;
    }`);
      accept = `v${i} = list${i}(r${i}); if (v${i} === undefined) return undefined;`;
    } else {
      const test = rejects(f, `r${i}`, parts);
      if (test === null) return null;
      accept = `if (${test}) return undefined; v${i} = r${i};`;
    }
    // `present` counts the keys holding a value; compared with the enumerable keys counted
    // before, it tells an absent key from one present as undefined (zod keeps the latter) and
    // notices hidden ones: either way zod decides
    checks.push(`const r${i} = a[${key}]; let v${i};
    if (r${i} === undefined) { ${optional || defaulted >= 0 ? "" : "return undefined;"} }
    else { present++; ${nullable ? `if (r${i} === null) v${i} = null; else { ${accept} }` : accept} }`);
    if (optional) out.push(`if (r${i} !== undefined) o[${key}] = v${i};`);
    else if (defaulted >= 0) out.push(`o[${key}] = r${i} === undefined ? D[${defaulted}].defaultValue : v${i};`);
    else out.push(`o[${key}] = v${i};`);
  }
  const lit = keys.map((k) => JSON.stringify(k));
  const body = `${helpers.join("\n    ")}
  return function fastArgs(a) {
    if (typeof a !== "object" || a === null) return undefined;
    const p = Object.getPrototypeOf(a);
    if (p !== Object.prototype && p !== null) return undefined;
    let n = 0;
    for (const k in a) {
      ${keys.length ? `if (${lit.map((k) => `k !== ${k}`).join(" && ")}) return undefined;` : "return undefined;"}
      n++;
    }
    let present = 0;
    ${checks.join("\n    ")}
    if (n !== present) return undefined;
    const o = {};
    ${out.join("\n    ")}
    return o;
  };`;
  return new Function("P", "T", "E", "D", body)(parts.patterns, parts.tests, parts.enums, parts.defaults) as FastArgs;
}
