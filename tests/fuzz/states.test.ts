// Generated states (compiler/fuzz/states.ts) and result type checks (compiler/fuzz/types.ts).
// For every bundled spec: sampled states never fail createFrom on the schema or a reference
// (invariants may fail: makeValid fixes or repairs them), at least 90% become valid without
// being emptied (records per table and non-empty tables are asserted), the same seed gives the
// same states byte for byte; evolved states are valid and repeat with their seed; makeValid
// honours the invariant shapes it claims; the results of tool calls on valid states fit their
// declared types, and corrupted results are rejected with the path of the corruption.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { acceptance, evolvedStates, makeValid, problemKind, stateArbitrary, validStates } from "../../compiler/fuzz/states.js";
import { generatedPool } from "../../compiler/fuzz/engine.js";
import { typeProblem } from "../../compiler/fuzz/types.js";
import { stripOptional, type IEnv, type IParam, type Type } from "../../compiler/ir.js";
import { Environment, StateError, parseJsonOrdered, type EnvDefinition } from "../../runtime/index.js";
import { mustCheck } from "../helpers.js";

const SEED = 20240501;
const RUNS = 120;

interface Spec {
  name: string;
  env: IEnv;
  def: EnvDefinition;
  bundled?: unknown; // the spec's own state.json (db.json for tau-bench)
}

const SPECS: Spec[] = readdirSync("specs", { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    const dir = `specs/${d.name}`;
    const file = readdirSync(dir).find((f) => f.endsWith(".env") && f !== "scenarios.env")!;
    const checked = checkSource(readFileSync(`${dir}/${file}`, "utf8"), `${dir}/${file}`);
    if (!checked.env) throw new Error(`${dir}/${file} does not compile`);
    const stateFile = [`${dir}/state.json`, `${dir}/db.json`].find((f) => existsSync(f));
    return {
      name: d.name,
      env: checked.env,
      def: loadDefinition(checked.env),
      bundled: stateFile ? parseJsonOrdered(readFileSync(stateFile, "utf8")) : undefined,
    };
  });

const validCounts = new Map<string, number>();
const fullness: number[] = [];

describe("stateArbitrary on the bundled specs", () => {
  it("finds the bundled specs", () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(8);
  });

  for (const spec of SPECS) {
    it(`${spec.name}: no schema or reference problems; acceptance printed`, () => {
      const states = fc.sample(stateArbitrary(spec.env), { numRuns: RUNS, seed: SEED });
      let valid = 0;
      const bad: string[] = [];
      for (const state of states) {
        try {
          Environment.createFrom(spec.def, state);
          valid++;
        } catch (err) {
          if (!(err instanceof StateError)) throw err;
          for (const p of err.problems) if (problemKind(p) !== "invariant") bad.push(`${p.path}: ${p.message}`);
        }
      }
      expect(bad.slice(0, 5)).toEqual([]);
      validCounts.set(spec.name, valid);
      const acc = acceptance(spec.env, spec.def, RUNS, SEED);
      // acceptance samples the same states with the same seed; raw is what createFrom alone takes
      expect(acc).toMatchObject({ tried: RUNS, raw: valid });
      expect(acc.constructed + acc.repaired).toBe(acc.valid);
      expect([...acc.reasons.values()].reduce((a, b) => a + b, 0)).toBe(RUNS - acc.valid);
      expect([...acc.rawReasons.values()].reduce((a, b) => a + b, 0)).toBe(RUNS - valid);
      for (const reason of acc.rawReasons.keys()) expect(reason).toMatch(/^invariant: /);
      const top = [...acc.reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${n}x ${r}`);
      const pct = (n: number) => `${((100 * n) / RUNS).toFixed(1)}%`;
      console.log(
        `acceptance ${spec.name}: ${acc.valid}/${RUNS} (${pct(acc.valid)}: ${acc.constructed} constructed, ${acc.repaired} repaired; ` +
          `createFrom alone ${valid}/${RUNS}); records per table ${acc.meanRecords.toFixed(2)} (createFrom alone ${acc.rawMeanRecords.toFixed(2)}), ` +
          `non-empty tables ${(100 * acc.nonEmpty).toFixed(0)}%${top.length ? `\n  ${top.join("\n  ")}` : ""}`,
      );
      // valid states by construction and repair: at least 90% of the generated states...
      expect(acc.valid / RUNS).toBeGreaterThanOrEqual(0.9);
      // ...and not emptied to get there
      expect(acc.meanRecords).toBeGreaterThanOrEqual(0.75);
      expect(acc.nonEmpty).toBeGreaterThanOrEqual(0.3);
      fullness.push(acc.nonEmpty);
    });
  }

  it("keeps most tables of the valid states non-empty", () => {
    expect(fullness.length).toBe(SPECS.length);
    expect(fullness.reduce((a, b) => a + b, 0) / fullness.length).toBeGreaterThanOrEqual(0.45);
  });

  it("gives fully valid states for most specs", () => {
    const withValid = SPECS.filter((s) => (validCounts.get(s.name) ?? 0) > 0);
    expect(withValid.length).toBeGreaterThanOrEqual(SPECS.length - 2);
  });

  for (const spec of SPECS) {
    it(`${spec.name}: keys, references, sizes and determinism`, () => {
      const a = fc.sample(stateArbitrary(spec.env, { maxRecords: 5 }), { numRuns: 40, seed: SEED });
      const b = fc.sample(stateArbitrary(spec.env, { maxRecords: 5 }), { numRuns: 40, seed: SEED });
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      const c = fc.sample(stateArbitrary(spec.env, { maxRecords: 5 }), { numRuns: 40, seed: SEED + 1 });
      expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
      const allKeys = new Map<string, string>(); // key -> table: keys are unique across tables too
      for (const state of a) {
        allKeys.clear();
        for (const sf of spec.env.state) {
          if (!sf.table) continue;
          const entity = spec.env.entities.find((e) => e.name === sf.table)!;
          const table = state[sf.name] as Record<string, Record<string, unknown>>;
          expect(table).toBeTypeOf("object");
          const keys = Object.keys(table);
          expect(keys.length).toBeLessThanOrEqual(5);
          for (const k of keys) {
            expect(allKeys.get(k)).toBeUndefined();
            allKeys.set(k, sf.name);
            expect(k).toMatch(/^[A-Za-z]+\d+$/);
            if (entity.externalKey) expect(table[k]).not.toHaveProperty(entity.key);
            else expect(table[k]![entity.key]).toBe(k);
          }
        }
      }
      for (const state of fc.sample(stateArbitrary(spec.env, { maxRecords: 0 }), { numRuns: 10, seed: SEED })) {
        for (const sf of spec.env.state) if (sf.table) expect(state[sf.name]).toEqual({});
      }
    });
  }
});

describe("stateArbitrary on small specs", () => {
  it("handles reference cycles, required refs to other tables, refs in lists, maps and optionals, external keys", () => {
    const env = mustCheck(`
      env Cyc "cycles"
      record Line { product: ref Product, qty: int }
      entity User key user_id external { name: string, orders: list<ref Order>, fav: map<string, ref Product>, best: ref Order? }
      entity Order key order_id { order_id: string, user_id: ref User, lines: list<Line>, main: Line, when: date }
      entity Product key sku { sku: string, price: number }
      state { users: table User, orders: table Order, products: table Product, today: date = "2024-02-10" }
    `);
    const def = loadDefinition(env);
    let nonEmptyOrders = 0;
    for (const state of fc.sample(stateArbitrary(env, { maxRecords: 4 }), { numRuns: 200, seed: 7 })) {
      const orders = state.orders as Record<string, Record<string, unknown>>;
      const users = state.users as Record<string, Record<string, unknown>>;
      const products = state.products as Record<string, unknown>;
      // an order needs a user and (for `main`) a product
      if (Object.keys(orders).length) {
        nonEmptyOrders++;
        expect(Object.keys(users).length).toBeGreaterThan(0);
        expect(Object.keys(products).length).toBeGreaterThan(0);
      }
      for (const [k, u] of Object.entries(users)) {
        expect(k).toMatch(/^U\d+$/);
        expect(u).not.toHaveProperty("user_id");
      }
      for (const o of Object.values(orders)) {
        const when = o.when as string;
        expect(Math.abs(Date.parse(when) - Date.parse("2024-02-10"))).toBeLessThanOrEqual(60 * 86_400_000);
      }
      // everything valid: there are no invariants
      Environment.createFrom(def, state);
    }
    expect(nonEmptyOrders).toBeGreaterThan(20);
  });

  it("drops or fills tables for required references and state fields", () => {
    const env = mustCheck(`
      env Need "needs"
      entity A key a_id { a_id: string, b: ref B }
      entity B key b_id { b_id: string, n: int }
      entity C key c_id { c_id: string, d: ref D }
      entity D key d_id { d_id: string }
      state { as: table A, bs: table B, cs: table C, ds: table D, pick: ref D, when: datetime = "2024-03-12T14:00:00" }
    `);
    const def = loadDefinition(env);
    for (const state of fc.sample(stateArbitrary(env, { maxRecords: 3 }), { numRuns: 100, seed: 3 })) {
      expect(Object.keys(state.ds as object).length).toBeGreaterThan(0);
      expect(state.ds).toHaveProperty(state.pick as string);
      if ("when" in state) expect(state.when).toMatch(/^2024-0[2-4]-\d\dT\d\d:\d\d:\d\d$/);
      Environment.createFrom(def, state);
    }
  });
});

// ---------- valid states: by construction, repair, evolution ----------

const stateText = (envs: Environment[]) => envs.map((e) => JSON.stringify(e.toJSON())).join("\n");

describe("validStates and evolvedStates on the bundled specs", () => {
  for (const spec of SPECS) {
    it(`${spec.name}: the same seed gives the same valid states, byte for byte; another seed others`, () => {
      const counts = { tried: 0, valid: 0 };
      const a = validStates(spec.env, spec.def, 11, 12, counts);
      expect(a.length).toBe(12);
      expect(counts.valid).toBe(12);
      const b = validStates(spec.env, spec.def, 11, 12);
      expect(stateText(b)).toBe(stateText(a));
      expect(stateText(validStates(spec.env, spec.def, 12, 12))).not.toBe(stateText(a));
      // valid means createFrom takes the JSON again
      for (const e of a) Environment.createFrom(spec.def, e.toJSON());
    });

    if (!spec.bundled) continue;
    it(`${spec.name}: evolved states are valid, differ from the seed state and repeat with the seed`, () => {
      const seed = Environment.createFrom(spec.def, spec.bundled);
      const before = JSON.stringify(seed.toJSON());
      const a = evolvedStates(spec.env, spec.def, [seed], 5, 8);
      expect(JSON.stringify(seed.toJSON())).toBe(before); // the seed state is forked, never changed
      expect(stateText(evolvedStates(spec.env, spec.def, [seed], 5, 8))).toBe(stateText(a));
      for (const e of a) Environment.createFrom(spec.def, e.toJSON());
      const distinct = new Set(a.map((e) => JSON.stringify(e.toJSON())));
      distinct.delete(before);
      console.log(`evolved ${spec.name}: ${a.length} states, ${distinct.size} distinct and unlike the seed`);
      expect(a.length).toBeGreaterThan(0);
      expect(distinct.size).toBeGreaterThan(0);
    });
  }

  it("generatedPool mixes evolved states in when seed states are given, and repeats with its seed", () => {
    const spec = SPECS.find((s) => s.name === "library")!;
    const seed = Environment.createFrom(spec.def, spec.bundled);
    const counts = { tried: 0, valid: 0 };
    const pool = generatedPool(spec.env, spec.def, 3, 12, counts, [seed]);
    expect(pool.length).toBe(12);
    expect(counts.valid).toBe(8); // a third evolved
    const sizes = pool.map((e) => spec.def.tables.reduce((n, t) => n + e.table(t.name)!.size, 0));
    expect([...sizes].sort((x, y) => x - y)).toEqual(sizes); // smallest first
    expect(stateText(generatedPool(spec.env, spec.def, 3, 12, { tried: 0, valid: 0 }, [seed]))).toBe(stateText(pool));
    // without seeds: all generated
    const plain = { tried: 0, valid: 0 };
    expect(generatedPool(spec.env, spec.def, 3, 12, plain).length).toBe(12);
    expect(plain.valid).toBe(12);
  });
});

describe("makeValid on invariant shapes", () => {
  const SHAPES = mustCheck(`
    env Shapes "invariant shapes"
    enum Status { draft, active, closed }
    entity Plan key plan_id { plan_id: string, limit: int, used: int = 0, status: Status = draft, ends: date?, reason: string?, code: string }
    entity Folder key folder_id { folder_id: string, name: string, parent_id: ref Folder?, path: string }
    entity Tag key tag_id { tag_id: string, label: string }
    state { plans: table Plan, folders: table Folder, tags: table Tag, today: date = "2024-05-01", cap: int = 50 }
    fn join(parent: string, name: string) -> string { return parent + "/" + name }
    invariant ranges "usage within limits": all p in plans: p.used >= 0 and p.used <= p.limit and p.limit <= cap
    invariant active_ends_later "active plans end after today": all p in plans where p.status == active: p.ends != null and p.ends > today
    invariant closed_have_reason "closed exactly when a reason is given": all p in plans: (p.status == closed) == (p.reason != null)
    invariant codes "codes come from a list": all p in plans: p.code in ["A", "B", "C"]
    invariant one_root "one root folder": folders.count(f => f.parent_id == null) == 1
    invariant paths "paths follow parents": all f in folders where f.parent_id != null: f.path == join(folders[f.parent_id].path, f.name)
    invariant unique_labels "labels are unique": all t in tags: tags.count(u => u.label == t.label) == 1
    invariant tags_prefixed "tag ids start with TG": tags.all(t => starts_with(t.tag_id, "TG"))
  `);
  const def = loadDefinition(SHAPES);

  it("turns nearly every generated state valid, mostly by choices in the records, keeping records", () => {
    const states = fc.sample(stateArbitrary(SHAPES, { maxRecords: 6 }), { numRuns: 120, seed: SEED });
    let valid = 0;
    let constructed = 0;
    let raw = 0;
    let plans = 0;
    let folders = 0;
    states.forEach((s, i) => {
      try {
        Environment.createFrom(def, s);
        raw++;
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
      }
      const made = makeValid(SHAPES, def, s, i);
      if (!made.env) return;
      valid++;
      if (made.how === "constructed") constructed++;
      const json = made.env.toJSON() as Record<string, Record<string, Record<string, unknown>>>;
      const today = json.today as unknown as string; // generated too, not always the default
      plans += Object.keys(json.plans!).length;
      folders += Object.keys(json.folders!).length;
      for (const p of Object.values(json.plans!)) {
        expect(p.used as number).toBeLessThanOrEqual(p.limit as number);
        if (p.status === "active") expect(p.ends! > today).toBe(true);
        expect(["A", "B", "C"]).toContain(p.code);
      }
      expect(Object.values(json.folders!).filter((f) => f.parent_id == null)).toHaveLength(1);
      for (const k of Object.keys(json.tags!)) expect(k).toMatch(/^TG\d+$/);
    });
    console.log(`shapes: ${valid}/120 valid (${constructed} constructed), createFrom alone ${raw}/120, ${(plans / valid).toFixed(2)} plans and ${(folders / valid).toFixed(2)} folders per state`);
    expect(raw).toBeLessThan(15);
    expect(valid).toBeGreaterThanOrEqual(114);
    expect(constructed).toBeGreaterThanOrEqual(60);
    expect(plans / valid).toBeGreaterThan(1.5);
    expect(folders / valid).toBeGreaterThan(1.5);
  });

  it("fixes the records of whole-state invariants written as conjunctions of alls", () => {
    const env = mustCheck(`
      env Alls "alls"
      enum St { open, denied }
      entity Claim key claim_id { claim_id: string, status: St, reason: string? }
      entity Auth key auth_id { auth_id: string, status: St, note: string? }
      state { claims: table Claim, auths: table Auth }
      invariant denied_have_reason "denied ones carry a reason":
        (all c in claims where c.status == denied: c.reason != null) and auths.all(a => a.status != denied or a.note != null)
    `);
    const d = loadDefinition(env);
    const states = fc.sample(stateArbitrary(env, { maxRecords: 6 }), { numRuns: 60, seed: SEED });
    let constructed = 0;
    let records = 0;
    states.forEach((s, i) => {
      const made = makeValid(env, d, s, i);
      expect(made.how).not.toBe("failed");
      if (made.how === "constructed") constructed++;
      records += made.env!.table("claims")!.size + made.env!.table("auths")!.size;
    });
    expect(constructed).toBe(60); // every breaking record is fixed in its own fields
    expect(records / 60).toBeGreaterThan(3);
  });

  it("repairs by dropping what cannot be fixed, and what referred to it", () => {
    const env = mustCheck(`
      env Drop "drops"
      entity Box key box_id { box_id: string, weight: int }
      entity Item key item_id { item_id: string, box_id: ref Box, spare: ref Box? }
      state { boxes: table Box, items: table Item }
      invariant weight_is_count "a box weighs 100 plus its item count": all b in boxes: b.weight == items.count(i => i.box_id == b.box_id) + 100
      invariant no_b2 "box B2 is retired": all b in boxes: b.box_id != "B2"
    `);
    const d = loadDefinition(env);
    const state = {
      boxes: { B1: { box_id: "B1", weight: 7 }, B2: { box_id: "B2", weight: 101 } },
      items: { I1: { item_id: "I1", box_id: "B1", spare: "B2" }, I2: { item_id: "I2", box_id: "B2" } },
    };
    const made = makeValid(env, d, state, 1);
    expect(made.how).toBe("repaired");
    // B1's weight is chosen from its count; B2 cannot be fixed (keys stay): it goes, the item in
    // it goes (a required reference), I1's optional spare becomes null
    expect(made.env!.toJSON()).toEqual({ boxes: { B1: { box_id: "B1", weight: 101 } }, items: { I1: { item_id: "I1", box_id: "B1", spare: null } } });
    expect(makeValid(env, d, state, 1)).toMatchObject({ how: made.how, rounds: made.rounds });
    // a valid state passes as it is
    const ok = { boxes: { B1: { box_id: "B1", weight: 100 } }, items: {} };
    expect(makeValid(env, d, ok, 1)).toMatchObject({ how: "constructed", rounds: 1 });
  });
});

// ---------- typeProblem ----------

const SMALL = mustCheck(`
  env Small "small"
  enum Color { red, green }
  record Item { sku: string, qty: int, price: number = 0.0, note: string? }
  entity Cart key cart_id { cart_id: string, items: list<Item>, color: Color, by_color: map<Color, int>, seen: date?, at: datetime }
  entity Shopper key shopper_id external { email: string }
  state { carts: table Cart, shoppers: table Shopper }
  query cart(cart_id: string) -> Cart { return carts[cart_id] }
  query shopper(id: string) -> Shopper { return shoppers[id] }
`);
const cartType = SMALL.tools.find((t) => t.name === "cart")!.returnType!;
const shopperType = SMALL.tools.find((t) => t.name === "shopper")!.returnType!;
const goodCart = () => ({
  cart_id: "C1",
  items: [{ sku: "A", qty: 1 }, { sku: "B", qty: 2, price: 1.5, note: null }, { sku: "C", qty: 3, note: "x" }],
  color: "red",
  by_color: { red: 1 },
  at: "2024-05-01T09:30:00",
});

describe("typeProblem", () => {
  it("accepts matching values, with defaults and optionals absent", () => {
    expect(typeProblem(cartType, goodCart(), SMALL)).toBeUndefined();
    expect(typeProblem(cartType, { ...goodCart(), seen: "2024-05-01" }, SMALL)).toBeUndefined();
    expect(typeProblem(shopperType, { email: "a@b.c" }, SMALL)).toBeUndefined();
    expect(typeProblem({ k: "optional", inner: cartType }, null, SMALL)).toBeUndefined();
    expect(typeProblem({ k: "void" }, null, SMALL)).toBeUndefined();
    expect(typeProblem({ k: "json" }, { any: [1, "x"] }, SMALL)).toBeUndefined();
    expect(typeProblem({ k: "number" }, 3, SMALL)).toBeUndefined();
    expect(typeProblem({ k: "ref", entity: "Cart" }, "C9", SMALL)).toBeUndefined();
  });

  it("names the path of the first mismatch", () => {
    const c = goodCart();
    c.items[2]!.qty = 1.5;
    expect(typeProblem(cartType, c, SMALL)).toBe("$.items[2].qty: expected int, got 1.5");
    expect(typeProblem(cartType, { ...goodCart(), color: "blue" }, SMALL)).toBe('$.color: expected Color ("red" | "green"), got "blue"');
    expect(typeProblem(cartType, { ...goodCart(), by_color: { red: 1, blue: 2 } }, SMALL)).toMatch(/^\$\.by_color\.blue: unexpected key/);
    expect(typeProblem(cartType, { ...goodCart(), by_color: { red: "1" } }, SMALL)).toBe('$.by_color.red: expected int, got "1"');
    expect(typeProblem(cartType, { ...goodCart(), seen: "May 1" }, SMALL)).toBe('$.seen: expected date (YYYY-MM-DD), got "May 1"');
    expect(typeProblem(cartType, { ...goodCart(), at: "2024-05-01" }, SMALL)).toMatch(/^\$\.at: expected datetime/);
    const { color: _, ...noColor } = goodCart();
    expect(typeProblem(cartType, noColor, SMALL)).toBe("$.color: missing (expected Color)");
    expect(typeProblem(cartType, { ...goodCart(), extra: 1 }, SMALL)).toMatch(/^\$\.extra: unknown field/);
    const d = goodCart() as Record<string, unknown>;
    (d.items as unknown[])[0] = { sku: "A", qty: 1, price: null };
    expect(typeProblem(cartType, d, SMALL)).toBe("$.items[0].price: expected number, got null");
    expect(typeProblem(shopperType, { email: "a", shopper_id: "S1" }, SMALL)).toMatch(/^\$\.shopper_id: unknown field \(Shopper has an external key/);
    expect(typeProblem({ k: "int" }, 2 ** 60, SMALL)).toMatch(/^\$: expected int/);
    expect(typeProblem({ k: "number" }, Number.NaN, SMALL)).toBe("$: expected number, got NaN");
    expect(typeProblem({ k: "number" }, Infinity, SMALL)).toBe("$: expected number, got Infinity");
    expect(typeProblem({ k: "bool" }, 0, SMALL, "$.ok")).toBe("$.ok: expected bool, got 0");
    expect(typeProblem({ k: "list", elem: { k: "string" } }, { a: 1 }, SMALL)).toMatch(/^\$: expected list<string>, got an object/);
    expect(typeProblem({ k: "void" }, 1, SMALL)).toBe("$: expected null, got 1");
  });

  it("never throws", () => {
    const cyclic: Record<string, unknown> = { cart_id: "C1", color: "red", by_color: {}, at: "2024-05-01T09:30:00" };
    cyclic.items = [cyclic];
    expect(typeProblem(cartType, cyclic, SMALL)).toMatch(/^\$\.items\[0\]/);
    const nested = { k: "list" } as { k: "list"; elem: Type };
    nested.elem = nested; // list<list<list<...>>>
    const deep: unknown[] = [];
    deep.push(deep);
    expect(typeProblem(nested, deep, SMALL)).toMatch(/nested too deeply/);
    const types = [cartType, shopperType, { k: "optional", inner: cartType } as Type, { k: "map", key: { k: "string" }, value: cartType } as Type];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true }), (t, v) => {
        const r = typeProblem(t, v, SMALL);
        expect(r === undefined || typeof r === "string").toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ---------- results of tool calls on generated and bundled states ----------

/** Arguments from the state: existing keys for id parameters, values of fields with the parameter's name. */
function argsFor(env: IEnv, params: readonly IParam[], state: Record<string, unknown>, pick: number): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = {};
  const tables = env.state.filter((s) => s.table).map((s) => ({ name: s.name, entity: env.entities.find((e) => e.name === s.table)! }));
  const keysFor = (keyName: string) => {
    const t = tables.find((x) => x.entity.key === keyName);
    return t ? Object.keys(state[t.name] as object) : undefined;
  };
  const fieldValue = (field: string) => {
    for (const t of tables) for (const r of Object.values(state[t.name] as Record<string, Record<string, unknown>>)) if (r[field] != null) return r[field];
    return undefined;
  };
  const globalOf = (k: string) => env.state.find((s) => !s.table && stripOptional(s.type).k === k)?.name;
  for (const p of params) {
    if (!p.required) continue;
    const t = stripOptional(p.type);
    const keys = keysFor(p.name) ?? keysFor(p.name.replace(/s$/, ""));
    let v: unknown;
    if ((t.k === "string" || t.k === "ref") && keys) v = keys.length ? keys[pick % keys.length] : "NOPE";
    else if (t.k === "list" && keys) v = keys.slice(0, 2);
    else if (fieldValue(p.name) !== undefined) v = fieldValue(p.name);
    else if (t.k === "string") v = "ada";
    else if (t.k === "int") v = 1;
    else if (t.k === "number") v = 10;
    else if (t.k === "bool") v = false;
    else if (t.k === "enum") v = t.values[pick % t.values.length];
    else if (t.k === "date") v = String(state[globalOf("date") ?? ""] ?? state[globalOf("datetime") ?? ""] ?? "2024-05-01").slice(0, 10);
    else if (t.k === "datetime") v = state[globalOf("datetime") ?? ""] ?? `${state[globalOf("date") ?? ""] ?? "2024-05-01"}T10:00:00`;
    else return undefined;
    args[p.name] = v;
  }
  return args;
}

/** A copy of `value` with one leaf of the wrong type, and the path of that leaf. */
function corrupt(type: Type, value: unknown, path = "$"): { value: unknown; path: string } | undefined {
  const t = stripOptional(type);
  if (value === null || value === undefined) return undefined;
  switch (t.k) {
    case "int":
      return { value: 0.5, path };
    case "number":
      return { value: "12", path };
    case "string":
    case "ref":
      return { value: 42, path };
    case "bool":
      return { value: "yes", path };
    case "date":
    case "datetime":
      return { value: "May 1", path };
    case "enum":
      return { value: "not_a_value", path };
    case "list": {
      const xs = value as unknown[];
      for (let i = 0; i < xs.length; i++) {
        const c = corrupt(t.elem, xs[i], `${path}[${i}]`);
        if (c) return { value: xs.map((x, j) => (j === i ? c.value : x)), path: c.path };
      }
      return { value: "not a list", path };
    }
    case "record": {
      const obj = value as Record<string, unknown>;
      for (const f of t.fields) {
        if (!(f.name in obj)) continue;
        const c = corrupt(f.type, obj[f.name], /^[A-Za-z_]\w*$/.test(f.name) ? `${path}.${f.name}` : `${path}[${JSON.stringify(f.name)}]`);
        if (c) return { value: { ...obj, [f.name]: c.value }, path: c.path };
      }
      return { value: [obj], path };
    }
    default:
      return undefined;
  }
}

describe("typeProblem on tool results of the bundled specs", () => {
  for (const spec of SPECS) {
    it(`${spec.name}: results of successful calls fit their types; corrupted ones are rejected at the right path`, () => {
      const starts: Environment[] = [];
      if (spec.bundled) starts.push(Environment.createFrom(spec.def, spec.bundled));
      for (const state of fc.sample(stateArbitrary(spec.env, { maxRecords: 6 }), { numRuns: 300, seed: SEED })) {
        try {
          starts.push(Environment.createFrom(spec.def, state));
        } catch (err) {
          if (!(err instanceof StateError)) throw err;
        }
        if (starts.length >= 25) break;
      }
      expect(starts.length).toBeGreaterThan(1);
      let checked = 0;
      let corrupted = 0;
      const faults = new Set<string>(); // the spec's own faults on valid states: findings, not failures here
      const tools = spec.env.tools.filter((t) => t.kind !== "fn" && t.returnType);
      for (const start of starts) {
        const state = start.toJSON();
        for (const tool of tools) {
          for (const pick of [0, 1]) {
            const args = argsFor(spec.env, tool.params, state, pick);
            if (!args) continue;
            const env = start.fork();
            const r = env.call(tool.name, args);
            if (!r.ok) {
              if (r.kind === "env_fault") faults.add(`${tool.name}: ${r.error}`);
              continue;
            }
            checked++;
            expect(typeProblem(tool.returnType!, r.value, spec.env), `${tool.name}(${JSON.stringify(args)})`).toBeUndefined();
            const c = corrupt(tool.returnType!, r.value);
            if (!c) continue;
            corrupted++;
            const problem = typeProblem(tool.returnType!, c.value, spec.env);
            expect(problem, `${tool.name}: corrupted at ${c.path}`).toBeDefined();
            expect(problem!.startsWith(`${c.path}: expected `), `${problem} (corrupted at ${c.path})`).toBe(true);
          }
        }
      }
      console.log(`results ${spec.name}: ${checked} ok results checked, ${corrupted} corrupted, from ${starts.length} states${faults.size ? `; environment faults:\n  ${[...faults].join("\n  ")}` : ""}`);
      expect(checked).toBeGreaterThan(10);
      expect(corrupted).toBeGreaterThan(0);
    });
  }
});
