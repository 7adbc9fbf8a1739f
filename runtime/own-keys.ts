// zod schemas for maps and `json` values that keep every key of the data, "__proto__"
// included: zod's record and json schemas skip that key (so that assigning it cannot replace
// their output's prototype), which silently dropped a state's map entry stored under it. Map
// keys come from users' data, so any string must work. Also mapSet, the one way generated code
// writes a map entry (mapAdd, mapSub for `+=`, `-=`). Assumes zod 4; imports nothing from the compiler.
import { z, type ZodType } from "zod";
import { cloneJson, orderedKeys, carryKeyOrder } from "./values.js";
import { EnvFault } from "./ops.js";

const hasOwn = Object.prototype.hasOwnProperty;
const PROTO = "__proto__";

/** `m[key] = v`, also for the key "__proto__" (an assignment would set the prototype). */
export function mapSet<V>(m: Record<string, V>, key: string, v: V): void {
  if (key === PROTO) Object.defineProperty(m, key, { value: v, writable: true, enumerable: true, configurable: true });
  else m[key] = v;
}

/** `m[key] += v` on a map entry that must exist (a missing key is a fault, as for `m[key]`). */
export function mapAdd(m: Record<string, any>, key: string, v: any, loc: string): void {
  if (!hasOwn.call(m, key)) throw new EnvFault(`No key '${key}' in map`, loc);
  mapSet(m, key, m[key] + v);
}

/** `m[key] -= v` on a map entry that must exist. */
export function mapSub(m: Record<string, number>, key: string, v: number, loc: string): void {
  if (!hasOwn.call(m, key)) throw new EnvFault(`No key '${key}' in map`, loc);
  mapSet(m, key, m[key]! - v);
}

type Issue = { path?: PropertyKey[] } & Record<string, unknown>;
type Ctx = { addIssue: (i: never) => void };

function passIssues(ctx: Ctx, issues: readonly Issue[], prefix: PropertyKey[] = []): typeof z.NEVER {
  for (const i of issues) ctx.addIssue({ ...i, path: [...prefix, ...(i.path ?? [])] } as never);
  return z.NEVER;
}

type Payload = { value: unknown; issues: Issue[] };
type ZodInternals = { parse: (p: Payload, ctx: unknown) => Payload | Promise<Payload>; run: (p: Payload, ctx: unknown) => Payload | Promise<Payload> };
const internals = (s: unknown): ZodInternals | undefined => {
  const i = (s as { _zod?: ZodInternals })?._zod;
  return i && typeof i.parse === "function" && typeof i.run === "function" ? i : undefined;
};

/**
 * `z.record(key, value)`, except that an entry under "__proto__" is checked and kept like any
 * other (in its place in the key order). Everything else is zod's own result and issues.
 * zod's parse is wrapped in place (zod 4 internals, as fast-args.ts relies on) so that maps
 * without that key, nearly all, cost what z.record costs: a tau-bench state holds thousands of
 * maps. Should zod's internals change shape, a transform does the same, slower.
 */
export function mapOf(key: ZodType, value: ZodType): ZodType {
  const record = z.record(key as z.ZodType<string>, value);
  const rec = internals(record);
  const k = internals(key);
  const v = internals(value);
  if (!rec || !k || !v || rec.run !== rec.parse) return mapOfByTransform(record, key, value);
  const parse = rec.parse;
  const own = (payload: Payload, ctx: unknown): Payload | Promise<Payload> => {
    const input = payload.value;
    const out = parse(payload, ctx);
    if (typeof input !== "object" || input === null || !hasOwn.call(input, PROTO) || out instanceof Promise) return out;
    const src = input as Record<string, unknown>;
    const kr = k.run({ value: PROTO, issues: [] }, ctx) as Payload;
    if (kr.issues.length) {
      const inner = kr.issues[0] as { message?: string };
      out.issues.push({ code: "custom", message: `key ${inner.message ?? "is not allowed"}`, path: [PROTO], input: PROTO });
      return out;
    }
    const vr = v.run({ value: src[PROTO], issues: [] }, ctx) as Payload;
    if (vr.issues.length) {
      for (const i of vr.issues) out.issues.push({ ...i, path: [PROTO, ...(i.path ?? [])] });
      return out;
    }
    if (out.issues.length) return out;
    out.value = withProto(src, out.value as Record<string, unknown>, vr.value);
    return out;
  };
  rec.parse = own;
  rec.run = own;
  return record;
}

/** The parsed map again in the input's key order, the "__proto__" entry where it was. */
function withProto(src: Record<string, unknown>, data: Record<string, unknown>, proto: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of orderedKeys(src)) mapSet(out, name, name === PROTO ? proto : data[name]);
  carryKeyOrder(src, out);
  return out;
}

/** mapOf without zod's internals (exported for its test). */
export function mapOfByTransform(record: ZodType, key: ZodType, value: ZodType): ZodType {
  return z.unknown().transform((input, ctx) => {
    const r = record.safeParse(input);
    if (!r.success) return passIssues(ctx, r.error.issues as unknown as Issue[]);
    const data = r.data as Record<string, unknown>;
    if (!hasOwn.call(input, PROTO)) return data;
    const src = input as Record<string, unknown>;
    const k = key.safeParse(PROTO);
    if (!k.success) {
      const inner = k.error.issues[0];
      return passIssues(ctx, [{ code: "custom", message: `key ${inner?.message ?? "is not allowed"}`, path: [PROTO] }]);
    }
    const v = value.safeParse(src[PROTO]);
    if (!v.success) return passIssues(ctx, v.error.issues as unknown as Issue[], [PROTO]);
    return withProto(src, data, v.data);
  });
}

/** Whether a JSON value holds a "__proto__" key at any depth. */
function holdsProto(v: unknown, depth = 0): boolean {
  if (typeof v !== "object" || v === null || depth > 256) return false;
  if (Array.isArray(v)) return v.some((e) => holdsProto(e, depth + 1));
  if (hasOwn.call(v, PROTO)) return true;
  for (const k in v) if (holdsProto((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** Every value of a JSON tree (as zod's json schema checks it), "__proto__" entries included. */
function jsonValues(v: unknown, depth = 0): unknown[] {
  if (typeof v !== "object" || v === null || depth > 256) return [v];
  const vals = Array.isArray(v) ? v : Object.keys(v).map((k) => (v as Record<string, unknown>)[k]);
  return [v, ...vals.flatMap((e) => (typeof e === "object" && e !== null ? jsonValues(e, depth + 1) : [e]))];
}

const json = z.json();

/**
 * `z.json()`, except that objects keep a "__proto__" key (an own, enumerable entry of the
 * copy); a value without one gets zod's result unchanged.
 */
export const JsonValueSchema: ZodType = z.unknown().transform((input, ctx) => {
  const r = json.safeParse(input);
  if (!r.success) return passIssues(ctx, r.error.issues as unknown as Issue[]);
  if (!holdsProto(input)) return r.data;
  // zod did not look under "__proto__": check those values too, then copy keeping the key
  for (const e of jsonValues(input)) {
    if (typeof e === "object" && e !== null && hasOwn.call(e, PROTO)) {
      const inner = json.safeParse((e as Record<string, unknown>)[PROTO]);
      if (!inner.success) return passIssues(ctx, inner.error.issues as unknown as Issue[], [PROTO]);
    }
  }
  return cloneJson(input);
});
