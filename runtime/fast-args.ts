// A fast path for validating tool arguments: for argument schemas made only of plain
// required strings, booleans, numbers and integers, a generated function that accepts exactly
// what zod accepts without an issue and returns what zod returns; anything else (including
// every invalid input) is left to zod, so that results and error messages stay zod's.
// Relies on zod 4's schema internals (`_zod.def`); on any surprise it builds nothing.
import type { ZodType } from "zod";

/** Validates arguments like the tool's zod schema would, or gives up (undefined) to let zod decide. */
export type FastArgs = (args: unknown) => Record<string, unknown> | undefined;
const fastArgsCache = new WeakMap<object, FastArgs | null>();

/**
 * For a zod strictObject whose fields are all plain required strings, booleans, numbers or
 * (safe) integers: a function that accepts exactly the inputs zod accepts with no issue (a
 * plain object with those keys and nothing else, of those types) and returns what zod would
 * (a new object, keys in schema order); for any other input it returns undefined, and the
 * caller asks zod. null for any other schema.
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

function buildFastArgs(schema: ZodType): FastArgs | null {
  const zdef = (s: unknown) => (s as { _zod?: { def?: Record<string, any> } })?._zod?.def;
  const def = zdef(schema);
  if (!def || def.type !== "object" || zdef(def.catchall)?.type !== "never") return null;
  // a strict object and nothing more (a refine() would add checks)
  if (Object.keys(def).some((p) => p !== "type" && p !== "shape" && p !== "catchall" && p !== "error")) return null;
  const shape = def.shape as Record<string, unknown>;
  if (!shape || Object.getPrototypeOf(shape) !== Object.prototype || Object.getOwnPropertySymbols(shape).length) return null;
  const keys = Object.keys(shape);
  if (keys.length > 16) return null;
  const tests: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === "__proto__") return null; // zod leaves it out of its output
    const f = zdef(shape[k]);
    // only the plain types: no coercion, no format (z.email(), z.int32(), ...: a string or
    // number def with a format and no listed checks), nothing but `error` (messages) besides
    if (!f || Object.keys(f).some((p) => p !== "type" && p !== "checks" && p !== "error")) return null;
    const checks = (f.checks ?? []) as { _zod?: { def?: Record<string, unknown> } }[];
    const v = `v${i}`;
    if (f.type === "string" && checks.length === 0) tests.push(`typeof ${v} !== "string"`);
    else if (f.type === "boolean" && checks.length === 0) tests.push(`typeof ${v} !== "boolean"`);
    else if (f.type === "number" && checks.length === 0) tests.push(`typeof ${v} !== "number" || !Number.isFinite(${v})`);
    else if (f.type === "number" && checks.length === 1 && checks[0]!._zod?.def?.check === "number_format" && checks[0]!._zod.def.format === "safeint")
      tests.push(`!Number.isSafeInteger(${v})`);
    else return null;
  }
  const lit = keys.map((k) => JSON.stringify(k));
  const body = `
    if (typeof a !== "object" || a === null) return undefined;
    const p = Object.getPrototypeOf(a);
    if (p !== Object.prototype && p !== null) return undefined;
    let n = 0;
    for (const k in a) {
      ${keys.length ? `if (${lit.map((k) => `k !== ${k}`).join(" && ")}) return undefined;` : "return undefined;"}
      n++;
    }
    if (n !== ${keys.length}) return undefined;
    ${keys.map((_, i) => `const v${i} = a[${lit[i]}];\n    if (${tests[i]}) return undefined;`).join("\n    ")}
    return {${keys.map((_, i) => `[${lit[i]}]: v${i}`).join(", ")}};`;
  return new Function("a", body) as FastArgs;
}
