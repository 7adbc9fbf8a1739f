// Tests for runtime/env.ts on a small spec compiled in memory (tests/runtime/shop-spec.ts):
// createFrom's state validation with JSON paths, every call result kind with its message and
// location, "a failed call leaves no trace", checks on/off, new_id, fork, diff, renderers.
import { describe, expect, it } from "vitest";
import {
  Environment, StateError, diffIsEmpty, parseJsonOrdered, renderResult, stringifyOrdered, type CallResult, type StateProblem,
} from "../../runtime/index.js";
import { envFrom } from "../helpers.js";
import { DEF, PARAMS, QUERIES, SPEC, make, loc, state } from "./shop-spec.js";

/** The state as text in table order (JSON.stringify would put integer-like keys first). */
const text = (env: Environment) => stringifyOrdered(env.toJSON());

function problemsOf(initial: unknown): StateProblem[] {
  try {
    make(initial);
  } catch (e) {
    expect(e).toBeInstanceOf(StateError);
    expect((e as StateError).message).toMatch(/^Invalid state:/);
    return (e as StateError).problems;
  }
  throw new Error("expected a StateError");
}

/**
 * Call, and check that a failed call changed nothing at all. The environment is not forked
 * here (a fork moves its records into a shared layer, which takes other store paths): the
 * diff is taken against a copy read back from the JSON state.
 */
function call(env: Environment, tool: string, args?: unknown): CallResult {
  const before = text(env);
  const beforePlain = JSON.stringify(env.toJSON());
  const r = env.call(tool, args);
  if (!r.ok) {
    expect(text(env)).toBe(before);
    expect(JSON.stringify(env.toJSON())).toBe(beforePlain);
    // (after calls with checks off, the state may no longer be a valid initial state)
    let copy: Environment | undefined;
    try {
      copy = make(parseJsonOrdered(before));
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
    }
    if (copy) expect(diffIsEmpty(copy.diff(env))).toBe(true);
  }
  return r;
}

function expectFail(r: CallResult, kind: string, error: string | RegExp, location?: string | RegExp) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.kind).toBe(kind);
  if (typeof error === "string") expect(r.error).toBe(error);
  else expect(r.error).toMatch(error);
  // only environment faults carry a spec location
  if (kind !== "env_fault") expect(r.location).toBeUndefined();
  else if (location === undefined) expect(r.location).toMatch(/^test\.env/);
  else if (location instanceof RegExp) expect(r.location).toMatch(location);
  else expect(r.location).toBe(location);
}

const LOC = /^test\.env:\d+:\d+$/;

describe("createFrom", () => {
  it("accepts a valid state, fills defaults and keeps table order", () => {
    const env = make();
    const j = env.toJSON() as any;
    expect(Object.keys(j)).toEqual(["customers", "items", "orders", "today", "divisor"]);
    expect(j.customers.C1).toEqual({ customer_id: "C1", name: "Ann", credit: 0 });
    expect(j.orders.O_1.status).toBe("closed");
    expect(j.divisor).toBe(1);
    expect(env.table("items")!.keys()).toEqual(["I1", "10", "2"]);
    expect(text(env)).toContain('"items":{"I1":');
    expect(env.toolNames).toEqual(Object.keys(PARAMS));
    expect(env.name).toBe("Shop");
  });

  it("the envFrom helper builds the same environment", () => {
    expect(text(envFrom(SPEC, state()))).toBe(text(make()));
  });

  it("an absent table is empty", () => {
    const s = state();
    delete s.orders;
    expect(make(s).table("orders")!.size).toBe(0);
  });

  it("rejects a wrong type", () => {
    const s = state();
    s.items.I1.price = "2";
    expect(problemsOf(s)).toEqual([{ path: "$.items.I1.price", message: expect.stringMatching(/expected number/) }]);
    const s2 = state();
    s2.items["10"].stock = 1.5;
    expect(problemsOf(s2).map((p) => p.path)).toEqual(['$.items["10"].stock']);
    const s3 = state();
    s3.today = "January 1st";
    expect(problemsOf(s3)).toEqual([{ path: "$.today", message: expect.stringMatching(/date/) }]);
    const s4 = state();
    s4.orders.O_1.status = "lost";
    expect(problemsOf(s4).map((p) => p.path)).toEqual(["$.orders.O_1.status"]);
  });

  it("rejects unknown fields, in a record and at the top", () => {
    const s = state();
    s.items.I1.color = "red";
    expect(problemsOf(s)).toEqual([{ path: "$.items.I1", message: expect.stringContaining("color") }]);
    const s2 = state();
    s2.bogus = 1;
    expect(problemsOf(s2)).toEqual([{ path: "$.bogus", message: expect.stringContaining("unknown state field") }]);
  });

  it("rejects a missing required scalar and a missing record field", () => {
    const s = state();
    delete s.today;
    expect(problemsOf(s)).toEqual([{ path: "$.today", message: expect.stringContaining("missing") }]);
    const s2 = state();
    delete s2.customers.C2.name;
    expect(problemsOf(s2).map((p) => p.path)).toEqual(["$.customers.C2.name"]);
  });

  it("rejects a key that does not match the record's key field", () => {
    const s = state();
    s.items.I9 = { item_id: "I8", name: "x", price: 1, stock: 1 };
    expect(problemsOf(s)).toEqual([{ path: "$.items.I9.item_id", message: 'is "I8" but the record is stored under "I9"' }]);
  });

  it("rejects a dangling reference", () => {
    const s = state();
    s.orders.O_2 = { order_id: "O_2", customer_id: "C9", item_id: "I1", qty: 1 };
    expect(problemsOf(s)).toEqual([
      { path: "$.orders.O_2.customer_id", message: 'refers to customers["C9"], which does not exist' },
    ]);
  });

  it("rejects a broken invariant, naming the record when the invariant is per record", () => {
    const s = state();
    s.items["10"].stock = -1;
    expect(problemsOf(s)).toEqual([
      { path: '$.items["10"]', message: "breaks invariant stock_nonneg (Stock is never negative)" },
    ]);
    const s2 = state();
    s2.customers.C1.credit = 950;
    expect(problemsOf(s2)).toEqual([{ path: "$", message: expect.stringContaining("credit_cap") }]);
  });

  it("rejects states that are not objects, and tables that are not keyed objects", () => {
    for (const bad of [null, [], 3, "x"]) expect(problemsOf(bad)).toEqual([{ path: "$", message: expect.stringContaining("JSON object") }]);
    const s = state();
    s.items = [s.items.I1];
    expect(problemsOf(s)).toEqual([{ path: "$.items", message: expect.stringContaining("keyed by item_id") }]);
  });

  it("reports every problem at once", () => {
    const s = state();
    s.items.I1.price = "2";
    s.bogus = true;
    delete s.today;
    expect(problemsOf(s).map((p) => p.path).sort()).toEqual(["$.bogus", "$.items.I1.price", "$.today"]);
  });
});

describe("call result kinds", () => {
  it("ok: a query and an action", () => {
    const env = make();
    expect(call(env, "get_item", { item_id: "10" })).toEqual({ ok: true, value: { item_id: "10", name: "Ink", price: 150, stock: 5 } });
    const r = call(env, "place_order", { customer_id: "C2", item_id: "I1", qty: 2 });
    expect(r).toEqual({ ok: true, value: { order_id: "O_2", customer_id: "C2", item_id: "I1", qty: 2, status: "open" } });
    expect(env.table("items")!.get("I1").stock).toBe(1);
    const p1 = env.table("orders")!.get("P1");
    expect(p1.status).toBe("open"); // the default
    expect(call(env, "list_orders", { customer_id: "C2" })).toEqual({ ok: true, value: [p1, r.ok && r.value] });
    expect(call(env, "cancel_order", { order_id: "P1" })).toEqual({ ok: true, value: { ...p1, status: "closed" } });
    expect(env.table("items")!.get("10").stock).toBe(7);
    // an action without a return type gives null
    expect(call(env, "delete_order", { order_id: "O_2" })).toEqual({ ok: true, value: null });
  });

  it("invalid_args: missing, extra and wrong-typed arguments, and non-objects", () => {
    const env = make();
    expectFail(call(env, "place_order", {}), "invalid_args",
      "Invalid arguments for place_order: customer_id: missing (required string); item_id: missing (required string)");
    expectFail(call(env, "place_order", { customer_id: "C1", item_id: "I1", extra: 1 }), "invalid_args",
      "Invalid arguments for place_order: unknown argument 'extra'");
    expectFail(call(env, "place_order", { customer_id: "C1", item_id: 3 }), "invalid_args", /^Invalid arguments for place_order: item_id: /);
    expectFail(call(env, "place_order", { customer_id: "C1", item_id: "I1", qty: 1.5 }), "invalid_args", /qty/);
    expectFail(call(env, "place_order", { customer_id: "C1", item_id: "I1", qty: "1" }), "invalid_args", /qty/);
    expectFail(call(env, "place_order", { customer_id: null, item_id: "I1" }), "invalid_args", /customer_id/);
    for (const bad of [5, "x", [1], true])
      expectFail(call(env, "place_order", bad), "invalid_args", "Invalid arguments for place_order: arguments must be a JSON object");
    // no arguments at all is an empty object
    expectFail(call(env, "place_order"), "invalid_args", /customer_id: missing/);
    expectFail(call(env, "close_shop", {}), "invalid_args", "Invalid arguments for close_shop: reason: missing (required string)");
    expectFail(call(env, "get_item", { item_id: "I1", x: 1 }), "invalid_args", "Invalid arguments for get_item: unknown argument 'x'");
    // arguments are checked before the tool runs: an action with bad arguments has no effect
    expectFail(call(env, "advance", { days: 1.5 }), "invalid_args", /days/);
    expect(env.globals.today).toBe("2024-01-01");
  });

  it("unknown_tool: the message lists the available tools", () => {
    const env = make();
    const r = call(env, "order_pizza", {});
    expectFail(r, "unknown_tool", /^Unknown tool 'order_pizza'\. Available tools: /);
    for (const t of Object.keys(PARAMS)) expect(!r.ok && r.error).toContain(t);
    expect(!r.ok && r.error).toBe(`Unknown tool 'order_pizza'. Available tools: ${Object.keys(PARAMS).join(", ")}`);
  });

  it("precondition: require and fail, with interpolated messages and no location", () => {
    const env = make();
    expectFail(call(env, "place_order", { customer_id: "C1", item_id: "I1", qty: 9 }), "precondition", "Only 3 of Pen left");
    expectFail(call(env, "place_order", { customer_id: "C9", item_id: "I1" }), "precondition", "Customer not found");
    expectFail(call(env, "get_item", { item_id: "nope" }), "precondition", "Item not found");
    expectFail(call(env, "cancel_order", { order_id: "O_1" }), "precondition", "Order O_1 is already closed");
    expectFail(call(env, "close_shop", { reason: "storm" }), "precondition", "Closed: storm");
    expectFail(call(env, "list_orders", { customer_id: "C9" }), "precondition", "Customer not found");
  });

  it("env_fault: missing key without else", () => {
    const env = make();
    expectFail(call(env, "raw_item", { item_id: "X" }), "env_fault", "No record 'X' in table items", loc("return items[item_id]", "items"));
    expectFail(call(env, "remove_item", { item_id: "X" }), "env_fault", "No record 'X' in table items to delete", loc("delete items[item_id]", "delete"));
  });

  it("env_fault: a duplicate key on insert", () => {
    const env = make();
    expectFail(call(env, "add_item", { item_id: "I1", name: "x", price: 1 }), "env_fault",
      "A record with key 'I1' already exists in items", loc("let i = insert items", "insert"));
  });

  it("env_fault: division by zero, in a query and in an action after it wrote", () => {
    const env = make();
    expectFail(call(env, "ratio", { a: 1, b: 0 }), "env_fault", "Division by zero", loc("return a / b", "a / b"));
    expectFail(call(env, "split", { item_id: "I1", parts: 0 }), "env_fault", "Division by zero", loc("return i.price / parts", "i.price"));
    expect(env.table("items")!.get("I1").price).toBe(2);
    expect(env.globals.divisor).toBe(1);
    expect(call(env, "split", { item_id: "I1", parts: 2 })).toEqual({ ok: true, value: 1.5 });
    expect(env.globals.divisor).toBe(2);
  });

  it("env_fault: a broken ensure", () => {
    const env = make();
    expectFail(call(env, "rename", { customer_id: "C1", name: "" }), "env_fault", /ensure/, loc('ensure c.name != ""', "ensure"));
    expect(env.table("customers")!.get("C1").name).toBe("Ann");
  });

  it("env_fault: an action that breaks an invariant (per record and whole state)", () => {
    const env = make();
    expectFail(call(env, "restock", { item_id: "10", qty: -6 }), "env_fault",
      'Invariant stock_nonneg is broken by items["10"]: Stock is never negative', loc("invariant stock_nonneg", "invariant"));
    expectFail(call(env, "give_credit", { customer_id: "C1", amount: 901 }), "env_fault",
      "Invariant credit_cap is broken: Total credit stays under 1000", loc("invariant credit_cap", "invariant"));
    expect(call(env, "give_credit", { customer_id: "C1", amount: 900 }).ok).toBe(true);
    expect(call(env, "restock", { item_id: "10", qty: -5 }).ok).toBe(true);
  });

  it("env_fault: an action that leaves a dangling reference (written, or to a deleted record)", () => {
    const env = make();
    expectFail(call(env, "reassign", { order_id: "O_1", customer_id: "C9" }), "env_fault",
      'Record orders["O_1"].customer_id refers to customers["C9"], which does not exist', /^test\.env(:\d+:\d+)?$/);
    expectFail(call(env, "remove_item", { item_id: "I1" }), "env_fault",
      'Record orders["O_1"].item_id still refers to deleted items["I1"]', /^test\.env(:\d+:\d+)?$/);
    expect(call(env, "remove_item", { item_id: "2" }).ok).toBe(true);
    expect(call(env, "reassign", { order_id: "O_1", customer_id: "C2" }).ok).toBe(true);
  });

  it("env_fault locations are file:line:col", () => {
    const env = make();
    const faults = [
      call(env, "raw_item", { item_id: "X" }),
      call(env, "ratio", { a: 1, b: 0 }),
      call(env, "rename", { customer_id: "C1", name: "" }),
      call(env, "restock", { item_id: "I1", qty: -100 }),
      call(env, "add_item", { item_id: "10", name: "x", price: 1 }),
    ];
    for (const r of faults) expectFail(r, "env_fault", /./, LOC);
  });
});

describe("a failed call leaves no trace", () => {
  it("after writes, deletes, inserts and new_id", () => {
    const env = make();
    const before = text(env);
    const order = env.table("items")!.keys();
    // deleted, re-inserted at the end, then a precondition fails
    expectFail(call(env, "move_to_end", { item_id: "10" }), "precondition", "Price 150 is over 100");
    expect(env.table("items")!.keys()).toEqual(order);
    expect(call(env, "move_to_end", { item_id: "10", max_price: 200 }).ok).toBe(true);
    expect(env.table("items")!.keys()).toEqual(["I1", "2", "10"]);
    expectFail(call(env, "move_to_end", { item_id: "I1", max_price: 1 }), "precondition", /over/);
    expect(env.table("items")!.keys()).toEqual(["I1", "2", "10"]);
    expect(text(env)).not.toBe(before);
  });

  it("a delete and re-insert rolled back keeps the order, in a fresh environment and in a fork", () => {
    for (const env of [make(), make().fork(), make().fork().fork()]) {
      expectFail(env.call("move_to_end", { item_id: "10" }), "precondition", "Price 150 is over 100");
      expect(env.table("items")!.keys()).toEqual(["I1", "10", "2"]);
      expect(text(env)).toBe(text(make()));
    }
  });

  it("a record deleted and inserted again as is, then written, in a fresh environment and in a fork", () => {
    for (const env of [make(), make().fork()]) {
      const r = call(env, "requeue", { item_id: "I1", bump: 1 });
      expect(r).toEqual({ ok: true, value: { item_id: "I1", name: "Pen", price: 2, stock: 4 } });
      expect(env.table("items")!.keys()).toEqual(["10", "2", "I1"]);
      // a later failed call that wrote the re-inserted record leaves the order alone
      expectFail(call(env, "split", { item_id: "I1", parts: 0 }), "env_fault", "Division by zero");
      expectFail(call(env, "requeue", { item_id: "I1", bump: -10 }), "env_fault", /stock_nonneg/);
      expect(env.table("items")!.keys()).toEqual(["10", "2", "I1"]);
      expect(env.table("items")!.get("I1").stock).toBe(4);
    }
    // without a write, the record in the table is the very object the parent layer holds
    for (const env of [make(), make().fork()]) {
      expect(call(env, "requeue", { item_id: "10" }).ok).toBe(true);
      expect(env.table("items")!.keys()).toEqual(["I1", "2", "10"]);
      expectFail(call(env, "split", { item_id: "10", parts: 0 }), "env_fault", "Division by zero");
      expect(env.table("items")!.keys()).toEqual(["I1", "2", "10"]);
    }
  });

  it("every kind of failure in a row, on one environment", () => {
    const env = make();
    call(env, "place_order", { customer_id: "C1", item_id: "I1" });
    const before = text(env);
    const results = [
      call(env, "place_order", { customer_id: "C1", item_id: "I1", qty: 50 }),
      call(env, "split", { item_id: "I1", parts: 0 }),
      call(env, "rename", { customer_id: "C2", name: "" }),
      call(env, "restock", { item_id: "I1", qty: -10 }),
      call(env, "give_credit", { customer_id: "C2", amount: 2000 }),
      call(env, "reassign", { order_id: "O_2", customer_id: "nobody" }),
      call(env, "remove_item", { item_id: "I1" }),
      call(env, "ids_then_fail", { prefix: "O" }),
      call(env, "nope", {}),
      call(env, "advance", { days: "1" }),
    ];
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(text(env)).toBe(before);
  });
});

describe("odd keys", () => {
  it("a record keyed __proto__ survives toJSON, a reload and diff", () => {
    const env = make();
    const before = env.snapshot();
    const rec = { item_id: "__proto__", name: "Odd", price: 1, stock: 1 };
    expect(call(env, "add_item", { item_id: "__proto__", name: "Odd", price: 1, stock: 1 })).toEqual({ ok: true, value: rec });
    expect(call(env, "place_order", { customer_id: "C1", item_id: "__proto__" }).ok).toBe(true);
    const items = env.toJSON().items as Record<string, unknown>;
    expect(Object.keys(items)).toContain("__proto__");
    expect(Object.getPrototypeOf(items)).toBe(Object.prototype);
    expect(JSON.stringify(env.toJSON())).toContain('"__proto__":{"item_id":"__proto__"');
    const reloaded = make(parseJsonOrdered(text(env)));
    expect(reloaded.table("items")!.keys()).toEqual(["I1", "10", "2", "__proto__"]);
    expect(text(reloaded)).toBe(text(env));
    const d = before.diff(env);
    expect(Object.keys(d.tables.items!)).toEqual(["__proto__"]);
    expect(d.tables.items!["__proto__"]).toEqual({ before: null, after: { ...rec, stock: 0 } });
    expect(Object.keys(d.tables.orders!)).toEqual(["O_2"]);
  });

  it("arguments with an own __proto__ or constructor key are unknown arguments", () => {
    const env = make();
    for (const t of ['{"__proto__":{"x":1},"item_id":"I1"}', '{"constructor":1,"item_id":"I1"}'])
      expectFail(call(env, "get_item", JSON.parse(t)), "invalid_args", /unknown argument '(__proto__|constructor)'/);
    expectFail(call(env, "toString", {}), "unknown_tool", /^Unknown tool 'toString'/);
  });
});

describe("checks", () => {
  it("switching checks off after creation also turns off ensure", () => {
    const env = make(state());
    env.checks = false;
    expect(call(env, "rename", { customer_id: "C1", name: "" }).ok).toBe(true);
    env.checks = true;
    expect(call(env, "rename", { customer_id: "C1", name: "" }).ok).toBe(false);
  });

  it("{checks: false} lets an action break an invariant, an ensure or a reference", () => {
    const env = make(state(), { checks: false });
    expect(env.checks).toBe(false);
    expect(call(env, "restock", { item_id: "10", qty: -6 })).toEqual({ ok: true, value: { item_id: "10", name: "Ink", price: 150, stock: -1 } });
    expect(call(env, "rename", { customer_id: "C1", name: "" }).ok).toBe(true);
    expect(call(env, "reassign", { order_id: "O_1", customer_id: "C9" }).ok).toBe(true);
    // the broken state is no longer a valid initial state
    const problems = (() => {
      try {
        make(env.toJSON());
        return [];
      } catch (e) {
        return (e as StateError).problems.map((p) => p.path);
      }
    })();
    expect(problems).toEqual(["$.orders.O_1.customer_id", '$.items["10"]']);
    // faults that are not checks still happen
    expectFail(call(env, "ratio", { a: 1, b: 0 }), "env_fault", "Division by zero", LOC);
    // a fork keeps the setting unless told otherwise
    expect(env.fork().checks).toBe(false);
    const strict = env.fork({ checks: true });
    expectFail(call(strict, "restock", { item_id: "I1", qty: -100 }), "env_fault", /Invariant stock_nonneg/);
  });
});

describe("new_id", () => {
  it("is deterministic and skips keys that exist in any table", () => {
    const s = state();
    s.orders.O_2 = { order_id: "O_2", customer_id: "C1", item_id: "I1", qty: 1, status: "closed" };
    s.items.O_3 = { item_id: "O_3", name: "odd", price: 1, stock: 1 };
    const a = make(s);
    const b = make(s);
    expect(call(a, "make_ids", { prefix: "O", n: 2 })).toEqual({ ok: true, value: ["O_4", "O_5"] });
    expect(call(b, "make_ids", { prefix: "O", n: 2 })).toEqual({ ok: true, value: ["O_4", "O_5"] });
    const r = call(a, "place_order", { customer_id: "C1", item_id: "I1" });
    expect(r.ok && (r.value as any).order_id).toBe("O_6");
  });

  it("has one counter shared by every prefix (as docs/language.md says)", () => {
    const env = make();
    const ids = (prefix: string, n: number) => {
      const r = call(env, "make_ids", { prefix, n });
      return r.ok ? r.value : r;
    };
    expect([ids("L", 1), ids("F", 1), ids("L", 1)]).toEqual([["L_1"], ["F_2"], ["L_3"]]);
  });

  it("its counter is restored when a call fails", () => {
    const env = make();
    expectFail(call(env, "ids_then_fail", { prefix: "X" }), "precondition", "Made X_1");
    expectFail(call(env, "ids_then_fail", { prefix: "X" }), "precondition", "Made X_1");
    // a failed place_order after new_id (broken invariant) gives its id back too
    expectFail(call(env, "give_credit", { customer_id: "C1", amount: 5000 }), "env_fault", /credit_cap/);
    expect(call(env, "make_ids", { prefix: "X", n: 2 })).toEqual({ ok: true, value: ["X_1", "X_2"] });
    expectFail(call(env, "ids_then_fail", { prefix: "X" }), "precondition", "Made X_3");
  });

  it("a seed changes the start, the same seed gives the same ids, forks continue the count", () => {
    const a = make(state(), { seed: 42 });
    const b = make(state(), { seed: 42 });
    const c = make(state(), { seed: 7 });
    const ids = (e: Environment) => {
      const r = call(e, "make_ids", { prefix: "Q", n: 3 });
      return r.ok ? r.value : r;
    };
    const first = ids(a);
    expect(first).toEqual(ids(b));
    expect(first).not.toEqual(ids(c));
    expect(first).not.toEqual(["Q_1", "Q_2", "Q_3"]);
    const f = a.fork();
    expect(ids(f)).toEqual(ids(a));
    expect(ids(a.fork({ seed: 42 }))).toEqual(first);
  });
});

describe("fork and snapshot", () => {
  it("share records instead of copying them", () => {
    const env = make();
    const f = env.fork();
    expect(f.table("items")!.get("I1")).toBe(env.table("items")!.get("I1"));
    expect(text(f)).toBe(text(env));
    expect(f.checks).toBe(true);
  });

  it("are independent in both directions", () => {
    const env = make();
    const f = env.fork();
    const snap = env.snapshot();
    const s0 = text(env);
    expect(call(f, "place_order", { customer_id: "C1", item_id: "I1" }).ok).toBe(true);
    expect(call(f, "move_to_end", { item_id: "I1" }).ok).toBe(true);
    expect(text(env)).toBe(s0);
    expect(call(env, "advance", { days: 3 }).ok).toBe(true);
    expect(call(env, "remove_item", { item_id: "2" }).ok).toBe(true);
    expect(f.globals.today).toBe("2024-01-01");
    expect(f.table("items")!.keys()).toEqual(["10", "2", "I1"]);
    expect(env.table("items")!.keys()).toEqual(["I1", "10"]);
    expect(text(snap)).toBe(s0);
  });

  it("is cheap: forking a big state does not copy it", () => {
    const s = state();
    for (let i = 0; i < 20000; i++) s.items[`B${i}`] = { item_id: `B${i}`, name: "bulk", price: 1, stock: 1 };
    const big = make(s);
    // no copy: a fork hands out the very same (frozen) record objects as its parent
    const f = big.fork();
    for (const k of ["B0", "B777", "B19999"]) expect(f.table("items")!.get(k)).toBe(big.table("items")!.get(k));
    expect(f.table("items")!.size).toBe(big.table("items")!.size);
    // forks that write stay independent and flattening (many generations) keeps contents
    let cur = big;
    for (let g = 0; g < 20; g++) {
      cur = cur.fork();
      expect(call(cur, "restock", { item_id: `B${g}`, qty: g }).ok).toBe(true);
    }
    expect(cur.table("items")!.size).toBe(20003);
    expect(cur.table("items")!.get("B19").stock).toBe(20);
    expect(big.table("items")!.get("B19").stock).toBe(1);
    expect(cur.table("items")!.keys().slice(0, 4)).toEqual(["I1", "10", "2", "B0"]);
  });
});

describe("diff", () => {
  it("reports exactly the changed records and globals", () => {
    const env = make();
    const before = env.snapshot();
    expect(before.diff(env)).toEqual({ tables: {}, globals: {} });
    const i1 = env.table("items")!.get("I1");
    call(env, "place_order", { customer_id: "C2", item_id: "I1" });
    call(env, "advance", { days: 2 });
    call(env, "remove_item", { item_id: "2" });
    call(env, "restock", { item_id: "10", qty: 1 });
    call(env, "restock", { item_id: "10", qty: -1 }); // changed back: not a difference
    const order = env.table("orders")!.get("O_2");
    expect(before.diff(env)).toEqual({
      tables: {
        items: {
          I1: { before: i1, after: { ...i1, stock: 2 } },
          "2": { before: { item_id: "2", name: "Pad", price: 4, stock: 0 }, after: null },
        },
        orders: { O_2: { before: null, after: order } },
      },
      globals: { today: { before: "2024-01-01", after: "2024-01-03" } },
    });
    // the other way round
    const back = env.diff(before);
    expect(back.tables.orders).toEqual({ O_2: { before: order, after: null } });
    expect(back.globals.today).toEqual({ before: "2024-01-03", after: "2024-01-01" });
  });

  it("works between environments that share nothing", () => {
    const a = make();
    const s = state();
    s.customers.C2.credit = 5;
    s.items.I7 = { item_id: "I7", name: "new", price: 1, stock: 1 };
    const b = make(s);
    expect(a.diff(b)).toEqual({
      tables: {
        customers: { C2: { before: { customer_id: "C2", name: "Bob", credit: 100 }, after: { customer_id: "C2", name: "Bob", credit: 5 } } },
        items: { I7: { before: null, after: s.items.I7 } },
      },
      globals: {},
    });
    expect(diffIsEmpty(make().diff(make()))).toBe(true);
  });

  it("sees changes on both sides of a fork", () => {
    const base = make();
    const a = base.fork();
    const b = base.fork();
    call(a, "advance", { days: 1 });
    call(b, "restock", { item_id: "2", qty: 1 });
    const d = a.diff(b);
    expect(Object.keys(d.tables)).toEqual(["items"]);
    expect(Object.keys(d.tables.items!)).toEqual(["2"]);
    expect(d.globals).toEqual({ today: { before: "2024-01-02", after: "2024-01-01" } });
  });
});

describe("renderers", () => {
  const env = make();
  const ok = env.call("get_item", { item_id: "I1" });
  const date = env.call("advance", { days: 0 });
  const nul = env.call("delete_order", { order_id: "O_1" });
  const pre = env.call("get_item", { item_id: "nope" });
  const fault = env.call("ratio", { a: 1, b: 0 });

  it("json: the result object", () => {
    expect(renderResult(ok, "json")).toBe('{"ok":true,"value":{"item_id":"I1","name":"Pen","price":2,"stock":3}}');
    expect(renderResult(nul, "json")).toBe('{"ok":true,"value":null}');
    expect(renderResult(pre, "json")).toBe('{"ok":false,"kind":"precondition","error":"Item not found"}');
    expect(JSON.parse(renderResult(fault, "json"))).toEqual({ ok: false, kind: "env_fault", error: "Division by zero", location: loc("return a / b", "a / b") });
  });

  it("envscaler: {success, data} or {success, error}", () => {
    expect(renderResult(ok, "envscaler")).toBe('{"success":true,"data":{"item_id":"I1","name":"Pen","price":2,"stock":3}}');
    expect(renderResult(nul, "envscaler")).toBe('{"success":true,"data":null}');
    expect(renderResult(pre, "envscaler")).toBe('{"success":false,"error":"Item not found"}');
    expect(renderResult(fault, "envscaler")).toBe('{"success":false,"error":"Division by zero"}');
  });

  it("taubench: JSON text, a bare string, or 'Error: ...'", () => {
    expect(renderResult(ok, "taubench")).toBe('{"item_id":"I1","name":"Pen","price":2,"stock":3}');
    expect(renderResult(date, "taubench")).toBe("2024-01-01");
    expect(renderResult(nul, "taubench")).toBe("null");
    expect(renderResult(pre, "taubench")).toBe("Error: Item not found");
    expect(renderResult(fault, "taubench")).toBe("Error: Division by zero");
    expect(renderResult({ ok: true, value: 1.5 }, "taubench")).toBe("1.5");
  });
});

describe("queries", () => {
  it("never change state, whatever they are given", () => {
    const env = make();
    call(env, "place_order", { customer_id: "C1", item_id: "I1" });
    const before = text(env);
    const snap = env.snapshot();
    const args = [
      {}, { item_id: "I1" }, { item_id: "10" }, { item_id: "nope" }, { customer_id: "C1" }, { customer_id: "C9" },
      { a: 3, b: 2 }, { a: 1, b: 0 }, { a: "x" }, null, 7,
    ];
    for (const q of QUERIES) for (const a of args) env.call(q, a);
    expect(text(env)).toBe(before);
    expect(diffIsEmpty(snap.diff(env))).toBe(true);
    // nor the id counter: the next id is the one the untouched snapshot would draw
    expect(env.call("make_ids", { prefix: "O", n: 1 })).toEqual(snap.call("make_ids", { prefix: "O", n: 1 }));
  });

  it("return values that the caller cannot use to change the state", () => {
    const env = make();
    const r = env.call("get_item", { item_id: "I1" });
    expect(() => {
      (r as any).value.stock = 99;
    }).toThrow(TypeError);
    expect(env.table("items")!.get("I1").stock).toBe(3);
    // nor through what an action returns
    const o = env.call("place_order", { customer_id: "C1", item_id: "I1" });
    expect(() => {
      (o as any).value.qty = 99;
    }).toThrow(TypeError);
    expect(env.table("orders")!.get("O_2").qty).toBe(1);
  });
});

describe("the definition", () => {
  it("has tool schemas for every tool", () => {
    expect(DEF.tools.map((t) => t.name)).toEqual(Object.keys(PARAMS));
    expect(DEF.toolSchemas).toHaveLength(Object.keys(PARAMS).length);
  });
});
