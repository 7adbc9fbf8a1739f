// Operations that generated tool code calls: failures and faults, lookups that fault with the
// spec location, collection helpers with the language's semantics (Python-like where it
// matters: %, negative indexes, str of floats). Kept small and monomorphic: they run hot.
import { deepEqual, pyMod, toText, orderedKeys } from "./values.js";
import type { Table } from "./store.js";

// A failed precondition in a tool body does not throw: the body returns FAILED (see
// Ctx.fail), since most fuzzed calls fail and a throw costs more than the rest of such a call.
// It is thrown only out of a tool called from another body's expression (Ctx.sure). Neither
// class is an Error: capturing a stack trace would cost more than the whole call. Their
// location is the spec's, not JavaScript's.

/** What a tool body returns when a `require`, `fail` or `let ... else` stops it. */
export const FAILED: unique symbol = Symbol("failed");

/** A `require`/`fail`: the agent's mistake, shown to it as the error (never its location). */
export class PreconditionFailure {
  declare readonly name: "PreconditionFailure";
  constructor(
    readonly message: string,
    readonly location?: string,
  ) {}
}
// on the prototype: one less field to set on every failed call
Object.defineProperty(PreconditionFailure.prototype, "name", { value: "PreconditionFailure" });

/** The spec is wrong (missing key, broken ensure, ...): carries the spec location. */
export class EnvFault {
  readonly name = "EnvFault";
  constructor(
    readonly message: string,
    readonly location: string,
  ) {}
}

/**
 * A call that used up its step budget (see Ctx.steps): the spec let an argument or the state
 * drive a loop, a recursion or a collection past what one call may do. The environment turns
 * it into an env_fault naming the tool and this location (where the budget ran out).
 */
export class StepBudgetExceeded extends EnvFault {
  constructor(location: string) {
    super("step budget exceeded", location);
  }
}

/** Tool and helper calls nested deeper than MAX_CALL_DEPTH (a recursion without an end, most likely). */
export class CallDepthExceeded extends EnvFault {
  constructor(location: string) {
    super("call depth exceeded", location);
  }
}

/**
 * How deep tool and helper calls may nest inside one call. Far below what the JavaScript stack
 * allows (about 10,000 frames; a level takes a few), so a runaway recursion is a clean fault
 * with the spec's location instead of a stack overflow.
 */
export const MAX_CALL_DEPTH = 200;

export function overBudget(loc: string): never {
  throw new StepBudgetExceeded(loc);
}

export function tooDeep(loc: string): never {
  throw new CallDepthExceeded(loc);
}

export function fault(message: string, location: string): never {
  throw new EnvFault(message, location);
}

export function must<T>(table: Table<T & object>, key: string, loc: string): T {
  const v = table.get(key);
  if (v === undefined) throw new EnvFault(`No record '${key}' in table ${table.name}`, loc);
  return v;
}

export function mustW<T>(table: Table<T & object>, key: string, loc: string): T {
  const v = table.getW(key);
  if (v === undefined) throw new EnvFault(`No record '${key}' in table ${table.name}`, loc);
  return v;
}

export function orNull<T>(v: T | undefined): T | null {
  return v === undefined ? null : v;
}

export function mapGet(m: Record<string, any>, key: string, loc: string): any {
  if (!Object.prototype.hasOwnProperty.call(m, key)) throw new EnvFault(`No key '${key}' in map`, loc);
  return m[key]!;
}

export function mapGetOpt(m: Record<string, any>, key: string): any {
  return Object.prototype.hasOwnProperty.call(m, key) ? m[key]! : null;
}

export function mapHas(m: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

export function mapDelete(m: Record<string, unknown>, key: string, loc: string): void {
  if (!Object.prototype.hasOwnProperty.call(m, key)) throw new EnvFault(`No key '${key}' in map`, loc);
  delete m[key];
}

export function at<T = any>(xs: readonly T[] | string, i: number, loc: string): T {
  const n = xs.length;
  const j = i < 0 ? n + i : i;
  if (j < 0 || j >= n || !Number.isInteger(j)) throw new EnvFault(`Index ${i} is out of range (length ${n})`, loc);
  return xs[j] as T;
}

export function setAt<T>(xs: T[], i: number, v: T, loc: string): void {
  const n = xs.length;
  const j = i < 0 ? n + i : i;
  if (j < 0 || j >= n || !Number.isInteger(j)) throw new EnvFault(`Index ${i} is out of range (length ${n})`, loc);
  xs[j] = v;
}

export function div(a: number, b: number, loc: string): number {
  if (b === 0) throw new EnvFault("Division by zero", loc);
  return a / b;
}

export function mod(a: number, b: number, loc: string): number {
  if (b === 0) throw new EnvFault("Modulo by zero", loc);
  return pyMod(a, b);
}

export function num(v: number, loc: string): number {
  if (!Number.isFinite(v)) throw new EnvFault(`Arithmetic gave ${v}`, loc);
  return v;
}

export const eq = deepEqual;

export function str(v: unknown, isFloat: boolean): string {
  return toText(v, isFloat);
}

export function count<T>(xs: readonly T[], f?: (x: T) => boolean): number {
  if (!f) return xs.length;
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (f(xs[i]!)) n++;
  return n;
}

export function sum<T>(xs: readonly T[], f?: (x: T) => number): number {
  let s = 0;
  if (f) for (let i = 0; i < xs.length; i++) s += f(xs[i]!);
  else for (let i = 0; i < xs.length; i++) s += xs[i] as unknown as number;
  return s;
}

function cmp(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

export function minOf<T>(xs: readonly T[], f?: (x: T) => unknown): unknown {
  if (xs.length === 0) return null;
  let best = f ? f(xs[0]!) : xs[0];
  for (let i = 1; i < xs.length; i++) {
    const v = f ? f(xs[i]!) : xs[i];
    if (cmp(v, best) < 0) best = v;
  }
  return best;
}

export function maxOf<T>(xs: readonly T[], f?: (x: T) => unknown): unknown {
  if (xs.length === 0) return null;
  let best = f ? f(xs[0]!) : xs[0];
  for (let i = 1; i < xs.length; i++) {
    const v = f ? f(xs[i]!) : xs[i];
    if (cmp(v, best) > 0) best = v;
  }
  return best;
}

export function minBy<T>(xs: readonly T[], f: (x: T) => unknown): T | null {
  if (xs.length === 0) return null;
  let best = xs[0]!;
  let bestKey = f(best);
  for (let i = 1; i < xs.length; i++) {
    const k = f(xs[i]!);
    if (cmp(k, bestKey) < 0) { best = xs[i]!; bestKey = k; }
  }
  return best;
}

export function maxBy<T>(xs: readonly T[], f: (x: T) => unknown): T | null {
  if (xs.length === 0) return null;
  let best = xs[0]!;
  let bestKey = f(best);
  for (let i = 1; i < xs.length; i++) {
    const k = f(xs[i]!);
    if (cmp(k, bestKey) > 0) { best = xs[i]!; bestKey = k; }
  }
  return best;
}

export function sorted<T>(xs: readonly T[], f?: (x: T) => unknown, desc = false): T[] {
  // Array.prototype.sort is stable; decorate so the key function runs once per element
  const keyed = xs.map((x, i) => ({ x, k: f ? f(x) : x, i }));
  keyed.sort((a, b) => (desc ? cmp(b.k, a.k) : cmp(a.k, b.k)) || a.i - b.i);
  return keyed.map((e) => e.x);
}

export function distinct<T>(xs: readonly T[]): T[] {
  const out: T[] = [];
  // strings, numbers and bools (no NaN, null or undefined): deepEqual is === there, which a Set
  // agrees with, so one pass instead of comparing every pair (the value kept is the first seen:
  // a Set alone would turn -0 into 0)
  if (xs.every(isSetScalar)) {
    const seen = new Set<T>();
    for (const x of xs) {
      if (seen.has(x)) continue;
      seen.add(x);
      out.push(x);
    }
    return out;
  }
  for (const x of xs) if (!out.some((y) => deepEqual(x, y))) out.push(x);
  return out;
}

function isSetScalar(x: unknown): boolean {
  return typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && x === x);
}

export function contains<T>(xs: readonly T[], x: T): boolean {
  for (let i = 0; i < xs.length; i++) if (deepEqual(xs[i], x)) return true;
  return false;
}

export function indexOf<T>(xs: readonly T[], x: T): number {
  for (let i = 0; i < xs.length; i++) if (deepEqual(xs[i], x)) return i;
  return -1;
}

export function remove<T>(xs: T[], x: T, loc: string): void {
  const i = indexOf(xs, x);
  if (i < 0) throw new EnvFault("remove: the value is not in the list", loc);
  xs.splice(i, 1);
}

export function insertAt<T>(xs: T[], i: number, x: T): void {
  const j = i < 0 ? Math.max(0, xs.length + i) : Math.min(i, xs.length);
  xs.splice(j, 0, x);
}

export function pop<T>(xs: T[]): T | null {
  return xs.length ? xs.pop()! : null;
}

export function slice<T>(xs: readonly T[], a: number, b?: number | null): T[] {
  return xs.slice(a, b ?? undefined);
}

export function first<T>(xs: readonly T[]): T | null {
  return xs.length ? xs[0]! : null;
}

export function last<T>(xs: readonly T[]): T | null {
  return xs.length ? xs[xs.length - 1]! : null;
}

export function find<T>(xs: readonly T[], f: (x: T) => boolean): T | null {
  for (let i = 0; i < xs.length; i++) if (f(xs[i]!)) return xs[i]!;
  return null;
}

export interface Pair<A, B> {
  first: A;
  second: B;
}

export function zip<A, B>(xs: readonly A[], ys: readonly B[]): Pair<A, B>[] {
  const n = Math.min(xs.length, ys.length);
  const out: Pair<A, B>[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { first: xs[i]!, second: ys[i]! };
  return out;
}

export function entries<V>(m: Record<string, V>): Pair<string, V>[] {
  return Object.keys(m).map((k) => ({ first: k, second: m[k]! }));
}

export function tableEntries<R extends object>(t: Table<R>): Pair<string, R>[] {
  const keys = t.keys();
  const values = t.values();
  return keys.map((k, i) => ({ first: k, second: values[i]! }));
}

/**
 * `range(a)` / `range(a, b)`. In a tool body the emitter passes the call's context and the
 * spec location: the list's length is charged to the step budget before it is built, so
 * `range(1e9)` is a clean fault and not a heap the process dies of.
 */
export function range(a: number, b?: number | null, s?: { steps: number }, loc?: string): number[] {
  const [lo, hi] = b == null ? [0, a] : [a, b];
  if (s !== undefined && hi - lo > 0) {
    const n = hi - lo;
    // compare before subtracting: steps stays a small integer whatever n is (1e300, Infinity)
    if (!(n <= s.steps)) overBudget(loc!);
    s.steps -= Math.ceil(n);
  }
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(i);
  return out;
}

export function toInt(v: unknown, loc: string): number {
  if (typeof v === "number") return Math.trunc(v);
  const s = String(v).trim();
  if (!/^[+-]?\d+$/.test(s)) throw new EnvFault(`'${s}' is not an integer`, loc);
  return Number(s);
}

export function toNumber(v: unknown, loc: string): number {
  if (typeof v === "number") return v;
  const s = String(v).trim();
  const n = Number(s);
  if (s === "" || !Number.isFinite(n)) throw new EnvFault(`'${s}' is not a number`, loc);
  return n;
}

export function pyFloor(x: number): number {
  return Math.floor(x);
}

export function replaceAll(s: string, a: string, b: string): string {
  return a === "" ? s : s.split(a).join(b);
}

export function split(s: string, sep: string, loc: string): string[] {
  if (sep === "") throw new EnvFault("split: empty separator", loc);
  return s.split(sep);
}

export function insertRec<R extends object>(t: Table<R>, rec: R, loc: string): R {
  if (!t.insert(rec)) throw new EnvFault(`A record with key '${String((rec as Record<string, unknown>)[t.keyField])}' already exists in ${t.name}`, loc);
  return rec;
}

export function deleteRec<R extends object>(t: Table<R>, key: string, loc: string): void {
  if (!t.delete(key)) throw new EnvFault(`No record '${key}' in table ${t.name} to delete`, loc);
}

/** Writable copies of records read from a table (for loops and lets that write through them). */
export function writableAll<R extends object>(t: Table<R>, recs: readonly R[]): R[] {
  const out: R[] = new Array(recs.length);
  for (let i = 0; i < recs.length; i++) out[i] = t.writable(recs[i]!)!;
  return out;
}

export function mapValues(m: Record<string, any>): any[] {
  return orderedKeys(m).map((k: string) => m[k]!);
}

export function jsonGet(obj: unknown, key: unknown): unknown {
  if (obj === null || typeof obj !== "object") return null;
  const v = (obj as Record<string, unknown>)[key as string];
  return v === undefined ? null : v;
}

export function clear<T>(xs: T[]): null {
  xs.length = 0;
  return null;
}
