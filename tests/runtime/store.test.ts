// Tests for runtime/store.ts used directly: insertion order (also for keys that JS objects
// would reorder), transactions (rollback restores values, order and size; commit freezes),
// forks (independent both ways, forks of forks, flattening past the layer depth limit) and a
// model-based property test against a plain JS Map with snapshot undo.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Store, type Table } from "../../runtime/store.js";

interface Rec {
  id: string;
  v: number;
  tags?: string[];
}

const rec = (id: string, v = 0): Rec => ({ id, v });

/** A store with one loaded table "t" (keyed by id), frozen like Environment.createFrom does. */
function loaded(keys: string[], globals: Record<string, unknown> = {}): { store: Store; t: Table<Rec> } {
  const store = new Store(globals);
  const t = store.addTable("t", "id", keys.map((k, i) => [k, rec(k, i)] as [string, object])) as unknown as Table<Rec>;
  store.freezeAll();
  return { store, t };
}

/** Layer depth of table t in a store (0: no shared layer). */
const depthOf = (store: Store) => (store.tables.t as unknown as Table<Rec>).topLayer()?.depth ?? 0;

/** Everything observable about a table, for before/after comparisons. */
function view(t: Table<Rec>) {
  return {
    keys: [...t.keys()],
    values: t.values().map((r) => ({ ...r })),
    size: t.size,
    byKey: t.keys().map((k) => t.get(k)),
  };
}

describe("Table basics", () => {
  it("keeps insertion order, also for integer-like keys", () => {
    const { t } = loaded(["10", "2", "1", "b", "a", "0", "__proto__", "constructor"]);
    expect(t.keys()).toEqual(["10", "2", "1", "b", "a", "0", "__proto__", "constructor"]);
    expect(t.values().map((r) => r.id)).toEqual(t.keys());
    // an object with the same keys would reorder them
    expect(Object.keys({ "10": 1, "2": 1, "1": 1 })).toEqual(["1", "2", "10"]);
  });

  it("get / has / size", () => {
    const { store, t } = loaded(["a", "b"]);
    expect(t.size).toBe(2);
    expect(t.has("a")).toBe(true);
    expect(t.has("z")).toBe(false);
    expect(t.get("z")).toBeUndefined();
    expect(t.get("b")).toEqual({ id: "b", v: 1 });
    // keys inherited from Object.prototype are not records
    expect(t.has("toString")).toBe(false);
    expect(t.has("__proto__")).toBe(false);
    store.begin();
    expect(t.insert(rec("c"))).toBe(true);
    expect(t.insert(rec("c", 9))).toBe(false); // duplicate
    expect(t.size).toBe(3);
    expect(t.delete("a")).toBe(true);
    expect(t.delete("a")).toBe(false);
    expect(t.delete("nope")).toBe(false);
    expect(t.size).toBe(2);
    expect(t.has("a")).toBe(false);
    expect(t.getW("a")).toBeUndefined();
    store.commit();
    expect(t.keys()).toEqual(["b", "c"]);
  });

  it("getW gives one writable copy per transaction and leaves the committed record alone", () => {
    const { store, t } = loaded(["a"]);
    const before = t.get("a")!;
    store.begin();
    const w = t.getW("a")!;
    expect(w).not.toBe(before);
    expect(t.getW("a")).toBe(w);
    expect(t.writable(before)).toBe(w);
    w.v = 42;
    expect(t.get("a")!.v).toBe(42);
    expect(before.v).toBe(0);
    store.commit();
    expect(t.get("a")!.v).toBe(42);
  });

  it("deleting and re-inserting a key moves it to the end, like a Python dict", () => {
    const { store, t } = loaded(["a", "b", "c"]);
    store.begin();
    t.delete("a");
    t.insert(rec("a", 7));
    store.commit();
    expect(t.keys()).toEqual(["b", "c", "a"]);
    store.begin();
    t.getW("b")!.v = 5; // an update keeps the position
    store.commit();
    expect(t.keys()).toEqual(["b", "c", "a"]);
  });
});

describe("transactions", () => {
  it("rollback after inserts, updates, deletes and re-inserts restores values, order and size", () => {
    const { store, t } = loaded(["10", "2", "1", "x", "y"]);
    const before = view(t);
    const originals = t.keys().map((k) => t.get(k));
    store.begin();
    t.insert(rec("new1"));
    t.getW("2")!.v = 100;
    t.getW("2")!.tags = ["changed"];
    t.delete("10");
    t.insert(rec("10", 55)); // re-insert: moves to the end
    t.delete("x");
    t.insert(rec("new2"));
    t.delete("new1");
    t.insert(rec("x", 66));
    t.getW("x")!.v = 67;
    t.delete("1");
    expect(t.keys()).toEqual(["2", "y", "10", "new2", "x"]);
    store.rollback();
    expect(view(t)).toEqual(before);
    // the very same (frozen) record objects are back
    expect(t.keys().map((k) => t.get(k))).toEqual(originals);
    t.keys().forEach((k, i) => expect(t.get(k)).toBe(originals[i]));
  });

  it("rollback of a delete then re-insert of the same key keeps its old position", () => {
    const { store, t } = loaded(["a", "b", "c"]);
    store.begin();
    t.delete("b");
    t.insert(rec("b", 9));
    store.rollback();
    expect(t.keys()).toEqual(["a", "b", "c"]);
    expect(t.get("b")).toEqual({ id: "b", v: 1 });
    expect(t.size).toBe(3);
  });

  it("rollback restores order in a forked table (keys living in parent layers)", () => {
    const { store, t } = loaded(["a", "b", "c", "d"]);
    store.fork(); // t now reads through a shared layer
    store.begin();
    t.delete("b");
    t.insert(rec("b", 1));
    t.delete("a");
    t.insert(rec("e"));
    t.delete("e");
    t.insert(rec("a", 3));
    expect(t.keys()).toEqual(["c", "d", "b", "a"]);
    store.rollback();
    expect(t.keys()).toEqual(["a", "b", "c", "d"]);
    expect(t.size).toBe(4);
    expect(t.values().map((r) => r.v)).toEqual([0, 1, 2, 3]);
  });

  it("a record re-inserted as the same object keeps its new position when a later change is rolled back", () => {
    const { store, t } = loaded(["a", "b", "c"]);
    store.fork(); // the records now live in a parent layer
    const a0 = t.get("a")!;
    store.begin();
    t.delete("a");
    t.insert(a0); // the very same (frozen) object, moved to the end
    store.commit();
    expect(t.keys()).toEqual(["b", "c", "a"]);
    store.begin();
    t.getW("a")!.v = 5;
    store.rollback();
    expect(t.keys()).toEqual(["b", "c", "a"]);
    expect(t.get("a")).toBe(a0);
    expect(t.size).toBe(3);
  });

  it("a frozen record inserted again is copied before it is written", () => {
    const { store, t } = loaded(["a", "b"]);
    const a0 = t.get("a")!;
    store.begin();
    t.delete("a");
    t.insert(a0);
    const w = t.getW("a")!;
    expect(w).not.toBe(a0);
    w.v = 9; // would throw if getW handed out the frozen object
    store.commit();
    expect(t.get("a")!.v).toBe(9);
    expect(a0.v).toBe(0);
    expect(t.keys()).toEqual(["b", "a"]);
  });

  it("rollback restores globals and the id counter; commit keeps them", () => {
    const { store } = loaded([], { today: "2024-01-01", n: 1 });
    const g0 = store.globals;
    store.begin();
    store.globalsW().n = 2;
    store.idCounter += 5;
    store.rollback();
    expect(store.globals).toBe(g0);
    expect(store.globals).toEqual({ today: "2024-01-01", n: 1 });
    expect(store.idCounter).toBe(1);
    store.begin();
    store.globalsW().n = 3;
    store.idCounter += 2;
    store.commit();
    expect(store.globals.n).toBe(3);
    expect(store.idCounter).toBe(3);
    expect(Object.isFrozen(store.globals)).toBe(true);
  });

  it("commit freezes written records: mutating a committed record throws", () => {
    const { store, t } = loaded(["a"]);
    store.begin();
    const w = t.getW("a")!;
    w.tags = ["x"];
    const n = t.insert({ id: "n", v: 1, tags: ["y"] });
    expect(n).toBe(true);
    const inserted = t.get("n")!;
    inserted.v = 2; // still writable inside the transaction
    store.commit();
    for (const r of [t.get("a")!, t.get("n")!]) {
      expect(Object.isFrozen(r)).toBe(true);
      expect(Object.isFrozen(r.tags)).toBe(true);
      expect(() => {
        r.v = 99;
      }).toThrow(TypeError);
      expect(() => {
        r.tags!.push("z");
      }).toThrow(TypeError);
    }
    expect(t.get("n")!.v).toBe(2);
    // loaded records are frozen too
    const { t: t2 } = loaded(["q"]);
    expect(() => {
      t2.get("q")!.v = 1;
    }).toThrow(TypeError);
  });

  it("a record written in a rolled-back transaction does not leak into the next one", () => {
    const { store, t } = loaded(["a"]);
    store.begin();
    t.getW("a")!.v = 5;
    store.rollback();
    store.begin();
    const w = t.getW("a")!;
    expect(w.v).toBe(0);
    w.v = 6;
    store.rollback();
    expect(t.get("a")!.v).toBe(0);
  });
});

describe("forks", () => {
  it("are independent in both directions", () => {
    const { store, t } = loaded(["a", "b", "c"]);
    const f = store.fork();
    const ft = f.tables.t as unknown as Table<Rec>;
    expect(ft.keys()).toEqual(["a", "b", "c"]);
    expect(ft.get("a")).toBe(t.get("a")); // shared, not copied

    f.begin();
    ft.getW("a")!.v = 10;
    ft.delete("b");
    ft.insert(rec("d"));
    f.commit();
    expect(ft.keys()).toEqual(["a", "c", "d"]);
    expect(t.keys()).toEqual(["a", "b", "c"]);
    expect(t.get("a")!.v).toBe(0);

    store.begin();
    t.getW("c")!.v = 20;
    t.delete("a");
    t.insert(rec("e"));
    store.commit();
    expect(t.keys()).toEqual(["b", "c", "e"]);
    expect(ft.keys()).toEqual(["a", "c", "d"]);
    expect(ft.get("c")!.v).toBe(2);
    expect(ft.get("a")!.v).toBe(10);
    expect(t.size).toBe(3);
    expect(ft.size).toBe(3);
  });

  it("forks of forks keep their own contents", () => {
    const { store, t } = loaded(["a", "b"]);
    const f1 = store.fork();
    const t1 = f1.tables.t as unknown as Table<Rec>;
    f1.begin();
    t1.insert(rec("c"));
    f1.commit();
    const f2 = f1.fork();
    const t2 = f2.tables.t as unknown as Table<Rec>;
    f2.begin();
    t2.delete("a");
    t2.insert(rec("a", 9));
    f2.commit();
    f1.begin();
    t1.delete("b");
    f1.commit();
    expect(t.keys()).toEqual(["a", "b"]);
    expect(t1.keys()).toEqual(["a", "c"]);
    expect(t2.keys()).toEqual(["b", "c", "a"]);
    expect(t2.get("a")!.v).toBe(9);
    expect(t1.get("a")!.v).toBe(0);
  });

  it("a key deleted before a fork and re-inserted after it moves to the end (same as without the fork)", () => {
    const a = loaded(["a", "b", "c"]);
    const b = loaded(["a", "b", "c"]);
    a.store.fork();
    b.store.fork();
    for (const { store, t } of [a, b]) {
      store.begin();
      t.delete("a");
      store.commit();
    }
    a.store.fork(); // only a gets a fork between the delete and the re-insert
    for (const { store, t } of [a, b]) {
      store.begin();
      t.insert(rec("a", 5));
      store.commit();
    }
    expect(b.t.keys()).toEqual(["b", "c", "a"]);
    expect(a.t.keys()).toEqual(["b", "c", "a"]);
  });

  it("many generations of forks (past the layer depth limit) keep contents and order", () => {
    let { store } = loaded(["10", "2", "1"]);
    const expected = new Map<string, number>([["10", 0], ["2", 1], ["1", 2]]);
    const depths: number[] = [];
    const old: { store: Store; keys: string[]; values: number[] }[] = [];
    for (let gen = 0; gen < 30; gen++) {
      const t = store.tables.t as unknown as Table<Rec>;
      store.begin();
      t.insert(rec(`k${gen}`, gen));
      expected.set(`k${gen}`, gen);
      const victim = [...expected.keys()][gen % expected.size]!;
      t.delete(victim);
      expected.delete(victim);
      if (gen % 3 === 0) {
        t.insert(rec(victim, 1000 + gen)); // back, at the end
        expected.set(victim, 1000 + gen);
      }
      const first = [...expected.keys()][0]!;
      t.getW(first)!.v += 1;
      expected.set(first, expected.get(first)! + 1);
      store.commit();
      expect(t.keys()).toEqual([...expected.keys()]);
      expect(t.values().map((r) => r.v)).toEqual([...expected.values()]);
      expect(t.size).toBe(expected.size);
      old.push({ store, keys: [...expected.keys()], values: [...expected.values()] });
      store = gen % 2 ? store.fork() : store.fork().fork();
      depths.push(depthOf(store));
    }
    // the chain grew to the limit (8) and was flattened back to one layer, more than once
    expect(Math.max(...depths)).toBe(8);
    expect(depths.filter((d, i) => i > 0 && d < depths[i - 1]!).length).toBeGreaterThanOrEqual(2);
    // every earlier generation still reads what it had
    for (const o of old) {
      const t = o.store.tables.t as unknown as Table<Rec>;
      expect(t.keys()).toEqual(o.keys);
      expect(t.values().map((r) => r.v)).toEqual(o.values);
    }
  });

  it("many forks of one parent are all independent", () => {
    const { store } = loaded(["a", "b"]);
    const forks = Array.from({ length: 20 }, () => store.fork());
    forks.forEach((f, i) => {
      const t = f.tables.t as unknown as Table<Rec>;
      f.begin();
      t.insert(rec(`only${i}`, i));
      if (i % 2) t.delete("a");
      f.commit();
    });
    forks.forEach((f, i) => {
      const t = f.tables.t as unknown as Table<Rec>;
      expect(t.keys()).toEqual(i % 2 ? ["b", `only${i}`] : ["a", "b", `only${i}`]);
    });
    expect((store.tables.t as unknown as Table<Rec>).keys()).toEqual(["a", "b"]);
  });

  it("the id counter is copied, then independent", () => {
    const { store } = loaded([]);
    store.idCounter = 7;
    const f = store.fork();
    expect(f.idCounter).toBe(7);
    f.idCounter = 9;
    expect(store.idCounter).toBe(7);
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based property test
// ---------------------------------------------------------------------------------------------

const KEYS = ["10", "2", "1", "0", "a", "b", "c", "__proto__", "constructor", "toString"];
const TABLES = ["t", "u"] as const;

type Op =
  | { op: "insert"; table: number; key: string; v: number }
  | { op: "update"; table: number; key: string; v: number }
  | { op: "delete"; table: number; key: string }
  | { op: "requeue"; table: number; key: string } // delete, then insert the very same object
  | { op: "global"; v: number }
  | { op: "begin" }
  | { op: "commit" }
  | { op: "rollback" }
  | { op: "fork" }
  | { op: "checkpoint" } // freeze every table's own layer, as the fuzzer does before each call
  | { op: "switch"; to: number };

const keyArb = fc.constantFrom(...KEYS);
const tableArb = fc.integer({ min: 0, max: TABLES.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("insert" as const), table: tableArb, key: keyArb, v: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("update" as const), table: tableArb, key: keyArb, v: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), table: tableArb, key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("requeue" as const), table: tableArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("global" as const), v: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: "begin" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "rollback" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "fork" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "checkpoint" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("switch" as const), to: fc.nat() }) },
);

/** The reference: an insertion-ordered Map per table (delete + set moves a key to the end). */
interface Model {
  tables: Map<string, number>[];
  g: number;
}
const copyModel = (m: Model): Model => ({ tables: m.tables.map((t) => new Map(t)), g: m.g });

interface Instance {
  store: Store;
  model: Model;
  /** the model as it was at begin: rollback goes back to it */
  undo: Model | null;
}

/** Everything observable, from the store and from the model (plain values, cheap to compare). */
function observe(inst: Instance) {
  const { store, model } = inst;
  const actual = TABLES.map((name) => {
    const t = store.tables[name] as unknown as Table<Rec>;
    return {
      keys: [...t.keys()],
      entries: t.values().map((r) => [r.id, r.v]),
      size: t.size,
      lookups: KEYS.map((k) => [t.has(k), t.get(k)?.v ?? null]),
      // outside a transaction every record is frozen
      frozen: store.inTxn || t.values().every((r) => Object.isFrozen(r)),
    };
  });
  const expected = model.tables.map((m) => ({
    keys: [...m.keys()],
    entries: [...m.entries()],
    size: m.size,
    lookups: KEYS.map((k) => [m.has(k), m.get(k) ?? null]),
    frozen: true,
  }));
  return { actual: { tables: actual, g: store.globals.g }, expected: { tables: expected, g: model.g } };
}

function check(inst: Instance, where: string) {
  const { actual, expected } = observe(inst);
  // expect() only on a mismatch: it is slow, and this runs after every step for every fork
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, where).toEqual(expected);
}

function apply(inst: Instance, o: Exclude<Op, { op: "fork" } | { op: "switch" }>) {
  const { store, model } = inst;
  if (o.op === "checkpoint") {
    // between calls only, like fork
    if (!store.inTxn) for (const t of store.tableList) t.checkpoint();
    return;
  }
  if (o.op === "begin") {
    if (!store.inTxn) {
      store.begin();
      inst.undo = copyModel(model);
    }
    return;
  }
  if (o.op === "commit" || o.op === "rollback") {
    if (!store.inTxn) return;
    if (o.op === "commit") store.commit();
    else {
      store.rollback();
      inst.model = inst.undo!;
    }
    inst.undo = null;
    return;
  }
  // a change outside a transaction runs as a transaction of its own, as Environment.call does
  const auto = !store.inTxn;
  if (auto) store.begin();
  if (o.op === "global") {
    store.globalsW().g = o.v;
    model.g = o.v;
  } else {
    const t = store.tables[TABLES[o.table]!] as unknown as Table<Rec>;
    const m = model.tables[o.table]!;
    if (o.op === "insert") {
      expect(t.insert(rec(o.key, o.v))).toBe(!m.has(o.key));
      if (!m.has(o.key)) m.set(o.key, o.v);
    } else if (o.op === "update") {
      const w = t.getW(o.key);
      expect(w === undefined).toBe(!m.has(o.key));
      if (w) {
        expect(Object.isFrozen(w)).toBe(false);
        w.v = o.v;
        m.set(o.key, o.v);
      }
    } else if (o.op === "requeue") {
      const r = t.get(o.key);
      expect(r === undefined).toBe(!m.has(o.key));
      if (r) {
        expect(t.delete(o.key)).toBe(true);
        expect(t.insert(r)).toBe(true);
        const v = m.get(o.key)!;
        m.delete(o.key);
        m.set(o.key, v);
      }
    } else {
      expect(t.delete(o.key)).toBe(m.has(o.key));
      m.delete(o.key);
    }
  }
  if (auto) store.commit();
}

/**
 * Runs random operations on a store and its forks, checking every instance after every step,
 * or (`lazily`) only after the last one, so that tables are read with their cached arrays
 * cold: worked out afresh from layers frozen and forked since.
 */
function runModel(ops: fc.Arbitrary<Op[]>, numRuns: number, lazily = false) {
  const stats = { maxDepth: 0, flattened: 0 };
  const initial = fc.uniqueArray(keyArb, { maxLength: KEYS.length });
  fc.assert(
    fc.property(initial, initial, ops, (k0, k1, ops) => {
      const store = new Store({ g: 0 });
      const model: Model = { tables: [new Map(), new Map()], g: 0 };
      [k0, k1].forEach((keys, i) => {
        store.addTable(TABLES[i]!, "id", keys.map((k, j) => [k, rec(k, j)] as [string, object]));
        keys.forEach((k, j) => model.tables[i]!.set(k, j));
      });
      store.freezeAll();
      const instances: Instance[] = [{ store, model, undo: null }];
      let cur = 0;
      ops.forEach((o, step) => {
        const inst = instances[cur]!;
        if (o.op === "switch") cur = o.to % instances.length;
        else if (o.op === "fork") {
          // forks are taken between calls, never inside a transaction
          if (!inst.store.inTxn) {
            const d0 = depthOf(inst.store);
            instances.push({ store: inst.store.fork(), model: copyModel(inst.model), undo: null });
            if (depthOf(inst.store) < d0) stats.flattened++;
            if (instances.length > 8) instances.splice(1, 1); // keep the root, drop the oldest fork
            cur = instances.length - 1;
          }
        } else apply(inst, o);
        if (lazily && step < ops.length - 1) return;
        // every instance, not only the one written to: forks must not see each other's writes
        instances.forEach((i, n) => {
          check(i, `step ${step} (${o.op}), instance ${n}`);
          stats.maxDepth = Math.max(stats.maxDepth, depthOf(i.store));
        });
      });
    }),
    { numRuns },
  );
  return stats;
}

describe("Store against a reference model", () => {
  it("random operations with transactions and forks always agree with a Map model", () => {
    runModel(fc.array(opArb, { minLength: 1, maxLength: 150, size: "max" }), 250);
  });

  it("the same read only at the end, so that orders are worked out from many unread layers", () => {
    runModel(fc.array(opArb, { minLength: 1, maxLength: 150, size: "max" }), 400, true);
  });

  it("the same with many forks, so that layers get flattened", () => {
    // mostly writes to table t between forks: each fork then adds a layer to t's chain
    const write = fc.oneof(
      fc.record({ op: fc.constant("requeue" as const), table: fc.constant(0), key: keyArb }),
      fc.record({ op: fc.constant("insert" as const), table: fc.constant(0), key: keyArb, v: fc.integer({ min: 0, max: 99 }) }),
      fc.record({ op: fc.constant("update" as const), table: fc.constant(0), key: keyArb, v: fc.integer({ min: 0, max: 99 }) }),
      fc.record({ op: fc.constant("delete" as const), table: fc.constant(0), key: keyArb }),
    );
    const forky = fc.oneof(
      { weight: 2, arbitrary: fc.constant({ op: "fork" as const }) },
      { weight: 5, arbitrary: write },
      { weight: 2, arbitrary: opArb.filter((o) => o.op !== "fork") },
    );
    const stats = runModel(fc.array(forky, { minLength: 50, maxLength: 150, size: "max" }), 100);
    // the deepest a layer chain gets is 8 (MAX_DEPTH): the next fork flattens it
    expect(stats.maxDepth).toBe(8);
    expect(stats.flattened).toBeGreaterThan(10);
  });
});
