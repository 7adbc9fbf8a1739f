// Tests for runtime/values.ts: Python-compatible numbers (checked against tables produced by
// python3 and, when python3 is installed, against one python3 run over ~2000 random inputs per
// function), JSON equality/clone/freeze, the order-preserving JSON parser and printer. Dates are
// in dates.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KEY_ORDER, JsonSyntaxError, cloneJson, deepEqual, deepFreeze, orderedKeys, parseJsonOrdered, pyFloatStr, pyMod, pyRound, stringifyOrdered, toText, parseJsonLines,
  JsonLinesError,
} from "../../runtime/values.js";
import { distinct } from "../../runtime/ops.js";

const HAS_PYTHON = (() => {
  try {
    execFileSync("python3", ["-c", "pass"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const PY_NOTE = HAS_PYTHON ? "" : " (SKIPPED: python3 is not installed, so there is no reference to compare with)";

/** A JS number as text that Python's float() reads back exactly (String(-0) would lose the sign). */
function toPy(x: number): string {
  return Object.is(x, -0) ? "-0.0" : String(x);
}

/** A Python float repr back to a JS number. */
function fromPy(s: string): number {
  if (s === "nan") return NaN;
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}

/** Object.is, with a message that shows -0. */
function same(actual: number, expected: number, what: string): void {
  if (!Object.is(actual, expected)) expect.fail(`${what}: got ${toPy(actual)}, expected ${toPy(expected)}`);
}

// ---------------------------------------------------------------------------------------------
// pyRound
// ---------------------------------------------------------------------------------------------

describe("pyRound", () => {
  // [x, ndigits, Python's float(round(x, ndigits))], produced by python3 3.11 (-0 is -0.0)
  const table: [number, number | undefined, number][] = [
    [2.675, 2, 2.67],
    [0.125, 2, 0.12],
    [0.375, 2, 0.38],
    [2.5, undefined, 2.0],
    [3.5, undefined, 4.0],
    [-2.5, undefined, -2.0],
    [-0.125, 2, -0.12],
    [1.005, 2, 1.0],
    [1e22, 2, 1e22],
    [5e-324, 2, 0.0],
    [1234.5, -2, 1200.0],
    [1250.0, -2, 1200.0],
    [1350.0, -2, 1400.0],
    [-1250.0, -2, -1200.0],
    [0.5, undefined, 0.0],
    [1.5, undefined, 2.0],
    [-0.5, undefined, 0.0],
    [-1.5, undefined, -2.0],
    [0.5, 0, 0.0],
    [-0.5, 0, -0],
    [-0.4, 0, -0],
    [2.5, 0, 2.0],
    [0.25, 1, 0.2],
    [0.35, 1, 0.3],
    [0.45, 1, 0.5],
    [1.15, 1, 1.1],
    [2.345, 2, 2.35],
    [2.355, 2, 2.35],
    [1.0000000000000002, 15, 1.0],
    [0.30000000000000004, 15, 0.3],
    [0.30000000000000004, 16, 0.3],
    [0.30000000000000004, 17, 0.30000000000000004],
    [123.456, -1, 120.0],
    [5.0, -1, 0.0],
    [15.0, -1, 20.0],
    [25.0, -1, 20.0],
    [-15.0, -1, -20.0],
    [1e300, -299, 1e300],
    [1e-300, 300, 1e-300],
    [1e-300, 299, 0.0],
    [5e-324, 323, 0.0],
    [5e-324, 324, 5e-324],
    [1e-320, 322, 1e-320],
    [0.0625, 3, 0.062],
    [0.03125, 4, 0.0312],
    [-0.03125, 4, -0.0312],
    [4.5, 0, 4.0],
    [123456.785, 2, 123456.79],
    [9007199254740991.0, 2, 9007199254740991.0],
    [4503599627370495.5, 0, 4503599627370496.0],
    [4503599627370495.5, undefined, 4503599627370496.0],
    [0.49999999999999994, undefined, 0.0],
    [0.49999999999999994, 0, 0.0],
    [2.675, 1, 2.7],
    [2.675, 3, 2.675],
    [1.45, 1, 1.4],
    [-1.45, 1, -1.4],
    [1e-5, 4, 0.0],
    [-1e-5, 4, -0],
    [0.3, 22, 0.3],
    [0.3, 23, 0.3],
    [7.0, -400, 0.0],
    [-7.0, -400, -0],
    [7.5, 400, 7.5],
    [1e16, -16, 1e16],
    [5e15, -16, 0.0],
    [1.5e16, -16, 2e16],
    [2.5e16, -16, 2e16],
    [0.000123456789, 8, 0.00012346],
    [12345.6789, -3, 12000.0],
    [0.5, -1, 0.0],
    [5.5, -1, 10.0],
    [1e-22, 22, 1e-22],
    [5e-23, 22, 1e-22],
    [1.5e-22, 22, 1e-22],
    [2.5e-22, 22, 2e-22],
    [0.1, 20, 0.1],
    [1.5, 20, 1.5],
    [9.313225746154785e-10, 9, 1e-9],
    [9.313225746154785e-10, 10, 9e-10],
    [1.7881393432617188e-7, 7, 2e-7],
  ];

  it(`matches Python on ${table.length} known cases`, () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
    for (const [x, n, want] of table) same(pyRound(x, n), want, `round(${toPy(x)}, ${n})`);
  });

  it("gives the examples from the language docs", () => {
    expect(pyRound(2.675, 2)).toBe(2.67);
    expect(pyRound(0.125, 2)).toBe(0.12);
    expect(pyRound(1234.5, -2)).toBe(1200);
  });

  it("returns NaN and infinities unchanged, and keeps the sign of zero when ndigits is given", () => {
    expect(pyRound(NaN)).toBeNaN();
    expect(pyRound(NaN, 2)).toBeNaN();
    expect(pyRound(Infinity, 2)).toBe(Infinity);
    expect(pyRound(-Infinity)).toBe(-Infinity);
    same(pyRound(-0, 2), -0, "round(-0.0, 2)");
    same(pyRound(-0.001, 2), -0, "round(-0.001, 2)");
  });

  it("without ndigits is Python's int-valued round(x): never -0", () => {
    same(pyRound(-0.4), 0, "round(-0.4)");
    same(pyRound(-0), 0, "round(-0.0)");
    same(pyRound(-0.5), 0, "round(-0.5)");
    expect(pyRound(-0.6)).toBe(-1);
    expect(pyRound(1e300)).toBe(1e300);
  });

  it("gives an infinity where Python raises OverflowError", () => {
    expect(pyRound(1.7976931348623157e308, -307)).toBe(Infinity);
    expect(pyRound(-1.7976931348623157e308, -308)).toBe(-Infinity);
  });

  it("rejects a fractional ndigits", () => {
    expect(() => pyRound(1.5, 1.5)).toThrow(RangeError);
  });

  it("agrees with Number.prototype.toFixed except on exact ties (property)", () => {
    // toFixed rounds the exact binary value too, but breaks ties away from zero
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 12 }), (x, n) => {
        const viaFixed = Number(x.toFixed(n));
        const scaled = Math.abs(x) * 2 ** (n + 1); // exact: an odd integer exactly when x is a tie at n digits
        const tie = Number.isInteger(scaled) && scaled % 2 === 1 && n + 1 <= 1074;
        if (!tie) expect(pyRound(x, n) === viaFixed, `round(${x}, ${n}) vs toFixed ${viaFixed}`).toBe(true); // === : -0 is 0
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it("keeps exact ties on the even neighbour (property on multiples of 2**-k)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 1, max: 12 }), (k, s) => {
        const x = (2 * k + 1) / 2 ** s; // exactly s fractional bits: a tie at n = s - 1 digits
        const n = s - 1;
        const v = BigInt(Math.abs(2 * k + 1)) * 5n ** BigInt(n); // |x| * 10**n * 2, an odd integer
        const below = (v - 1n) / 2n;
        const even = below % 2n === 0n ? below : below + 1n;
        const expected = Number(`${even}e-${n}`);
        const r = pyRound(x, n);
        same(r, x < 0 ? -expected : expected, `round(${x}, ${n})`);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// pyFloatStr, pyMod
// ---------------------------------------------------------------------------------------------

describe("pyFloatStr", () => {
  // [x, Python's repr(x)], produced by python3
  const table: [number, string][] = [
    [10.0, "10.0"],
    [-0.0, "-0.0"],
    [0.0, "0.0"],
    [1e16, "1e+16"],
    [1e-5, "1e-05"],
    [1.5e300, "1.5e+300"],
    [123456789012345680.0, "1.2345678901234568e+17"],
    [0.1, "0.1"],
    [0.30000000000000004, "0.30000000000000004"],
    [0.0001, "0.0001"],
    [9.999999999999999e-5, "9.999999999999999e-05"],
    [0.00012, "0.00012"],
    [1000000000000000.0, "1000000000000000.0"],
    [9999999999999998.0, "9999999999999998.0"],
    [1.0000000000000002e16, "1.0000000000000002e+16"],
    [1.5, "1.5"],
    [-2.5, "-2.5"],
    [100.0, "100.0"],
    [1e21, "1e+21"],
    [1e22, "1e+22"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [5e-324, "5e-324"],
    [2.2250738585072014e-308, "2.2250738585072014e-308"],
    [0.3333333333333333, "0.3333333333333333"],
    [0.6666666666666666, "0.6666666666666666"],
    [-1e-7, "-1e-07"],
    [123.456, "123.456"],
    [1e-10, "1e-10"],
    [3e-6, "3e-06"],
    [12345678.9, "12345678.9"],
    [0.5, "0.5"],
    [4.35, "4.35"],
    [1e100, "1e+100"],
    [-1e-100, "-1e-100"],
    [9007199254740992.0, "9007199254740992.0"],
    [9223372036854775808.0, "9.223372036854776e+18"],
    [1.25e-5, "1.25e-05"],
    [6.02214076e23, "6.02214076e+23"],
    [299792458.0, "299792458.0"],
    [1000000000000000.2, "1000000000000000.2"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
  ];

  it(`matches Python's repr on ${table.length} known cases`, () => {
    for (const [x, want] of table) expect(pyFloatStr(x), toPy(x)).toBe(want);
  });

  it("round-trips through Number (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        const s = pyFloatStr(x).replace("inf", "Infinity");
        same(Number(s), x, `pyFloatStr(${toPy(x)}) = ${s}`);
      }),
      { numRuns: 2000, seed: 3 },
    );
  });
});

describe("pyMod", () => {
  // [a, b, Python's a % b on floats], produced by python3
  const table: [number, number, number][] = [
    [7.0, 3.0, 1.0],
    [-7.0, 3.0, 2.0],
    [7.0, -3.0, -2.0],
    [-7.0, -3.0, -1.0],
    [6.0, -3.0, -0],
    [-6.0, 3.0, 0.0],
    [0.0, 5.0, 0.0],
    [0.0, -5.0, -0],
    [5.5, 2.0, 1.5],
    [-5.5, 2.0, 0.5],
    [5.5, -2.0, -0.5],
    [-5.5, -2.0, -1.5],
    [1e-300, 1.0, 1e-300],
    [-1e-300, 1.0, 1.0],
    [7.5, 0.1, 0.09999999999999959],
    [-7.5, 0.1, 4.163336342344337e-16],
    [1e20, 3.0, 1.0],
    [-1e20, 7.0, 5.0],
    [5.0, Infinity, 5.0],
    [-5.0, Infinity, Infinity],
    [5.0, -Infinity, -Infinity],
    [0.30000000000000004, 0.1, 2.7755575615628914e-17],
    [-0.0, 3.0, 0.0],
    [10.0, 2.5, 0.0],
    [-10.0, 2.5, 0.0],
  ];

  it(`matches Python on ${table.length} known cases`, () => {
    for (const [a, b, want] of table) same(pyMod(a, b), want, `${toPy(a)} % ${toPy(b)}`);
  });

  it("takes the sign of the divisor and stays below it in size (property on ints)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer().filter((b) => b !== 0), (a, b) => {
        const r = pyMod(a, b);
        expect(Math.abs(r)).toBeLessThan(Math.abs(b));
        expect(r === 0 || r < 0 === b < 0).toBe(true);
        expect(Number.isInteger((a - r) / b)).toBe(true);
      }),
      { numRuns: 2000, seed: 5 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// One python3 run checks pyRound, pyFloatStr and pyMod on ~2000 random inputs each
// ---------------------------------------------------------------------------------------------

describe("against python3 on random inputs", () => {
  const SEED = 20240611;
  const interesting = fc.oneof(
    fc.double(), // everything, NaN, infinities and subnormals included
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 9 })).map(([k, d]) => k / 10 ** d),
    fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 9 })).map(([k, d]) => (k + 0.5) / 10 ** d),
    fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 14 })).map(([k, s]) => k / 2 ** s),
  );
  const roundIn = fc.sample(fc.tuple(interesting, fc.integer({ min: -3, max: 8 })), { seed: SEED, numRuns: 2000 });
  const round0In = fc.sample(interesting.filter(Number.isFinite), { seed: SEED + 1, numRuns: 2000 });
  const strIn = fc.sample(interesting, { seed: SEED + 2, numRuns: 2000 });
  const modIn = fc.sample(fc.tuple(interesting, interesting.filter((b) => b !== 0)), { seed: SEED + 3, numRuns: 2000 });

  let out: { round: string[]; round0: string[]; str: string[]; mod: string[] } | null = null;
  let dir = "";

  beforeAll(() => {
    if (!HAS_PYTHON) return;
    dir = mkdtempSync(join(tmpdir(), "envc-values-"));
    const input = join(dir, "in.json");
    writeFileSync(
      input,
      JSON.stringify({
        round: roundIn.map(([x, n]) => [toPy(x), n]),
        round0: round0In.map(toPy),
        str: strIn.map(toPy),
        mod: modIn.map(([a, b]) => [toPy(a), toPy(b)]),
      }),
    );
    const script = `
import json, sys
d = json.load(open(sys.argv[1]))
def rnd(xs, n):
    try:
        return repr(round(float(xs), n))
    except OverflowError:
        return "overflow"
print(json.dumps({
    "round": [rnd(xs, n) for xs, n in d["round"]],
    "round0": [repr(float(round(float(xs)))) for xs in d["round0"]],
    "str": [repr(float(xs)) for xs in d["str"]],
    "mod": [repr(float(a) % float(b)) for a, b in d["mod"]],
}))
`;
    out = JSON.parse(execFileSync("python3", ["-c", script, input], { encoding: "utf8", maxBuffer: 64 << 20 }));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!HAS_PYTHON)(`pyRound(x, n) equals Python's round(x, n) for 2000 random x and n in [-3, 8]${PY_NOTE}`, () => {
    expect(out!.round.length).toBe(roundIn.length);
    roundIn.forEach(([x, n], i) => {
      const py = out!.round[i]!;
      const want = py === "overflow" ? (x < 0 ? -Infinity : Infinity) : fromPy(py);
      same(pyRound(x, n), want, `round(${toPy(x)}, ${n})`);
    });
  });

  it.skipIf(!HAS_PYTHON)(`pyRound(x) equals Python's round(x) for 2000 random x${PY_NOTE}`, () => {
    round0In.forEach((x, i) => same(pyRound(x), fromPy(out!.round0[i]!), `round(${toPy(x)})`));
  });

  it.skipIf(!HAS_PYTHON)(`pyFloatStr(x) equals Python's repr(x) for 2000 random x${PY_NOTE}`, () => {
    strIn.forEach((x, i) => expect(pyFloatStr(x), toPy(x)).toBe(out!.str[i]));
  });

  it.skipIf(!HAS_PYTHON)(`pyMod(a, b) equals Python's a % b for 2000 random pairs${PY_NOTE}`, () => {
    modIn.forEach(([a, b], i) => same(pyMod(a, b), fromPy(out!.mod[i]!), `${toPy(a)} % ${toPy(b)}`));
  });
});

// ---------------------------------------------------------------------------------------------
// deepEqual, cloneJson, deepFreeze
// ---------------------------------------------------------------------------------------------

/** JSON text with sorted keys: equal for deep-equal JSON values without undefined. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

const smallJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.constantFrom(1, 2, "a", null, true), tie("list"), tie("record")),
  list: fc.array(tie("value"), { maxLength: 3 }),
  record: fc.dictionary(fc.constantFrom("x", "y", "3"), tie("value"), { maxKeys: 3 }),
})).value;

describe("deepEqual", () => {
  const own = JSON.parse('{"__proto__": {}}');
  const cases: [unknown, unknown, boolean][] = [
    [1, 1, true],
    [1, "1", false],
    [0, -0, true],
    [NaN, NaN, false],
    [null, undefined, true],
    [undefined, null, true],
    [null, 0, false],
    [null, {}, false],
    ["", null, false],
    [[], [], true],
    [[1, [2, { a: 3 }]], [1, [2, { a: 3 }]], true],
    [[1, 2], [2, 1], false],
    [[1, 2], [1, 2, 3], false],
    [[null], [undefined], true],
    [[1, 2], { 0: 1, 1: 2 }, false],
    [{}, [], false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1 }, false],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: null }, {}, false],
    [{ a: null }, { a: undefined }, false],
    [{ a: { b: [1, { c: "x" }] } }, { a: { b: [1, { c: "x" }] } }, true],
    [{ a: { b: [1, { c: "x" }] } }, { a: { b: [1, { c: "y" }] } }, false],
    [{ toString: 1 }, {}, false],
    [{}, { toString: 1 }, false],
    [own, {}, false],
    [{}, own, false],
    [own, JSON.parse('{"__proto__": {}}'), true],
  ];

  it("compares the table of cases", () => {
    for (const [a, b, want] of cases) expect(deepEqual(a, b), `${canonical(a)} vs ${canonical(b)}`).toBe(want);
  });

  it("is true for the same reference, a clone and a JSON round trip (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(deepEqual(v, v)).toBe(true);
        expect(deepEqual(v, cloneJson(v))).toBe(true);
        expect(deepEqual(v, JSON.parse(JSON.stringify(v)))).toBe(true);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it("agrees with comparing canonical JSON text (property)", () => {
    fc.assert(
      fc.property(smallJson, smallJson, (a, b) => {
        expect(deepEqual(a, b)).toBe(canonical(a) === canonical(b));
        expect(deepEqual(b, a)).toBe(deepEqual(a, b));
      }),
      { numRuns: 2000, seed: 2 },
    );
  });
});

/** Every object inside v, with its path. */
function objectsOf(v: unknown, path = "$", out: [string, object][] = []): [string, object][] {
  if (v !== null && typeof v === "object") {
    out.push([path, v]);
    for (const [k, x] of Object.entries(v)) objectsOf(x, `${path}.${k}`, out);
  }
  return out;
}

describe("cloneJson", () => {
  it("copies deeply without sharing any object (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = cloneJson(v);
        expect(c).toEqual(v);
        expect(JSON.stringify(c)).toBe(JSON.stringify(v));
        const originals = new Set(objectsOf(v).map(([, o]) => o));
        for (const [path, o] of objectsOf(c)) expect(originals.has(o), path).toBe(false);
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it("returns primitives as they are", () => {
    for (const p of [1, "s", true, null, undefined, -0]) expect(Object.is(cloneJson(p), p)).toBe(true);
  });

  it("gives an independent, unfrozen copy", () => {
    const src = deepFreeze({ a: [1, { b: 2 }], c: { d: "x" } });
    const c = cloneJson(src);
    expect(Object.isFrozen(c)).toBe(false);
    expect(Object.isFrozen(c.a[1])).toBe(false);
    (c.a[1] as { b: number }).b = 3;
    c.c.d = "y";
    expect(src).toEqual({ a: [1, { b: 2 }], c: { d: "x" } });
  });

  it("keeps KEY_ORDER (non-enumerable) and the order it records", () => {
    const src = parseJsonOrdered('{"z": 1, "10": {"b": 1, "2": 2, "1": 3}, "2": [{"9": 0, "x": 1}]}') as Record<string, any>;
    const c = cloneJson(src);
    expect(orderedKeys(c)).toEqual(["z", "10", "2"]);
    expect(orderedKeys(c["10"])).toEqual(["b", "2", "1"]);
    expect(orderedKeys(c["2"][0])).toEqual(["9", "x"]);
    expect(Object.getOwnPropertyDescriptor(c, KEY_ORDER)!.enumerable).toBe(false);
    expect(stringifyOrdered(c)).toBe('{"z":1,"10":{"b":1,"2":2,"1":3},"2":[{"9":0,"x":1}]}');
  });

  it("keeps a '__proto__' key as an own property", () => {
    const src = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
    const c = cloneJson(src);
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.keys(c)).toEqual(["__proto__", "a"]);
    expect(deepEqual(c, src)).toBe(true);
  });
});

describe("deepFreeze", () => {
  it("freezes every object and array, and returns its argument", () => {
    const v = { a: [1, { b: [2, 3] }], c: { d: { e: "x" } } };
    expect(deepFreeze(v)).toBe(v);
    for (const [path, o] of objectsOf(v)) expect(Object.isFrozen(o), path).toBe(true);
    expect(() => {
      "use strict";
      (v.c.d as { e: string }).e = "y";
    }).toThrow(TypeError);
  });

  it("freezes the KEY_ORDER list too", () => {
    const v = parseJsonOrdered('{"b": {"1": 1, "a": 2}}') as Record<string, object>;
    deepFreeze(v);
    expect(Object.isFrozen(v["b"])).toBe(true);
    expect(Object.isFrozen((v["b"] as Record<symbol, unknown>)[KEY_ORDER])).toBe(true);
  });

  it("passes primitives through", () => {
    for (const p of [1, "s", null, undefined, false]) expect(deepFreeze(p)).toBe(p);
  });

  it("stops at an object that is already frozen (so re-freezing is O(1))", () => {
    const inner = { x: 1 };
    const root = Object.freeze({ inner });
    deepFreeze(root);
    expect(Object.isFrozen(inner)).toBe(false); // by design: a frozen object counts as deeply frozen
    const big = deepFreeze(Array.from({ length: 1000 }, (_, i) => ({ i })));
    const again = deepFreeze(big);
    expect(again).toBe(big);
    expect(big.every((o) => Object.isFrozen(o))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// parseJsonOrdered, orderedKeys, stringifyOrdered
// ---------------------------------------------------------------------------------------------

describe("parseJsonOrdered", () => {
  it("equals JSON.parse on random JSON, compact and indented (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, "\t"), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        const parsed = parseJsonOrdered(text);
        const expected = JSON.parse(text);
        expect(parsed).toEqual(expected);
        expect(deepEqual(parsed, expected)).toBe(true);
        expect(JSON.stringify(parsed)).toBe(JSON.stringify(expected));
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it("equals JSON.parse on numbers, strings and literals", () => {
    const texts = [
      "0", "-0", "-0.0", "1", "-1", "0.5", "1e3", "1E-2", "-1.5e+10", "1e400", "-1e400", "123456789012345",
      "1234567890123456", "12345678901234567890", "9007199254740993", "0.1", "2.2250738585072014e-308", "5e-324",
      "true", "false", "null", '""', '"a"', '"\\u00e9\\n\\"\\/\\\\\\b\\f\\r\\t"', '"\\ud83d\\ude00 \\ud800"', '"é😀"',
      ' \t\r\n [ 1 , { "a" : [ ] , "b" : { } } ] \n',
    ];
    for (const t of texts) {
      const got = parseJsonOrdered(t);
      const want = JSON.parse(t);
      if (typeof want === "number") same(got as number, want, t);
      else expect(got, t).toEqual(want);
    }
  });

  it("records the text order of keys when JS would reorder them", () => {
    const o = parseJsonOrdered('{"3": 1, "1": 2, "b": 3, "0": 4, "a": 5}') as Record<string, number>;
    expect(o).toEqual({ 3: 1, 1: 2, b: 3, 0: 4, a: 5 });
    expect(Object.keys(o)).toEqual(["0", "1", "3", "b", "a"]);
    expect(orderedKeys(o)).toEqual(["3", "1", "b", "0", "a"]);
    const d = Object.getOwnPropertyDescriptor(o, KEY_ORDER)!;
    expect(d.enumerable).toBe(false);
    expect(JSON.stringify(o)).toBe('{"0":4,"1":2,"3":1,"b":3,"a":5}');
    expect(stringifyOrdered(o)).toBe('{"3":1,"1":2,"b":3,"0":4,"a":5}');
  });

  it("attaches KEY_ORDER only when some key is an array index", () => {
    const plain = parseJsonOrdered('{"b": 1, "a": {"01": 1, "-1": 2, "1.0": 3, "4294967295": 4, " 1": 5}}') as any;
    expect(KEY_ORDER in plain).toBe(false);
    expect(KEY_ORDER in plain.a).toBe(false);
    expect(Object.keys(plain.a)).toEqual(["01", "-1", "1.0", "4294967295", " 1"]);
    const idx = parseJsonOrdered('{"b": 1, "4294967294": 2}') as object;
    expect(orderedKeys(idx)).toEqual(["b", "4294967294"]);
    expect(Object.keys(idx)).toEqual(["4294967294", "b"]);
    expect(parseJsonOrdered('[{"0": 1}]') as object[]).toEqual([{ 0: 1 }]);
  });

  it("keeps the last value and the first position of a duplicate key", () => {
    const t = '{"2": 1, "a": 2, "2": 3, "1": 4, "a": 5}';
    const o = parseJsonOrdered(t);
    expect(o).toEqual(JSON.parse(t));
    expect(orderedKeys(o as object)).toEqual(["2", "a", "1"]);
    expect(stringifyOrdered(o)).toBe('{"2":3,"a":5,"1":4}');
  });

  it("makes '__proto__' an own key, as JSON.parse does", () => {
    const t = '{"__proto__": {"x": 1}, "1": 2}';
    const o = parseJsonOrdered(t) as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(o).sort()).toEqual(["1", "__proto__"]);
    expect(deepEqual(o, JSON.parse(t))).toBe(true);
    expect(orderedKeys(o)).toEqual(["__proto__", "1"]);
    expect(stringifyOrdered(o)).toBe('{"__proto__":{"x":1},"1":2}');
  });

  it("keeps the order of ordered objects nested in plain ones, even next to strings that look like its placeholders", () => {
    const t = '{"a":{"2":1,"1":2},"b":["\\u0000envc-ordered#0",{"9":0,"3":1}],"c":"\\u0000envc-ordered#1"}';
    expect(stringifyOrdered(parseJsonOrdered(t))).toBe(t);
    expect(stringifyOrdered({ plain: [1, "x", null, { y: true }] })).toBe(JSON.stringify({ plain: [1, "x", null, { y: true }] }));
  });

  const orderedTree = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.constant(null)),
      tie("list"),
      tie("object"),
    ),
    list: fc.array(tie("node"), { maxLength: 4 }).map((xs) => ({ list: xs })),
    object: fc
      .uniqueArray(
        fc.tuple(
          fc.oneof(
            fc.nat({ max: 5000 }).map(String),
            fc.constantFrom("0", "1", "10", "4294967294", "4294967295", "01", "-1", "a", "b", "__proto__"),
            fc.string({ maxLength: 4 }),
          ),
          tie("node"),
        ),
        { selector: (e) => e[0], maxLength: 6 },
      )
      .map((entries) => ({ entries })),
  })).node;
  type Tree = unknown;
  function render(t: Tree): string {
    if (t !== null && typeof t === "object" && "list" in t) return `[${(t.list as Tree[]).map(render).join(",")}]`;
    if (t !== null && typeof t === "object" && "entries" in t)
      return `{${(t.entries as [string, Tree][]).map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(",")}}`;
    return JSON.stringify(t);
  }

  it("round-trips the key order of any text through stringifyOrdered (property)", () => {
    fc.assert(
      fc.property(orderedTree, (tree) => {
        const text = render(tree);
        const parsed = parseJsonOrdered(text);
        expect(deepEqual(parsed, JSON.parse(text))).toBe(true);
        expect(stringifyOrdered(parsed)).toBe(text);
        expect(stringifyOrdered(parseJsonOrdered(stringifyOrdered(parsed, 2)))).toBe(text);
        if (tree !== null && typeof tree === "object" && "entries" in tree)
          expect(orderedKeys(parsed as object)).toEqual((tree.entries as [string, Tree][]).map(([k]) => k));
      }),
      { numRuns: 500, seed: 13 },
    );
  });

  // [text, line, column, message]
  const errors: [string, number, number, string][] = [
    ['{\n  "a": [\n    }', 3, 5, "Unexpected character '}' at line 3, column 5: expected a value"],
    ["", 1, 1, "Unexpected end of input at line 1, column 1: expected a value"],
    ["   \n  ", 2, 3, "Unexpected end of input at line 2, column 3: expected a value"],
    ['{"a" 1}', 1, 6, "Unexpected character '1' at line 1, column 6: expected ':'"],
    ['{"a":1,}', 1, 8, "Unexpected character '}' at line 1, column 8: expected a string key"],
    ["{a:1}", 1, 2, "Unexpected character 'a' at line 1, column 2: expected a string key or '}'"],
    ["[1 2]", 1, 4, "Unexpected character '2' at line 1, column 4: expected ',' or ']'"],
    ["[1,]", 1, 4, "Unexpected character ']' at line 1, column 4: expected a value"],
    ['{"a":1 "b":2}', 1, 8, "Unexpected character '\"' at line 1, column 8: expected ',' or '}'"],
    ['{"a":1', 1, 7, "Unexpected end of input at line 1, column 7: expected ',' or '}'"],
    ["[01]", 1, 3, "Unexpected character '1' at line 1, column 3: leading zeros are not allowed"],
    ["[1.]", 1, 4, "Unexpected character ']' at line 1, column 4: expected a digit after '.'"],
    ["[1e+]", 1, 5, "Unexpected character ']' at line 1, column 5: expected a digit in the exponent"],
    ["[-]", 1, 3, "Unexpected character ']' at line 1, column 3: expected a digit"],
    ["[+1]", 1, 2, "Unexpected character '+' at line 1, column 2: expected a value"],
    ["[.5]", 1, 2, "Unexpected character '.' at line 1, column 2: expected a value"],
    ['"abc', 1, 5, "Unexpected end of input at line 1, column 5: unterminated string"],
    ['"a\tb"', 1, 3, "Unexpected character '\\t' at line 1, column 3: control characters must be escaped in strings"],
    ['"a\\nb\nc"', 1, 6, "Unexpected character '\\n' at line 1, column 6: control characters must be escaped in strings"],
    ['"\\x"', 1, 3, "Unexpected character 'x' at line 1, column 3: invalid escape sequence"],
    ['"\\u12G4"', 1, 6, "Unexpected character 'G' at line 1, column 6: expected 4 hex digits after \\u"],
    ["tru", 1, 4, "Unexpected end of input at line 1, column 4: expected 'true'"],
    ["nulx", 1, 4, "Unexpected character 'x' at line 1, column 4: expected 'null'"],
    ["[True]", 1, 2, "Unexpected character 'T' at line 1, column 2: expected a value"],
    ["{} x", 1, 4, "Unexpected character 'x' at line 1, column 4: expected end of input"],
    ["{}{}", 1, 3, "Unexpected character '{' at line 1, column 3: expected end of input"],
    ["\r\n[\r\n1,\r\n,]", 4, 1, "Unexpected character ',' at line 4, column 1: expected a value"],
    ["[\r1,\r\r]", 4, 1, "Unexpected character ']' at line 4, column 1: expected a value"],
    ["[\uFEFF1]", 1, 2, "Unexpected character '\\uFEFF' at line 1, column 2: expected a value"], // a BOM only leads
    ["\uFEFF\uFEFF{}", 1, 1, "Unexpected character '\\uFEFF' at line 1, column 1: expected a value"], // columns as an editor shows them
    ["['x']", 1, 2, "Unexpected character '\\'' at line 1, column 2: expected a value"],
    ["[NaN]", 1, 2, "Unexpected character 'N' at line 1, column 2: expected a value"],
  ];

  it("reports syntax errors with line, column and what was expected", () => {
    for (const [text, line, column, message] of errors) {
      expect(() => JSON.parse(text), JSON.stringify(text)).toThrow(SyntaxError); // really invalid JSON
      let err: unknown;
      try {
        parseJsonOrdered(text);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(text)).toBeInstanceOf(JsonSyntaxError);
      const j = err as JsonSyntaxError;
      expect(j).toBeInstanceOf(Error);
      expect(j.name).toBe("JsonSyntaxError");
      expect([j.line, j.column, j.message], JSON.stringify(text)).toEqual([line, column, message]);
    }
  });

  it("skips one byte order mark at the start, as spec files may have (issue 16)", () => {
    expect(parseJsonOrdered('\uFEFF{"a": [1]}')).toEqual({ a: [1] });
    expect(parseJsonOrdered("\uFEFF 5")).toBe(5);
  });

  it("keeps key order when keys sit next to escaped quotes and backslashes (the engine's parser is used on renamed keys)", () => {
    const texts = [
      '{"a":"x\\"12\\": y","b\\\\":{"3":1,"1":2},"s":"\\\\","7":0}',
      '{"\\\\":{"2":"\\"1\\":","1":["\\\\\\"3\\":"]},"0":{}}',
      '[{"10" : 1, "9"\t:\n2}, "\\"5\\" : 3"]',
    ];
    for (const t of texts) {
      const v = parseJsonOrdered(t);
      expect(deepEqual(v, JSON.parse(t))).toBe(true);
    }
    // compact texts come back as they were, key order included
    for (const t of texts.slice(0, 2)) expect(stringifyOrdered(parseJsonOrdered(t))).toBe(t);
    expect(Object.keys(parseJsonOrdered(texts[0]!) as object)).toEqual(["7", "a", "b\\", "s"]);
    expect(orderedKeys(parseJsonOrdered(texts[0]!) as Record<string, unknown>)).toEqual(["a", "b\\", "s", "7"]);
    expect(orderedKeys((parseJsonOrdered(texts[0]!) as Record<string, Record<string, unknown>>)["b\\"]!)).toEqual(["3", "1"]);
    expect(orderedKeys((parseJsonOrdered(texts[2]!) as Record<string, unknown>[])[0]!)).toEqual(["10", "9"]);
  });

  it("parses deep nesting, and reports nesting too deep for its stack as a JsonSyntaxError", () => {
    const deep = "[".repeat(1000) + "{\"1\": 2}" + "]".repeat(1000);
    expect(deepEqual(parseJsonOrdered(deep), JSON.parse(deep))).toBe(true);
    const tooDeep = "[".repeat(200_000) + "]".repeat(200_000);
    expect(() => parseJsonOrdered(tooDeep)).toThrow(/^Nesting too deep at line 1, column \d+: arrays and objects may nest/);
    expect(() => parseJsonOrdered(tooDeep)).toThrow(JsonSyntaxError);
    expect(parseJsonOrdered("[1]")).toEqual([1]); // the parser is usable again afterwards
  });

  it("rejects exactly what JSON.parse rejects, on random edits of valid JSON (property)", () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.nat(),
        fc.constantFrom("", ",", "}", "]", "{", "[", '"', ":", "0", "-", ".", "e", "\\", "\n", "x", "t"),
        fc.boolean(),
        (v, at, piece, del) => {
          const base = JSON.stringify(v);
          const i = at % (base.length + 1);
          const text = base.slice(0, i) + piece + base.slice(del ? i + 1 : i);
          let want: unknown;
          let wantErr = false;
          try {
            want = JSON.parse(text);
          } catch {
            wantErr = true;
          }
          if (wantErr) expect(() => parseJsonOrdered(text)).toThrow(JsonSyntaxError);
          else expect(deepEqual(parseJsonOrdered(text), want)).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 17 },
    );
  });

  const DB = new URL("../../specs/taubench-retail/db.json", import.meta.url).pathname;
  it("parses the 1.3 MB retail db like JSON.parse, keeping key order", () => {
    const text = readFileSync(DB, "utf8");
    const db = parseJsonOrdered(text) as any;
    expect(deepEqual(db, JSON.parse(text))).toBe(true);
    expect(db).toEqual(JSON.parse(text));

    // products and variants are keyed by numeric ids: their order must be the order in the text
    const section = text.slice(text.indexOf('"products"'), text.indexOf('"users"'));
    const productIds = [...section.matchAll(/"(\d+)": \{"name": /g)].map((m) => m[1]);
    const variantIds = [...section.matchAll(/"(\d+)": \{"item_id": /g)].map((m) => m[1]);
    expect(productIds.length).toBe(Object.keys(db.products).length);
    expect(orderedKeys(db.products)).toEqual(productIds);
    expect(Object.keys(db.products)).not.toEqual(productIds); // JS alone would have sorted them
    expect(orderedKeys(db.products).flatMap((p: string) => orderedKeys(db.products[p].variants))).toEqual(variantIds);
    const again = parseJsonOrdered(stringifyOrdered(db, 2)) as any;
    expect(deepEqual(again, db)).toBe(true);
    expect(orderedKeys(again.products)).toEqual(productIds);

  });
});

describe("orderedKeys", () => {
  it("is Object.keys without KEY_ORDER", () => {
    expect(orderedKeys({ b: 1, 2: 0, a: 2 })).toEqual(["2", "b", "a"]);
    expect(orderedKeys([5, 6])).toEqual(["0", "1"]);
  });

  it("drops deleted keys and appends new ones in JS order", () => {
    const o = parseJsonOrdered('{"5": 1, "b": 2, "3": 3, "a": 4}') as Record<string, number>;
    delete o["b"];
    o["z"] = 5;
    o["1"] = 6;
    expect(orderedKeys(o)).toEqual(["5", "3", "a", "1", "z"]);
    expect(stringifyOrdered(o)).toBe('{"5":1,"3":3,"a":4,"1":6,"z":5}');
  });
});

describe("stringifyOrdered", () => {
  it("equals JSON.stringify without KEY_ORDER, for any indent (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: -1, max: 12 }), (v, indent) => {
        expect(stringifyOrdered(v, indent)).toBe(JSON.stringify(v, null, indent));
        expect(stringifyOrdered(v)).toBe(JSON.stringify(v));
      }),
      { numRuns: 500, seed: 19 },
    );
  });

  it("follows JSON.stringify for undefined, functions, non-finite numbers and toJSON", () => {
    const v = {
      a: undefined,
      b: [undefined, () => 1, NaN, Infinity, -0],
      c: new Date(Date.UTC(2024, 0, 2)),
      d: { toJSON: (k: string) => `key ${k}` },
      e: Symbol("s"),
      f: { g: undefined },
      h: [new Number(3), new String("s"), new Boolean(false)],
    };
    expect(stringifyOrdered(v)).toBe(JSON.stringify(v));
    expect(stringifyOrdered(v, 2)).toBe(JSON.stringify(v, null, 2));
    expect(stringifyOrdered(undefined)).toBe("null");
    expect(() => stringifyOrdered({ n: 1n })).toThrow(TypeError);
  });

  it("indents like JSON.stringify while keeping the text order", () => {
    const o = parseJsonOrdered('{"2": {"b": [], "1": {}}, "a": [1, {"0": null}]}');
    expect(stringifyOrdered(o, 2)).toBe(
      '{\n  "2": {\n    "b": [],\n    "1": {}\n  },\n  "a": [\n    1,\n    {\n      "0": null\n    }\n  ]\n}',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// toText
// ---------------------------------------------------------------------------------------------

describe("toText", () => {
  it("prints each kind of value like the language's str(x)", () => {
    const cases: [unknown, boolean, string][] = [
      ["abc", false, "abc"],
      ["", true, ""],
      [10, true, "10.0"],
      [10, false, "10"],
      [-0, true, "-0.0"],
      [0.30000000000000004, true, "0.30000000000000004"],
      [1e16, true, "1e+16"],
      [1e21, false, "1e+21"],
      [NaN, true, "nan"],
      [2.5, false, "2.5"],
      [true, false, "true"],
      [false, true, "false"],
      [null, false, "null"],
      [undefined, false, "null"],
      [[1, "x", null, [true]], false, '[1,"x",null,[true]]'],
      [{ b: 1, a: { c: "d" } }, false, '{"b":1,"a":{"c":"d"}}'],
      [parseJsonOrdered('{"b": 1, "2": [1, {"9": 0, "x": "y"}]}'), false, '{"b":1,"2":[1,{"9":0,"x":"y"}]}'],
    ];
    for (const [v, isFloat, want] of cases) expect(toText(v, isFloat)).toBe(want);
  });
});

describe("parseJsonLines", () => {
  it("gives each non-blank line as an object with its number, key order kept", () => {
    const lines = parseJsonLines('{"b":1,"a":2}\n\n  \n{"id":"x"}\n', "f.jsonl");
    expect(lines.map((l) => l.line)).toEqual([1, 4]);
    expect(Object.keys(lines[0]!.value)).toEqual(["b", "a"]);
  });

  it("names the file, line and column of a bad line, and refuses non-objects", () => {
    expect(() => parseJsonLines('{"a":1}\n{"a": tru}\n', "f.jsonl")).toThrow(/^f\.jsonl:2:\d+: /);
    expect(() => parseJsonLines("[1, 2]\n", "f.jsonl")).toThrow("f.jsonl:1:1: expected a JSON object");
    expect(() => parseJsonLines("[1]", "f.jsonl")).toThrow(JsonLinesError);
  });
});

describe("distinct (runtime/ops.ts)", () => {
  /** The definition: keep each value unless an earlier kept one is deepEqual to it. */
  const reference = (xs: unknown[]) => {
    const out: unknown[] = [];
    for (const x of xs) if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return out;
  };

  it("keeps the first of each value, in order, for scalars (one pass) and for anything else", () => {
    expect(distinct(["b", "a", "b", "c", "a"])).toEqual(["b", "a", "c"]);
    expect(distinct([1, 1.0, -0, 0, 2, true, true, false])).toEqual([1, -0, 2, true, false]);
    expect(distinct([{ a: 1 }, { a: 1 }, [1], [1], null, null])).toEqual([{ a: 1 }, [1], null]);
    const scalar = fc.oneof(fc.string({ maxLength: 2 }), fc.integer({ min: -2, max: 2 }), fc.boolean(), fc.constantFrom(NaN, -0, 0.5));
    const anything = fc.oneof(scalar, fc.constant(null), fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.constantFrom("a", "b"), scalar));
    fc.assert(fc.property(fc.array(scalar, { maxLength: 30 }), (xs) => {
      expect(distinct(xs)).toEqual(reference(xs));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.array(anything, { maxLength: 20 }), (xs) => {
      expect(distinct(xs)).toEqual(reference(xs));
    }), { numRuns: 300 });
  });
});
