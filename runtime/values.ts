// Value semantics shared by the runtime: Python-compatible round / str(float) / %, deep JSON
// equality, clone and freeze, and an order-preserving JSON parser and printer. Dates live in
// dates.ts.
// Assumes values are JSON-shaped (plain objects, arrays, strings, finite-or-not numbers,
// booleans, null; undefined counts as null/absent), acyclic, and that KEY_ORDER arrays hold
// no duplicates. Everything here runs in hot loops: the common paths allocate nothing extra.

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

const TWO52 = 4503599627370496; // 2**52: every double at or above is an integer
const SPLITTER = 134217729; // 2**27 + 1, Dekker's split constant
const POW10: number[] = [];
const POW10_HI: number[] = [];
const POW10_LO: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) {
  // 10**i is exact as a double for i <= 22
  const c = SPLITTER * p;
  const hi = c - (c - p);
  POW10.push(p);
  POW10_HI.push(hi);
  POW10_LO.push(p - hi);
}
const BITS = new DataView(new ArrayBuffer(8));

/**
 * Python 3's `round(x, ndigits)` on floats. Without `ndigits` it is Python's `round(x)`, which
 * returns an int: the result is never -0. NaN and infinities come back unchanged; a result
 * too large for a double (Python's OverflowError) comes back as an infinity.
 */
export function pyRound(x: number, ndigits?: number): number {
  if (ndigits === undefined) {
    if (x - x !== 0) return x; // NaN, ±Infinity
    const a = x < 0 ? -x : x;
    if (a >= TWO52) return x;
    let f = Math.floor(a);
    const d = a - f; // exact
    if (d > 0.5 || (d === 0.5 && f % 2 === 1)) f += 1;
    return x < 0 ? 0 - f : f + 0; // never -0: 0 - 0 and -0 + 0 are +0
  }
  if (!Number.isInteger(ndigits)) throw new RangeError(`round: ndigits must be a whole number, got ${ndigits}`);
  if (x - x !== 0 || x === 0) return x;
  if (ndigits > 323) return x; // finer than any double's spacing (Python's NDIGITS_MAX)
  const neg = x < 0;
  if (ndigits < -308) return neg ? -0 : 0;
  const a = neg ? -x : x;
  if (ndigits >= 0) {
    if (a >= TWO52) return x;
    if (ndigits <= 22) {
      const p = POW10[ndigits]!;
      const s = a * p;
      if (s < 0.25) return neg ? -0 : 0; // the exact product is below 0.5
      if (s < TWO52) {
        // a*p = s + err exactly (Dekker's two-product); round s+err to an integer, ties to even
        const c = SPLITTER * a;
        const ah = c - (c - a);
        const al = a - ah;
        const ph = POW10_HI[ndigits]!;
        const pl = POW10_LO[ndigits]!;
        const err = ah * ph - s + ah * pl + al * ph + al * pl;
        const f = Math.floor(s);
        // s - f and f + 0.5 are multiples of ulp(s) <= 0.5, so when d != 0, |d| >= ulp(s) > |err|
        const d = s - f - 0.5;
        const k = d > 0 || (d === 0 && (err > 0 || (err === 0 && f % 2 === 1))) ? f + 1 : f;
        const r = k / p; // correctly rounded: the double nearest k * 10**-ndigits
        return neg ? -r : r;
      }
    }
  }
  const r = roundExact(a, ndigits);
  return neg ? -r : r;
}

/** round(a, n) for a > 0 with exact BigInt arithmetic on a's mantissa and exponent. */
function roundExact(a: number, n: number): number {
  BITS.setFloat64(0, a);
  const hi = BITS.getUint32(0);
  const lo = BITS.getUint32(4);
  const biased = hi >>> 20;
  let m = (hi & 0xfffff) * 4294967296 + lo;
  let e: number;
  if (biased === 0) e = -1074;
  else {
    m += TWO52;
    e = biased - 1075;
  }
  let num = BigInt(m);
  let den = 1n;
  if (e > 0) num <<= BigInt(e);
  else if (e < 0) den <<= BigInt(-e);
  if (n > 0) num *= 10n ** BigInt(n);
  else if (n < 0) den *= 10n ** BigInt(-n);
  let q = num / den;
  const r2 = (num - q * den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) q += 1n;
  if (q === 0n) return 0;
  return Number(`${q}e${-n}`); // decimal-to-double is correctly rounded
}

/** Python's `repr(float)` / `str(float)`: "10.0", "-0.0", "1e+16", "1e-05", "inf", "nan". */
export function pyFloatStr(x: number): string {
  if (x !== x) return "nan";
  const a = x < 0 ? -x : x;
  if (a < 1e16) {
    if (a >= 1e-4) return Number.isInteger(x) ? String(x) + ".0" : String(x);
    if (a === 0) return 1 / x < 0 ? "-0.0" : "0.0";
  } else if (a === Infinity) return x < 0 ? "-inf" : "inf";
  // exponent form: the same shortest digits; Python writes at least two exponent digits
  const s = x.toExponential();
  const e = s.indexOf("e");
  return s.length - e === 3 ? s.slice(0, e + 2) + "0" + s.slice(e + 2) : s;
}

/** Python's `a % b`: the result takes the sign of the divisor. The caller handles b == 0. */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  if (r === 0) return b < 0 ? -0 : 0;
  return r < 0 !== b < 0 ? r + b : r;
}

// ---------------------------------------------------------------------------------------------
// JSON values: equality, clone, freeze
// ---------------------------------------------------------------------------------------------

/** Original key order of a parsed object whose keys JS would reorder (see parseJsonOrdered). */
export const KEY_ORDER: unique symbol = Symbol.for("envc.keyOrder");

type Obj = Record<string, unknown>;
const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;

function keyOrderOf(o: object): readonly string[] | undefined {
  return (o as { [KEY_ORDER]?: readonly string[] })[KEY_ORDER];
}

/**
 * Deep equality of JSON values: primitives by ===, with null and undefined equal; arrays
 * elementwise; objects by key set (a key holding undefined counts as absent) and values.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a !== "object" || typeof b !== "object") return false;
  const arr = Array.isArray(a);
  if (arr !== Array.isArray(b)) return false;
  if (arr) {
    const x = a as unknown[];
    const y = b as unknown[];
    const n = x.length;
    if (n !== y.length) return false;
    for (let i = 0; i < n; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Obj;
  const y = b as Obj;
  let nx = 0;
  for (const k in x) {
    const vx = x[k];
    if (vx === undefined) continue;
    nx++;
    const vy = y[k];
    if (vy === undefined || !deepEqual(vx, vy)) return false;
    if (k === "__proto__" && !hasOwn.call(y, k)) return false; // y[k] was the inherited prototype
  }
  let ny = 0;
  for (const k in y) if (y[k] !== undefined) ny++;
  return nx === ny;
}

function setKey(o: Obj, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

function setKeyOrder(o: object, order: readonly string[]): void {
  Object.defineProperty(o, KEY_ORDER, { value: order, writable: true, enumerable: false, configurable: true });
}

/** Deep copy of a JSON value (plain objects, arrays, primitives); keeps KEY_ORDER. */
export function cloneJson<T>(v: T): T {
  return typeof v === "object" && v !== null ? (cloneObject(v) as T) : v;
}

function cloneObject(v: object): object {
  if (Array.isArray(v)) {
    // spread, not slice(): V8's slice() takes a slow path on frozen arrays (every committed
    // one), ~50x slower than spread there; JSON arrays have no holes, so both give the same copy
    const out = [...v];
    for (let i = 0, n = out.length; i < n; i++) {
      const e = out[i];
      if (typeof e === "object" && e !== null) out[i] = cloneObject(e);
    }
    return out;
  }
  const src = v as Obj;
  const out: Obj = {};
  for (const k in src) {
    const e = src[k];
    const c = typeof e === "object" && e !== null ? cloneObject(e) : e;
    if (k === "__proto__") setKey(out, k, c);
    else out[k] = c;
  }
  const order = keyOrderOf(src);
  if (order !== undefined) setKeyOrder(out, Object.isFrozen(order) ? order : Object.freeze(order.slice()));
  return out;
}

type Cloner = (src: Obj, clone: (v: unknown) => unknown) => Obj;
interface Shape {
  keys: string[];
  fn: Cloner;
}
const MAX_SHAPES = 8;
const MAX_SHAPE_KEYS = 64;
/** the copy functions built so far, by key list: shared by all cloners (building one is slow) */
const shapeFns = new Map<string, Cloner>();
const MAX_SHAPE_FNS = 1024;

function shapeFn(keys: string[]): Cloner {
  const id = JSON.stringify(keys);
  let fn = shapeFns.get(id);
  if (fn === undefined) {
    const fields = keys.map((k) => `[${JSON.stringify(k)}]: c(s[${JSON.stringify(k)}])`);
    // computed keys: a literal `__proto__: x` would set the prototype, `["__proto__"]: x` does not
    fn = new Function("s", "c", `return {${fields.join(", ")}};`) as Cloner;
    if (shapeFns.size < MAX_SHAPE_FNS) shapeFns.set(id, fn);
  }
  return fn;
}

/**
 * A cloneJson for records that mostly share a few shapes (the records of one table): for each
 * key list it sees (up to a few), it builds a function that copies an object of that shape
 * with one object literal, which V8 runs several times faster than a generic key-by-key copy.
 * Nested values are copied by cloneJson; the result equals cloneJson's (KEY_ORDER included).
 */
export function recordCloner(): <T>(v: T) => T {
  const shapes: Shape[] = [];
  let full = false;
  const clone = <T>(v: T): T => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return cloneJson(v);
    const src = v as Obj;
    outer: for (let j = 0; j < shapes.length; j++) {
      const shape = shapes[j]!;
      const ks = shape.keys;
      let i = 0;
      for (const k in src) if (k !== ks[i++]) continue outer;
      if (i === ks.length) return withOrder(src, shape.fn(src, cloneJson)) as T;
    }
    if (!full) {
      const keys: string[] = [];
      for (const k in src) keys.push(k);
      if (keys.length <= MAX_SHAPE_KEYS) {
        const fn = shapeFn(keys);
        shapes.push({ keys, fn });
        if (shapes.length >= MAX_SHAPES) full = true;
        return withOrder(src, fn(src, cloneJson)) as T;
      }
    }
    return cloneObject(src) as T;
  };
  return clone;
}

function withOrder(src: Obj, out: Obj): Obj {
  const order = keyOrderOf(src);
  if (order !== undefined) setKeyOrder(out, Object.isFrozen(order) ? order : Object.freeze(order.slice()));
  return out;
}

/**
 * Object.freeze on every plain object and array inside v. An object that is already frozen
 * is taken to be deeply frozen already and skipped, so freezing a frozen root is O(1).
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) freezeObject(v);
  return v;
}

function freezeObject(v: object): void {
  Object.freeze(v); // first, so that a cycle stops here
  if (Array.isArray(v)) {
    for (let i = 0, n = v.length; i < n; i++) {
      const e: unknown = v[i];
      if (typeof e === "object" && e !== null && !Object.isFrozen(e)) freezeObject(e);
    }
    return;
  }
  const o = v as Obj;
  for (const k in o) {
    const e = o[k];
    if (typeof e === "object" && e !== null && !Object.isFrozen(e)) freezeObject(e);
  }
  const order = keyOrderOf(o);
  if (order !== undefined && !Object.isFrozen(order)) Object.freeze(order);
}

// ---------------------------------------------------------------------------------------------
// Order-preserving JSON
// ---------------------------------------------------------------------------------------------

/** A JSON syntax error with a 1-based line and column. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
  ) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/** A canonical array index ("0", "42", ... up to 2**32 - 2): a key JS lists first, sorted. */
function isArrayIndex(k: string): boolean {
  const n = k.length;
  if (n === 0 || n > 10) return false;
  const c0 = k.charCodeAt(0);
  if (c0 === 48) return n === 1;
  if (c0 < 49 || c0 > 57) return false;
  let v = c0 - 48;
  for (let i = 1; i < n; i++) {
    const c = k.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return v <= 4294967294;
}

// parser state (module-level: the parser is not re-entrant and never calls out)
let S = "";
let P = 0;
let N = 0;

/**
 * A JSONL line that is not a JSON object; the message starts with `file:line:col:`. `syntax` is
 * the JSON parser's complaint, absent when the line is JSON but not an object.
 */
export class JsonLinesError extends Error {
  constructor(message: string, readonly line: number, readonly syntax?: string) {
    super(message);
    this.name = "JsonLinesError";
  }
}

/** The non-blank lines of a JSONL text, each a JSON object (key order kept), with line numbers. */
export function parseJsonLines(text: string, file: string): { line: number; value: Record<string, unknown> }[] {
  const out: { line: number; value: Record<string, unknown> }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim()) continue;
    let value: unknown;
    try {
      value = parseJsonOrdered(raw);
    } catch (err) {
      // the parser counts lines within this one line: the position is said once, in the file's terms
      const message = (err as Error).message.replace(/ at line \d+, column \d+/, "");
      throw new JsonLinesError(`${file}:${i + 1}:${err instanceof JsonSyntaxError ? err.column : 1}: ${message}`, i + 1, message);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new JsonLinesError(`${file}:${i + 1}:1: expected a JSON object`, i + 1);
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return out;
}

/**
 * JSON.parse, except that an object with at least one array-index key ("3", "17", ...) gets a
 * non-enumerable KEY_ORDER property listing its keys in the order of the text (a duplicate key
 * keeps its first position and its last value). A leading UTF-8 byte order mark is skipped,
 * as it is in specs (editors on Windows write one). Throws JsonSyntaxError.
 */
export function parseJsonOrdered(text: string): unknown {
  const fast = parseWithEngine(text);
  return fast !== NOT_PARSED ? fast : parseJsonText(text);
}

// The engine's JSON.parse is several times faster than parseJsonText (a 1.3 MB state and 2 MB of
// expectations are most of a whole `envc replay` run), but it reorders array-index keys. So
// every key that is an array index is renamed in the text first, MARK + key, which JSON.parse
// keeps in text order, and objects holding such keys are rebuilt with their real keys and
// KEY_ORDER. A quote after an odd run of backslashes is inside a string, so the renaming never
// touches string values; a text with a \u0000 escape (which could spell MARK) goes to
// parseJsonText, and so does anything that fails or nests deeper than FAST_DEPTH, where
// parseJsonText gives its exact error or value.
const NOT_PARSED = Symbol("not parsed");
const MARK = "\u0000";
const FAST_DEPTH = 512;
const INDEX_KEY = /"(0|[1-9][0-9]{0,9})"(?=[ \t\r\n]*:)/g;

function parseWithEngine(text: string): unknown {
  if (text.includes("\\u0000")) return NOT_PARSED;
  let marked = false;
  const renamed = text.replace(INDEX_KEY, (m: string, key: string, at: number) => {
    let slashes = 0;
    while (at - slashes > 0 && text.charCodeAt(at - slashes - 1) === 92) slashes++;
    if (slashes % 2 === 1 || !isArrayIndex(key)) return m;
    marked = true;
    return `"\\u0000${key}"`;
  });
  // nesting is checked on the text when no object needs rebuilding (cheaper than a walk)
  if (!marked && nestingDepth(text) > FAST_DEPTH) return NOT_PARSED;
  let v: unknown;
  try {
    v = JSON.parse(renamed);
  } catch {
    return NOT_PARSED;
  }
  return marked ? restoreKeys(v, 0, marked) : v;
}

/** How deep arrays and objects nest in a JSON text, strings skipped (Infinity: unterminated). */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return Infinity;
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === 92) slashes++;
        if (slashes % 2 === 0) break;
        j++;
      }
      i = j;
    } else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** v with MARKed keys restored (objects rebuilt); NOT_PARSED when nested deeper than FAST_DEPTH. */
function restoreKeys(v: unknown, depth: number, marked: boolean): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (depth > FAST_DEPTH) return NOT_PARSED;
  if (Array.isArray(v)) {
    for (let i = 0, n = v.length; i < n; i++) {
      const e: unknown = v[i];
      if (typeof e !== "object" || e === null) continue;
      const r = restoreKeys(e, depth + 1, marked);
      if (r === NOT_PARSED) return r;
      v[i] = r;
    }
    return v;
  }
  const o = v as Obj;
  let rebuild = false;
  for (const k in o) {
    const e = o[k];
    if (marked && k.charCodeAt(0) === 0) rebuild = true;
    if (typeof e !== "object" || e === null) continue;
    const r = restoreKeys(e, depth + 1, marked);
    if (r === NOT_PARSED) return r;
    if (r !== e) setKey(o, k, r);
  }
  if (!rebuild) return o;
  const out: Obj = {};
  const order: string[] = [];
  for (const k in o) {
    const key = k.charCodeAt(0) === 0 ? k.slice(MARK.length) : k;
    order.push(key);
    setKey(out, key, o[k]);
  }
  setKeyOrder(out, Object.freeze(order));
  return out;
}

/** parseJsonOrdered by hand, character by character: exact errors, any nesting its stack allows. */
function parseJsonText(text: string): unknown {
  S = text;
  P = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  N = text.length;
  try {
    skipWs();
    const v = parseValue();
    skipWs();
    if (P < N) throw syntaxError("expected end of input");
    return v;
  } catch (e) {
    // the parser recurses: thousands of nested arrays/objects exhaust the stack
    if (e instanceof RangeError) throw syntaxError("arrays and objects may nest a few thousand levels deep", "Nesting too deep");
    throw e;
  } finally {
    S = "";
  }
}

// characters that would not show in a message: DEL, C1 controls, format and separator characters
const INVISIBLE = /^[\x7f-\x9f\u00ad\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]$/;

function syntaxError(expected: string, problem?: string): JsonSyntaxError {
  let line = 1;
  let lineStart = S.charCodeAt(0) === 0xfeff ? 1 : 0; // a leading BOM takes no column in an editor
  for (let i = 0; i < P; i++) {
    const c = S.charCodeAt(i);
    if (c === 10 || (c === 13 && S.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = P - lineStart + 1;
  let what: string;
  if (problem !== undefined) what = problem;
  else if (P >= N) what = "Unexpected end of input";
  else {
    const cp = S.codePointAt(P)!;
    const ch = String.fromCodePoint(cp);
    const shown =
      cp < 32 ? JSON.stringify(ch).slice(1, -1)
      : ch === "'" ? "\\'"
      : INVISIBLE.test(ch) ? "\\u" + cp.toString(16).toUpperCase().padStart(4, "0")
      : ch;
    what = `Unexpected character '${shown}'`;
  }
  return new JsonSyntaxError(`${what} at line ${line}, column ${column}: ${expected}`, line, column, P);
}

function skipWs(): void {
  while (P < N) {
    const c = S.charCodeAt(P);
    if (c === 32 || c === 10 || c === 13 || c === 9) P++;
    else return;
  }
}

function parseValue(): unknown {
  if (P >= N) throw syntaxError("expected a value");
  const c = S.charCodeAt(P);
  switch (c) {
    case 34: // "
      P++;
      return parseString();
    case 123: // {
      return parseObject();
    case 91: // [
      return parseArray();
    case 116: // t
      literal("true");
      return true;
    case 102: // f
      literal("false");
      return false;
    case 110: // n
      literal("null");
      return null;
    default:
      if (c === 45 || (c >= 48 && c <= 57)) return parseNumber();
      throw syntaxError("expected a value");
  }
}

function literal(word: string): void {
  for (let i = 0; i < word.length; i++, P++) {
    if (P >= N || S.charCodeAt(P) !== word.charCodeAt(i)) throw syntaxError(`expected '${word}'`);
  }
}

function parseObject(): Obj {
  P++; // {
  const out: Obj = {};
  let order: string[] | null = null;
  skipWs();
  if (P < N && S.charCodeAt(P) === 125) {
    P++;
    return out;
  }
  let expected = "expected a string key or '}'";
  for (;;) {
    if (P >= N || S.charCodeAt(P) !== 34) throw syntaxError(expected);
    P++;
    const key = parseString();
    skipWs();
    if (P >= N || S.charCodeAt(P) !== 58) throw syntaxError("expected ':'");
    P++;
    skipWs();
    const value = parseValue();
    if (order !== null) {
      if (!hasOwn.call(out, key)) order.push(key);
    } else {
      const c0 = key.charCodeAt(0);
      if (c0 >= 48 && c0 <= 57 && isArrayIndex(key)) {
        order = Object.keys(out); // no index key yet, so this is the text order
        order.push(key);
      }
    }
    if (key === "__proto__") setKey(out, key, value);
    else out[key] = value;
    skipWs();
    const c = P < N ? S.charCodeAt(P) : -1;
    if (c === 44) {
      P++;
      skipWs();
      expected = "expected a string key";
      continue;
    }
    if (c === 125) {
      P++;
      break;
    }
    throw syntaxError("expected ',' or '}'");
  }
  if (order !== null) setKeyOrder(out, Object.freeze(order));
  return out;
}

function parseArray(): unknown[] {
  P++; // [
  const out: unknown[] = [];
  skipWs();
  if (P < N && S.charCodeAt(P) === 93) {
    P++;
    return out;
  }
  for (;;) {
    out.push(parseValue());
    skipWs();
    const c = P < N ? S.charCodeAt(P) : -1;
    if (c === 44) {
      P++;
      skipWs();
      continue;
    }
    if (c === 93) {
      P++;
      return out;
    }
    throw syntaxError("expected ',' or ']'");
  }
}

/** After the opening quote. */
function parseString(): string {
  const start = P;
  while (P < N) {
    const c = S.charCodeAt(P);
    if (c === 34) {
      const s = S.slice(start, P);
      P++;
      return s;
    }
    if (c === 92) return parseEscapedString(start);
    if (c < 32) throw syntaxError("control characters must be escaped in strings");
    P++;
  }
  throw syntaxError("unterminated string");
}

function parseEscapedString(start: number): string {
  let out = "";
  let chunk = start;
  while (P < N) {
    const c = S.charCodeAt(P);
    if (c === 34) {
      out += S.slice(chunk, P);
      P++;
      return out;
    }
    if (c < 32) throw syntaxError("control characters must be escaped in strings");
    if (c !== 92) {
      P++;
      continue;
    }
    out += S.slice(chunk, P);
    P++;
    if (P >= N) break;
    const e = S.charCodeAt(P);
    switch (e) {
      case 34: out += '"'; break;
      case 92: out += "\\"; break;
      case 47: out += "/"; break;
      case 98: out += "\b"; break;
      case 102: out += "\f"; break;
      case 110: out += "\n"; break;
      case 114: out += "\r"; break;
      case 116: out += "\t"; break;
      case 117: {
        let code = 0;
        for (let i = 0; i < 4; i++) {
          P++;
          const h = P < N ? S.charCodeAt(P) : -1;
          const d = h >= 48 && h <= 57 ? h - 48 : h >= 97 && h <= 102 ? h - 87 : h >= 65 && h <= 70 ? h - 55 : -1;
          if (d < 0) throw syntaxError("expected 4 hex digits after \\u");
          code = code * 16 + d;
        }
        out += String.fromCharCode(code);
        break;
      }
      default:
        throw syntaxError("invalid escape sequence");
    }
    P++;
    chunk = P;
  }
  throw syntaxError("unterminated string");
}

function isDigitAt(i: number): boolean {
  if (i >= N) return false;
  const c = S.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function parseNumber(): number {
  const start = P;
  let neg = false;
  if (S.charCodeAt(P) === 45) {
    neg = true;
    P++;
  }
  let value = 0;
  let digits = 0;
  if (P < N && S.charCodeAt(P) === 48) {
    P++;
    if (isDigitAt(P)) throw syntaxError("leading zeros are not allowed");
  } else {
    if (!isDigitAt(P)) throw syntaxError("expected a digit");
    do {
      value = value * 10 + (S.charCodeAt(P) - 48);
      P++;
      digits++;
    } while (isDigitAt(P));
  }
  let simple = true;
  if (P < N && S.charCodeAt(P) === 46) {
    simple = false;
    P++;
    if (!isDigitAt(P)) throw syntaxError("expected a digit after '.'");
    do P++;
    while (isDigitAt(P));
  }
  if (P < N && (S.charCodeAt(P) | 32) === 101) {
    simple = false;
    P++;
    if (P < N && (S.charCodeAt(P) === 43 || S.charCodeAt(P) === 45)) P++;
    if (!isDigitAt(P)) throw syntaxError("expected a digit in the exponent");
    do P++;
    while (isDigitAt(P));
  }
  if (simple && digits <= 15) return neg ? -value : value;
  return Number(S.slice(start, P));
}

/**
 * The keys of obj in their original order: with KEY_ORDER, its keys still present in obj,
 * then any other own enumerable keys in JS order; without it, Object.keys(obj).
 */
/**
 * Give `dst` (a copy of `src` made by a validator, which rebuilds objects in JS's key order)
 * the key order `src` had in its JSON text, at every depth.
 */
export function carryKeyOrder(src: unknown, dst: unknown): void {
  if (src === null || dst === null || typeof src !== "object" || typeof dst !== "object" || src === dst) return;
  if (Array.isArray(src)) {
    if (Array.isArray(dst)) for (let i = 0; i < dst.length; i++) carryKeyOrder(src[i], dst[i]);
    return;
  }
  const order = keyOrderOf(src);
  if (order !== undefined && keyOrderOf(dst) === undefined && Object.isExtensible(dst))
    Object.defineProperty(dst, KEY_ORDER, { value: order.filter((k) => hasOwn.call(dst, k)), enumerable: false });
  for (const k of Object.keys(dst)) carryKeyOrder((src as Obj)[k], (dst as Obj)[k]);
}

export function orderedKeys(obj: object): string[] {
  const order = keyOrderOf(obj);
  if (order === undefined) return Object.keys(obj);
  const out: string[] = [];
  for (let i = 0, n = order.length; i < n; i++) {
    const k = order[i]!;
    if (isEnumerable.call(obj, k)) out.push(k);
  }
  const keys = Object.keys(obj);
  if (out.length === keys.length) return out;
  const seen = new Set(out);
  for (const k of keys) if (!seen.has(k)) out.push(k);
  return out;
}

/** JSON.stringify(v, null, indent), except that objects list their keys in orderedKeys order. */
export function stringifyOrdered(v: unknown, indent?: number): string {
  let gap = "";
  if (typeof indent === "number" && indent >= 1) gap = " ".repeat(Math.min(10, Math.floor(indent)));
  if (gap === "" && typeof v === "object" && v !== null) return compactOrdered(v);
  return write(v, "", gap, "") ?? "null";
}

/**
 * Compact JSON by the engine's JSON.stringify, which is much faster than write(): objects
 * that keep a key order (rare: numeric-string keys) are swapped for placeholders that write()
 * renders, and spliced back into the text.
 */
function compactOrdered(v: object): string {
  let ordered: string[] | undefined;
  const text = JSON.stringify(v, function (this: unknown, _key: string, value: unknown) {
    if (typeof value === "object" && value !== null && keyOrderOf(value) !== undefined) {
      (ordered ??= []).push(write(value, _key, "", "") ?? "null");
      return PLACEHOLDER + (ordered.length - 1);
    }
    return value;
  });
  if (text === undefined) return "null";
  if (!ordered) return text;
  let found = 0;
  const out = text.replace(PLACEHOLDER_RE, (_m, i: string) => (found++, ordered![Number(i)] ?? ""));
  // a string in the data that looks like a placeholder: take the slow path
  return found === ordered.length ? out : (write(v, "", "", "") ?? "null");
}
const PLACEHOLDER = "\u0000envc-ordered#";
const PLACEHOLDER_RE = /"\\u0000envc-ordered#(\d+)"/g;

function write(v: unknown, key: string, gap: string, cur: string): string | undefined {
  if (typeof v === "object" && v !== null && typeof (v as { toJSON?: unknown }).toJSON === "function")
    v = (v as { toJSON(k: string): unknown }).toJSON(key);
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    case "object":
      break;
    default:
      return undefined; // undefined, functions, symbols
  }
  if (v === null) return "null";
  const inner = cur + gap;
  const sep = gap === "" ? "," : ",\n" + inner;
  if (Array.isArray(v)) {
    const n = v.length;
    if (n === 0) return "[]";
    let s = gap === "" ? "[" : "[\n" + inner;
    for (let i = 0; i < n; i++) {
      if (i > 0) s += sep;
      s += write(v[i], String(i), gap, inner) ?? "null";
    }
    return gap === "" ? s + "]" : s + "\n" + cur + "]";
  }
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return write(v.valueOf(), key, gap, cur);
  const o = v as Obj;
  const keys = keyOrderOf(o) !== undefined ? orderedKeys(o) : Object.keys(o);
  const colon = gap === "" ? ":" : ": ";
  let s = "";
  let any = false;
  for (let i = 0, n = keys.length; i < n; i++) {
    const k = keys[i]!;
    const item = write(o[k], k, gap, inner);
    if (item === undefined) continue;
    s += (any ? sep : gap === "" ? "{" : "{\n" + inner) + JSON.stringify(k) + colon + item;
    any = true;
  }
  if (!any) return "{}";
  return gap === "" ? s + "}" : s + "\n" + cur + "}";
}

/** The language's `str(x)`: floats as Python prints them, lists and records as compact JSON. */
export function toText(v: unknown, isFloat: boolean): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return isFloat ? pyFloatStr(v) : String(v);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "null";
    default:
      return v === null ? "null" : stringifyOrdered(v);
  }
}
