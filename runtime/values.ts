// TEMPORARY minimal value helpers (to be replaced by the full implementation with tests).
export const KEY_ORDER: unique symbol = Symbol("envc.keyOrder");
export class JsonSyntaxError extends Error { constructor(message: string, readonly line: number, readonly column: number) { super(message); } }
function isTie(x: number, n: number): boolean {
  if (!Number.isFinite(x)) return false;
  const buf = new DataView(new ArrayBuffer(8)); buf.setFloat64(0, Math.abs(x));
  const bits = buf.getBigUint64(0); const expBits = Number((bits >> 52n) & 0x7ffn); let mant = bits & ((1n << 52n) - 1n);
  let e: number; if (expBits === 0) e = -1074; else { mant |= 1n << 52n; e = expBits - 1075; }
  if (e >= 0) return false;
  let num = mant * 2n; let den = 1n << BigInt(-e);
  if (n >= 0) num *= 10n ** BigInt(n); else den *= 10n ** BigInt(-n);
  return num % den === 0n && (num / den) % 2n === 1n;
}
export function pyRound(x: number, ndigits = 0): number {
  if (!Number.isFinite(x)) return x;
  if (ndigits > 300) return x;
  if (ndigits < 0) { const p = 10 ** -ndigits; const y = x / p; let r = Math.round(y); if (Math.abs(y - Math.trunc(y)) === 0.5 && r % 2 !== 0) r -= Math.sign(y); return r * p; }
  if (Math.abs(x) >= 1e21) return x;
  if (isTie(x, ndigits)) { const s = 10 ** ndigits; const lo = Math.floor(Math.abs(x) * s); const even = lo % 2 === 0 ? lo : lo + 1; return Math.sign(x) * Number((even / s).toFixed(ndigits)); }
  return Number(x.toFixed(Math.min(ndigits, 100)));
}
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return "nan"; if (x === Infinity) return "inf"; if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x); if (/e/.test(s)) { const [m, ex] = s.split("e"); const n = Number(ex); return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`; }
  if (Math.abs(x) >= 1e16) return pyFloatStr(Number(x.toExponential())).replace(/^(.*)$/, "$1");
  return Number.isInteger(x) ? `${s}.0` : s;
}
export function pyMod(a: number, b: number): number { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; }
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true; if (a == null || b == null) return a == null && b == null;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) { if (!Array.isArray(b) || a.length !== b.length) return false; for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false; return true; }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as any)[k] !== undefined); const kb = Object.keys(b).filter((k) => (b as any)[k] !== undefined);
  if (ka.length !== kb.length) return false; for (const k of ka) if (!deepEqual((a as any)[k], (b as any)[k])) return false; return true;
}
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const out: any = {}; for (const k of Object.keys(v)) out[k] = cloneJson((v as any)[k]);
  const order = (v as any)[KEY_ORDER]; if (order) Object.defineProperty(out, KEY_ORDER, { value: order, enumerable: false });
  return out;
}
export function deepFreeze<T>(v: T): T { if (v === null || typeof v !== "object" || Object.isFrozen(v)) return v; Object.freeze(v); for (const k of Object.keys(v)) deepFreeze((v as any)[k]); return v; }
export function parseJsonOrdered(text: string): unknown { try { return JSON.parse(text); } catch (e) { throw new JsonSyntaxError((e as Error).message, 1, 1); } }
export function orderedKeys(obj: object): string[] { const order = (obj as any)[KEY_ORDER] as string[] | undefined; if (!order) return Object.keys(obj); const keys = order.filter((k) => Object.prototype.hasOwnProperty.call(obj, k)); for (const k of Object.keys(obj)) if (!keys.includes(k)) keys.push(k); return keys; }
export function stringifyOrdered(v: unknown, indent?: number): string { return JSON.stringify(v, null, indent) ?? "null"; }
function ymd(s: string): Date { const d = new Date(s.slice(0, 10) + "T00:00:00Z"); if (Number.isNaN(d.getTime())) throw new RangeError(`Not a date: ${s}`); return d; }
export function dateAdd(date: string, days: number): string { const d = ymd(date); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10); }
export function datetimeAdd(dt: string, minutes: number): string { const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(.*)$/.exec(dt); if (!m) throw new RangeError(`Not a datetime: ${dt}`); const d = new Date(`${m[1]}T${m[2]}:${m[3]}${m[4] ?? ":00"}Z`); d.setUTCMinutes(d.getUTCMinutes() + minutes); const iso = d.toISOString(); return iso.slice(0, 16) + (m[4] ? iso.slice(16, 19) : "") + (m[6] ?? ""); }
export function daysBetween(a: string, b: string): number { return Math.round((ymd(b).getTime() - ymd(a).getTime()) / 86400000); }
export function dateOf(dt: string): string { return dt.slice(0, 10); }
export function isDate(s: string): boolean { return /^\d{4}-\d{2}-\d{2}$/.test(s); }
export function isDatetime(s: string): boolean { return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s); }
export function toText(v: unknown, isFloat: boolean): string { if (typeof v === "string") return v; if (typeof v === "number") return isFloat ? pyFloatStr(v) : String(v); if (v == null) return "null"; if (typeof v === "boolean") return String(v); return JSON.stringify(v); }
