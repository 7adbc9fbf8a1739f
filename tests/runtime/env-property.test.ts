// Property tests for Environment.call on the shop spec (tests/runtime/shop-spec.ts): random
// sequences of tool calls with random, often invalid, arguments. (a) A failed call leaves the
// state byte-identical and the diff empty; (b) the same calls on environments created from the
// same state give the same results and states, also when one of them is forked between calls;
// (c) after every successful call the state is a valid initial state again (no invariant or
// reference is broken), and reading it back gives the same state.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Environment, deepEqual, diffIsEmpty, orderedKeys, parseJsonOrdered, stringifyOrdered, type CallResult } from "../../runtime/index.js";
import { DEF, PARAMS, QUERIES, make, state } from "./shop-spec.js";

interface Call {
  tool: string;
  args: unknown;
}

const TOOLS = Object.keys(PARAMS);

/** Values that fit each parameter name (ids that exist and do not, small ints, ...). */
/** Mostly ids of the right table (existing or not), sometimes of another table, or odd text. */
const idsOf = (...own: string[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...own) },
    { weight: 1, arbitrary: fc.constantFrom("C1", "I1", "10", "O_1", "O_2", "", "__proto__", "toString") },
  );
const smallInt = fc.integer({ min: -8, max: 12 });
const goodValue: Record<string, fc.Arbitrary<unknown>> = {
  item_id: idsOf("I1", "10", "2", "I9", "O_2"),
  customer_id: idsOf("C1", "C2", "C3"),
  order_id: idsOf("O_1", "P1", "O_2", "O_3", "O_4", "O_9"),
  name: fc.constantFrom("", "Zed", "Pen"),
  reason: fc.string({ maxLength: 5 }),
  prefix: fc.constantFrom("O", "I", "C", "X"),
  a: smallInt,
  b: smallInt,
  qty: smallInt,
  price: fc.integer({ min: -5, max: 300 }),
  stock: smallInt,
  amount: fc.integer({ min: -100, max: 1200 }),
  parts: fc.integer({ min: -2, max: 3 }),
  max_price: fc.integer({ min: 0, max: 200 }),
  bump: fc.integer({ min: -6, max: 3 }),
  n: fc.integer({ min: -1, max: 4 }),
  days: fc.integer({ min: -1, max: 40 }),
};
/** Values of the wrong type, or of the right type but out of range for zod (floats for ints). */
const badValue = fc.oneof(
  fc.constantFrom(null, true, 1.5, -0, "1", [], {}, [1], Number.MAX_SAFE_INTEGER + 2),
  fc.string({ maxLength: 3 }),
  fc.double(),
);

/** Arguments for one tool: mostly plausible, sometimes with a missing, wrong or extra field. */
function argsFor(tool: string): fc.Arbitrary<unknown> {
  const params = PARAMS[tool] ?? [];
  const field = ([name, required]: [string, boolean]) =>
    fc.oneof(
      { weight: 12, arbitrary: goodValue[name]!.map((v) => ({ present: true, v })) },
      { weight: required ? 1 : 4, arbitrary: fc.constant({ present: false, v: undefined as unknown }) },
      { weight: 1, arbitrary: badValue.map((v) => ({ present: true, v })) },
    );
  const plausible = fc
    .tuple(fc.tuple(...params.map(field)), fc.oneof(
        { weight: 12, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom("extra", "item", "toString", "__proto__") },
      ))
    .map(([vals, extra]) => {
      const o: Record<string, unknown> = {};
      params.forEach(([name], i) => {
        if (vals[i]!.present) o[name] = vals[i]!.v;
      });
      // an own property even for "__proto__", as JSON.parse makes it
      if (extra !== null) Object.defineProperty(o, extra, { value: 1, enumerable: true, writable: true, configurable: true });
      return o;
    });
  return fc.oneof(
    { weight: 20, arbitrary: plausible },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, 3, "x", [], true) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

const callArb: fc.Arbitrary<Call> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...TOOLS).chain((tool) => argsFor(tool).map((args) => ({ tool, args }))) },
  { weight: 1, arbitrary: fc.constantFrom("nope", "", "toString", "constructor").map((tool) => ({ tool, args: {} })) },
);

const text = (env: Environment) => stringifyOrdered(env.toJSON());
const show = (r: CallResult) => stringifyOrdered(r);

describe("random tool calls", () => {
  it("(a) a failed call changes nothing, (b) runs are deterministic, (c) successes keep the state valid", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(callArb, fc.nat(9)), { minLength: 1, maxLength: 40, size: "max" }), (calls) => {
        const a = make();
        const b = make();
        // c: the same calls, but forked between calls now and then (a fork is the same state)
        let c = make();
        const counts = { ok: 0, failed: 0 };
        calls.forEach(([{ tool, args }, dice], step) => {
          const where = `step ${step}: ${tool}(${stringifyOrdered(args) ?? "undefined"})`;
          const before = text(a);
          const beforePlain = JSON.stringify(a.toJSON());
          const snap = a.snapshot();
          const ra = a.call(tool, args);
          const after = text(a);

          // (b) the same results and states
          const rb = b.call(tool, args);
          if (dice < 3) c = c.fork();
          const rc = c.call(tool, args);
          expect(show(rb), where).toBe(show(ra));
          expect(show(rc), where).toBe(show(ra));
          expect(text(b), where).toBe(after);
          expect(text(c), where).toBe(after);

          if (!ra.ok) {
            counts.failed++;
            // (a) byte-identical, also as plain JSON, and no differences
            expect(after, where).toBe(before);
            expect(JSON.stringify(a.toJSON()), where).toBe(beforePlain);
            expect(diffIsEmpty(snap.diff(a)), where).toBe(true);
            expect(["invalid_args", "unknown_tool", "precondition", "env_fault"], where).toContain(ra.kind);
            if (ra.kind === "env_fault") expect(ra.location, where).toMatch(/^test\.env/);
            else expect(ra.location, where).toBeUndefined();
          } else {
            counts.ok++;
            if (QUERIES.includes(tool)) expect(after, where).toBe(before);
            // (c) the state is a valid initial state: createFrom re-checks types, refs, invariants
            let fresh: Environment | undefined;
            expect(() => {
              fresh = Environment.createFrom(DEF, parseJsonOrdered(after));
            }, where).not.toThrow();
            expect(text(fresh!), where).toBe(after);
            // diff() against the snapshot names exactly the records and globals that differ
            const d = snap.diff(a);
            const [j0, j1] = [parseJsonOrdered(before), parseJsonOrdered(after)] as Record<string, any>[];
            for (const t of ["customers", "items", "orders"]) {
              const keys = new Set([...orderedKeys(j0![t]), ...orderedKeys(j1![t])]);
              const changed = [...keys].filter((k) => !deepEqual(j0![t][k], j1![t][k])).sort();
              expect(Object.keys(d.tables[t] ?? {}).sort(), `${where}: diff of ${t}`).toEqual(changed);
            }
            expect(Object.keys(d.globals).sort(), where).toEqual(["today", "divisor"].filter((g) => j0![g] !== j1![g]).sort());
            // toJSON lists every record of every table, in table order
            const json = a.toJSON() as Record<string, object>;
            for (const t of ["customers", "items", "orders"])
              expect(orderedKeys(json[t]!), `${where}: ${t}`).toEqual(a.table(t)!.keys());
            // and the result is plain JSON (deepEqual: -0 prints as 0, NaN would not come back)
            expect(deepEqual(parseJsonOrdered(stringifyOrdered(ra.value)), ra.value), where).toBe(true);
          }
          // a snapshot never moves
          expect(text(snap), where).toBe(before);
        });
        return counts.ok + counts.failed === calls.length;
      }),
      { numRuns: 200 },
    );
  });

  it("the generator reaches every result kind and most tools succeed sometimes", () => {
    const kinds = new Set<string>();
    const okTools = new Set<string>();
    fc.assert(
      fc.property(fc.array(callArb, { minLength: 20, maxLength: 40, size: "max" }), (calls) => {
        const env = make();
        for (const { tool, args } of calls) {
          const r = env.call(tool, args);
          kinds.add(r.ok ? "ok" : r.kind);
          if (r.ok) okTools.add(tool);
        }
      }),
      { numRuns: 100, seed: 1 },
    );
    expect([...kinds].sort()).toEqual(["env_fault", "invalid_args", "ok", "precondition", "unknown_tool"]);
    // close_shop and ids_then_fail always fail
    expect(TOOLS.filter((t) => !okTools.has(t)).sort()).toEqual(["close_shop", "ids_then_fail"]);
  });

  it("replaying from a state read back from JSON gives the same results", () => {
    fc.assert(
      fc.property(fc.array(callArb, { maxLength: 15, size: "max" }), fc.array(callArb, { maxLength: 15, size: "max" }), (first, then) => {
        const env = make();
        for (const { tool, args } of first) env.call(tool, args);
        const reloaded = Environment.createFrom(DEF, parseJsonOrdered(text(env)));
        const forked = env.fork();
        expect(text(reloaded)).toBe(text(forked));
        for (const { tool, args } of then) {
          const r1 = forked.call(tool, args);
          const r2 = reloaded.call(tool, args);
          // the new_id counter is not part of the JSON state: a reloaded environment starts it
          // again (still skipping existing keys), so ids may differ from the first id drawn on
          if (tool === "make_ids" || tool === "ids_then_fail" || tool === "place_order") {
            expect(r2.ok, tool).toBe(r1.ok);
            if (r1.ok) return;
            continue;
          }
          expect(show(r2)).toBe(show(r1));
          expect(text(reloaded)).toBe(text(forked));
        }
      }),
      { numRuns: 100 },
    );
  });

  it("state() is what the tests think it is", () => {
    expect(make(state()).table("items")!.keys()).toEqual(["I1", "10", "2"]);
  });
});
