// Tests for the write path's fast paths: records copied by shape (recordCloner), ownership of
// a record by the running transaction (it is the unfrozen one), the reused journal, and the
// zod-free argument check (fastArgsFor), each against the plain behaviour it replaces.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { z } from "zod";
import { Store, type Table } from "../../runtime/store.js";
import { fastArgsFor } from "../../runtime/fast-args.js";
import { DateSchema, DatetimeSchema, EDGE_DATETIMES, isDate } from "../../runtime/dates.js";
import { cloneJson, deepEqual, deepFreeze, KEY_ORDER, orderedKeys, parseJsonOrdered, recordCloner } from "../../runtime/values.js";

interface Rec {
  id: string;
  v: number;
  tags: string[];
  meta?: { notes: string[] };
}

function loaded(recs: Rec[]): { store: Store; t: Table<Rec> } {
  const store = new Store({});
  const t = store.addTable("t", "id", recs.map((r) => [r.id, r] as [string, object])) as unknown as Table<Rec>;
  store.freezeAll();
  return { store, t };
}

/** Every object inside v. */
function objectsOf(v: unknown, out: object[] = []): object[] {
  if (v !== null && typeof v === "object") {
    out.push(v);
    for (const x of Object.values(v)) objectsOf(x, out);
  }
  return out;
}

describe("recordCloner", () => {
  it("copies like cloneJson, for objects of few and of many shapes (property)", () => {
    const clone = recordCloner();
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.constantFrom("a", "b", "c", "__proto__", "1", "0"), fc.jsonValue()), { maxLength: 20 }), (objs) => {
        for (const o of objs) {
          const src = deepFreeze(JSON.parse(JSON.stringify(o)));
          const c = clone(src);
          expect(JSON.stringify(c)).toBe(JSON.stringify(cloneJson(src)));
          expect(Object.keys(c)).toEqual(Object.keys(src));
          expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
          expect(deepEqual(c, src)).toBe(true);
          const originals = new Set(objectsOf(src));
          for (const x of objectsOf(c)) {
            expect(originals.has(x)).toBe(false);
            expect(Object.isFrozen(x)).toBe(false);
          }
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it("keeps KEY_ORDER", () => {
    const clone = recordCloner();
    const src = deepFreeze(parseJsonOrdered('{"z": 1, "10": {"b": 1, "2": 2}, "2": [1]}') as object);
    const c = clone(src) as Record<string, unknown>;
    expect(orderedKeys(c)).toEqual(["z", "10", "2"]);
    expect(orderedKeys(c["10"] as object)).toEqual(["b", "2"]);
    expect(Object.getOwnPropertyDescriptor(c, KEY_ORDER)!.enumerable).toBe(false);
  });
});

describe("transactions on records with nested lists", () => {
  const rec = (id: string, v = 0, tags: string[] = []): Rec => ({ id, v, tags, meta: { notes: ["n"] } });

  it("rollback after a write to a nested list leaves the committed record (and its lists) as they were", () => {
    const { store, t } = loaded([rec("a", 1, ["x"]), rec("b")]);
    const a0 = t.get("a")!;
    const tags0 = a0.tags;
    store.begin();
    const w = t.getW("a")!;
    w.tags.push("y");
    w.meta!.notes.push("m");
    w.v = 2;
    expect(t.get("a")!.tags).toEqual(["x", "y"]);
    store.rollback();
    expect(t.get("a")).toBe(a0);
    expect(a0.tags).toBe(tags0);
    expect(a0).toEqual(rec("a", 1, ["x"]));
    expect(Object.isFrozen(a0.tags) && Object.isFrozen(a0.meta!.notes)).toBe(true);
    // the next transaction starts from the committed record again
    store.begin();
    t.getW("a")!.tags.push("z");
    store.commit();
    expect(t.get("a")!.tags).toEqual(["x", "z"]);
  });

  it("commit freezes the written record deeply, and the old one stays shared by a fork", () => {
    const { store, t } = loaded([rec("a", 1, ["x"])]);
    const fork = store.fork();
    const ft = fork.tables.t as unknown as Table<Rec>;
    store.begin();
    t.getW("a")!.tags.push("y");
    store.commit();
    const a = t.get("a")!;
    expect(Object.isFrozen(a) && Object.isFrozen(a.tags) && Object.isFrozen(a.meta) && Object.isFrozen(a.meta!.notes)).toBe(true);
    expect(() => {
      "use strict";
      a.tags.push("z");
    }).toThrow(TypeError);
    expect(ft.get("a")!.tags).toEqual(["x"]);
  });

  it("a record written twice in one transaction is copied once; the next transaction copies again", () => {
    const { store, t } = loaded([rec("a")]);
    store.begin();
    const w = t.getW("a")!;
    w.v = 1;
    expect(t.getW("a")).toBe(w);
    store.commit();
    store.begin();
    const w2 = t.getW("a")!;
    expect(w2).not.toBe(w);
    w2.v = 2;
    store.rollback();
    expect(t.get("a")).toBe(w);
    expect(t.get("a")!.v).toBe(1);
  });

  it("many transactions reuse the journal without leaking changes between them", () => {
    const { store, t } = loaded([rec("a"), rec("b")]);
    for (let i = 0; i < 50; i++) {
      store.begin();
      t.getW("a")!.v = i;
      if (i % 3 === 0) t.insert(rec(`n${i}`));
      if (i % 2 === 0) store.rollback();
      else store.commit();
    }
    expect(t.get("a")!.v).toBe(49);
    expect(t.keys()).toEqual(["a", "b", "n3", "n9", "n15", "n21", "n27", "n33", "n39", "n45"]);
    expect(t.values().every((r) => Object.isFrozen(r))).toBe(true);
  });

  it("a record inserted outside a transaction counts as committed when the next one begins", () => {
    const { store, t } = loaded([rec("a")]);
    const r = rec("o");
    t.insert(r); // outside any transaction
    store.begin();
    expect(Object.isFrozen(r)).toBe(true);
    t.getW("o")!.v = 5;
    store.rollback();
    expect(t.get("o")).toBe(r);
    expect(r.v).toBe(0);
  });
});

describe("fastArgsFor", () => {
  const schemas = {
    str: z.strictObject({ item_id: z.string() }),
    mixed: z.strictObject({ item_id: z.string(), qty: z.number().int(), price: z.number(), ok: z.boolean() }),
    none: z.strictObject({}),
    odd: z.strictObject({ constructor: z.string(), "a b": z.number() }),
    // what the emitter writes for parameters: optional, defaulted, dates, enums, lists
    wide: z.strictObject({
      note: z.string().nullable().optional(),
      notify: z.boolean().default(false),
      tags: z.array(z.string()).default([]),
      kind: z.enum(["x", "y"]),
      day: DateSchema,
      ids: z.array(z.string()),
      limit: z.number().int().nullable().optional(),
      level: z.enum(["low", "high"]).default("low"),
      since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().optional(),
      at: DatetimeSchema.nullable().optional(),
      scores: z.array(z.number()).nullable().optional(),
    }),
  };
  const keys = fc.constantFrom("item_id", "qty", "price", "ok", "constructor", "a b", "__proto__", "x", "toString");
  const value = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(2 ** 53, -(2 ** 53), -0, NaN, Infinity, null, undefined),
    fc.jsonValue(),
  );
  const input = fc.oneof(
    fc.dictionary(keys, value),
    // mostly well typed, so that valid inputs come up often
    fc.record({ item_id: fc.oneof(fc.string(), value) }),
    fc.record({ item_id: fc.oneof(fc.string(), value), qty: fc.oneof(fc.integer(), value), price: fc.oneof(fc.double(), value), ok: fc.oneof(fc.boolean(), value) }),
    fc.record({ constructor: fc.oneof(fc.string(), value), "a b": fc.oneof(fc.double(), value) }),
    // any subset of wide's keys, each mostly well typed, sometimes undefined, null or odd
    fc.record(
      {
        note: fc.oneof(fc.string(), fc.constant(null), value),
        notify: fc.oneof(fc.boolean(), value),
        tags: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.array(value, { maxLength: 2 }), value),
        kind: fc.oneof(fc.constantFrom("x", "y", "z", "X"), value),
        day: fc.oneof(fc.constantFrom("2024-05-01", "2024-5-1", "2024-05-01T09:00:00", "0000-00-00", "2024-02-29", "2024-02-30", "2023-02-29"), value),
        ids: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.constant([, "a"]), value),
        limit: fc.oneof(fc.integer(), fc.constant(null), value),
        level: fc.oneof(fc.constantFrom("low", "high", "mid"), value),
        since: fc.oneof(fc.constantFrom("2024-01-31", "31-01-2024"), fc.constant(null), value),
        at: fc.oneof(fc.constantFrom(...EDGE_DATETIMES), fc.constant(null), value),
        scores: fc.oneof(fc.array(fc.double(), { maxLength: 3 }), fc.constant(null), value),
      },
      { requiredKeys: ["kind", "day", "ids"] },
    ),
    fc.record(
      { kind: fc.constantFrom("x", "y"), day: fc.constant("2024-05-01"), ids: fc.array(fc.string(), { maxLength: 2 }) },
      { requiredKeys: [] },
    ),
    fc.anything(),
  );

  it("accepts only what zod accepts, and returns what zod returns (property)", () => {
    for (const [name, schema] of Object.entries(schemas)) {
      const fast = fastArgsFor(schema);
      expect(fast, name).not.toBeNull();
      let accepted = 0;
      fc.assert(
        fc.property(input, (a) => {
          const got = fast!(a);
          if (got === undefined) return;
          accepted++;
          const r = schema.safeParse(a);
          expect(r.success).toBe(true);
          expect(Object.keys(got)).toEqual(Object.keys(r.data as object));
          for (const k of Object.keys(got)) {
            const want = (r.data as Record<string, unknown>)[k];
            if (Array.isArray(want)) {
              // lists come back as new dense arrays, like zod's
              expect(got[k]).toEqual(want);
              expect(got[k]).not.toBe((a as Record<string, unknown>)[k]);
              expect(Object.keys(got[k] as unknown[])).toHaveLength((want as unknown[]).length);
            } else expect(Object.is(got[k], want), k).toBe(true);
          }
          expect(got).not.toBe(a);
        }),
        { numRuns: 1500, seed: 3 },
      );
      expect(accepted, name).toBeGreaterThan(0); // the property did test the fast path
    }
  });

  it("takes the usual valid calls", () => {
    expect(fastArgsFor(schemas.mixed)!({ item_id: "I1", qty: 3, price: 1.5, ok: false })).toEqual({ item_id: "I1", qty: 3, price: 1.5, ok: false });
    expect(fastArgsFor(schemas.mixed)!({ ok: true, price: -0, qty: -7, item_id: "" })).toEqual({ item_id: "", qty: -7, price: -0, ok: true });
    expect(fastArgsFor(schemas.none)!({})).toEqual({});
    const wide = fastArgsFor(schemas.wide)!;
    // absent optional keys stay absent, defaults are filled in, lists are copied
    const ids = ["a", "b"];
    const got = wide({ kind: "x", day: "2024-05-01", ids });
    expect(got).toEqual({ notify: false, tags: [], kind: "x", day: "2024-05-01", ids: ["a", "b"], level: "low" });
    expect(Object.keys(got!)).toEqual(["notify", "tags", "kind", "day", "ids", "level"]);
    expect(got!.ids).not.toBe(ids);
    expect(wide({ kind: "y", day: "2024-05-01", ids: [], note: null, limit: 3, since: null, scores: [1.5] })).toEqual({
      note: null, notify: false, tags: [], kind: "y", day: "2024-05-01", ids: [], limit: 3, level: "low", since: null, scores: [1.5],
    });
    // a fresh default each time, as zod's defaultValue gives
    expect(wide({ kind: "x", day: "2024-05-01", ids: [] })!.tags).not.toBe(wide({ kind: "x", day: "2024-05-01", ids: [] })!.tags);
  });

  it("leaves to zod what it does not recognise", () => {
    const f = fastArgsFor(schemas.mixed)!;
    for (const a of [
      { item_id: "I1", qty: 3.5, price: 1, ok: true },
      { item_id: "I1", qty: 2 ** 53, price: 1, ok: true },
      { item_id: "I1", qty: 1, price: NaN, ok: true },
      { item_id: "I1", qty: 1, price: 1, ok: true, extra: 1 },
      { item_id: "I1", qty: 1, price: 1 },
      { item_id: "I1", qty: 1, price: 1, ok: undefined },
      Object.assign(Object.create({ inherited: 1 }), { item_id: "I1", qty: 1, price: 1, ok: true }),
      JSON.parse('{"item_id": "I1", "qty": 1, "price": 1, "ok": true, "__proto__": {}}'),
      ["I1", 1, 1, true],
      "I1",
      null,
    ])
      expect(f(a), JSON.stringify(a)).toBeUndefined();
    const wide = fastArgsFor(schemas.wide)!;
    for (const a of [
      { kind: "z", day: "2024-05-01", ids: [] },
      { kind: "x", day: "2024-5-1", ids: [] },
      { kind: "x", day: "2024-02-30", ids: [] }, // zod words the calendar error
      { kind: "x", day: "2024-05-01", ids: [], at: "2024-01-01T24:00" },
      { kind: "x", day: "2024-05-01", ids: ["a", 1] },
      { kind: "x", day: "2024-05-01", ids: [, "a"] },
      { kind: "x", day: "2024-05-01", ids: [], note: undefined }, // present as undefined: zod keeps the key
      { kind: "x", day: "2024-05-01", ids: [], notify: null },
      { kind: "x", day: "2024-05-01", ids: [], limit: 1.5 },
      { kind: "x", day: "2024-05-01" },
    ])
      expect(wide(a), JSON.stringify(a)).toBeUndefined();
    // a non-enumerable key is not one zod sees as unknown, but it is not listed: let zod decide
    const hidden = { qty: 1, price: 1, ok: true, extra: 1 };
    Object.defineProperty(hidden, "item_id", { value: "I1", enumerable: false });
    expect(f(hidden)).toBeUndefined();
  });

  it("builds nothing for schemas beyond the parameter types it knows", () => {
    for (const s of [
      z.strictObject({ a: z.email() }),
      z.strictObject({ a: z.int32() }),
      z.strictObject({ a: z.int() }),
      z.strictObject({ a: z.string().min(1) }),
      z.strictObject({ a: z.string().trim() }),
      z.strictObject({ a: z.string().regex(/^x/g) }),
      z.strictObject({ a: z.string().regex(/^x/).min(2) }),
      z.strictObject({ a: z.string().refine((x) => isDate(x)) }), // a date test the fast path cannot see into
      z.strictObject({ a: DateSchema.min(10) }),
      z.strictObject({ a: z.string().refine(isDate, { when: () => true }) }),
      z.strictObject({ a: z.number().nonnegative() }),
      z.strictObject({ a: z.string().min(1).optional() }),
      z.strictObject({ a: z.string().default("x").optional() }),
      z.strictObject({ a: z.array(z.string()).min(1) }),
      z.strictObject({ a: z.array(z.array(z.string())) }),
      z.strictObject({ a: z.array(z.object({ b: z.string() })) }),
      z.strictObject({ a: z.literal("x") }),
      z.strictObject({ a: z.union([z.string(), z.number()]) }),
      z.strictObject({ a: z.coerce.number() }),
      z.strictObject({ a: z.string() }).refine(() => false),
      z.object({ a: z.string() }),
      z.looseObject({ a: z.string() }),
      z.string(),
    ])
      expect(fastArgsFor(s as never)).toBeNull();
  });
});
