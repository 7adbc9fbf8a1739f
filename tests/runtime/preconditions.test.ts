// Failed preconditions: a tool body stopped by `require`, `fail` or `let ... else` returns a
// marker instead of throwing, so these pin what must not change with that: the message and
// location reported, the rollback of writes made before the failure (also inside loops), and a
// callee's failure failing the tool that called it from an expression. Also the checker's
// `fails` flag, which decides where the emitter checks a callee's result.
import { describe, expect, it } from "vitest";
import { JsEmitter } from "../../compiler/emit-js.js";
import { envFrom, mustCheck } from "../helpers.js";

const SPEC = `env Stops "Preconditions in bodies, loops and callees"

entity Item key item_id "An item with a count" {
  item_id: string
  n: int
}

state { items: table Item }

fn checked(n: int) -> int "n, which must not be negative" {
  require n >= 0 else "negative: \${n}"
  return n
}

fn doubled(n: int) -> int "Twice n, through checked" {
  return checked(n) * 2
}

fn plain(n: int) -> int "n plus one; never fails" {
  return n + 1
}

action bump_all(by: int) -> int "Add by to every item's count; stops at the first over 10" {
  let total = 0
  for k, it in items {
    items[k].n = it.n + by
    require items[k].n <= 10 else "\${k} would hold \${items[k].n}"
    total += items[k].n
  }
  return total
}

action set_doubled(item_id: string, n: int) -> int "Set an item's count to doubled(n)" {
  let it = items.get(item_id) else "no item \${item_id}"
  items[item_id].n = 1
  items[item_id].n = doubled(n)
  return items[item_id].n
}

action steps(item_id: string, n: int) -> int "A callee's failure as a statement, a let and a return" {
  items[item_id].n = 100
  checked(n - 1)
  let d = doubled(n - 2)
  items[item_id].n = d
  return checked(n - 3)
}

query peek(item_id: string, n: int) -> int "plain(n) when the item exists, else a failure" {
  if plain(n) > 0 {
    let it = items.get(item_id) else "no item \${item_id}"
    return it.n + plain(n)
  }
  fail "n is not positive"
}
`;

const START = { items: { a: { item_id: "a", n: 1 }, b: { item_id: "b", n: 8 } } };

describe("failed preconditions", () => {
  it("roll back the writes made before them, also inside a loop", () => {
    const env = envFrom(SPEC, START);
    const before = env.toJSON();
    expect(env.call("bump_all", { by: 3 })).toEqual({ ok: false, kind: "precondition", error: "b would hold 11" });
    expect(env.lastPreconditionAt).toBe("test.env:27:5");
    expect(env.toJSON()).toEqual(before);
    expect(env.call("bump_all", { by: 2 })).toEqual({ ok: true, value: 13 });
  });

  it("in a callee fail the calling tool with the callee's message and location", () => {
    const env = envFrom(SPEC, START);
    expect(env.call("set_doubled", { item_id: "a", n: -4 })).toEqual({ ok: false, kind: "precondition", error: "negative: -4" });
    expect(env.lastPreconditionAt).toBe("test.env:11:3");
    expect(env.toJSON()).toEqual(START);
    expect(env.call("set_doubled", { item_id: "a", n: 4 })).toEqual({ ok: true, value: 8 });
  });

  it("in a callee called as a statement, a let's value or a return value fail the caller", () => {
    const env = envFrom(SPEC, START);
    for (const [n, message] of [[0, "negative: -1"], [1, "negative: -1"], [2, "negative: -1"]] as const) {
      expect(env.call("steps", { item_id: "a", n })).toEqual({ ok: false, kind: "precondition", error: message });
      expect(env.lastPreconditionAt).toBe("test.env:11:3");
      expect(env.toJSON()).toEqual(START);
    }
    expect(env.call("steps", { item_id: "a", n: 3 })).toEqual({ ok: true, value: 0 });
    expect((env.toJSON() as typeof START).items.a.n).toBe(2);
    // these pass the callee's result on, without a throw
    const checked = mustCheck(SPEC);
    const body = new JsEmitter(checked).toolBody(checked.tools.find((t) => t.name === "steps")!);
    expect(body).toMatch(/if \(\$s\.call\(tool_checked, \{ n: \(n - 1\) \}, "test\.env:\d+:\d+"\) === rt\.FAILED\) return rt\.FAILED;/);
    expect(body).toContain("if (d === rt.FAILED) return rt.FAILED;");
    expect(body).toMatch(/return \$s\.call\(tool_checked, \{ n: \(n - 3\) \}, "test\.env:\d+:\d+"\);/);
  });

  it("from let ... else and fail nested in a query's if", () => {
    const env = envFrom(SPEC, START);
    expect(env.call("peek", { item_id: "zz", n: 1 })).toEqual({ ok: false, kind: "precondition", error: "no item zz" });
    expect(env.lastPreconditionAt).toBe("test.env:50:5");
    expect(env.call("peek", { item_id: "a", n: -5 })).toEqual({ ok: false, kind: "precondition", error: "n is not positive" });
    expect(env.lastPreconditionAt).toBe("test.env:53:3");
    expect(env.call("peek", { item_id: "b", n: 1 })).toEqual({ ok: true, value: 10 });
  });

  it("the checker marks which tools can fail, directly or through what they call", () => {
    const env = mustCheck(SPEC);
    const fails = Object.fromEntries(env.tools.map((t) => [t.name, t.fails]));
    expect(fails).toEqual({ checked: true, doubled: true, plain: false, bump_all: true, set_doubled: true, steps: true, peek: true });
  });
});
