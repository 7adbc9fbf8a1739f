// Entities with an external key (records stored under an id they do not hold, as in
// tau-bench's users) through check, load, writes, rollback, fork and diff; and `arith`, the
// calculator evaluator, against Python's semantics.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { envFrom, codesOf } from "../helpers.js";
import { arith } from "../../runtime/index.js";

const SPEC = `env Desk "Users stored under their ids"

entity User key user_id external "A customer" {
  name: string
  credit: number = 0.0
}

state { users: table User }

query find_by_name(name: string) -> string "The id of the first user with this name." {
  for user_id, u in users { if u.name == name { return user_id } }
  fail "user not found"
}

action add_credit(name: string, amount: number) -> User "Credit the first user with this name." {
  let u = users.find(x => x.name == name) else "user not found"
  u.credit += amount
  require u.credit <= 100.0 else "too much credit"
  return u
}

action remove(user_id: string) -> int "Delete a user." {
  require user_id in users else "user not found"
  delete users[user_id]
  return len(users)
}
`;
const STATE = { users: { u_ann: { name: "Ann" }, u_bob: { name: "Bob", credit: 5 } } };

describe("external keys", () => {
  it("the key must not also be a field", () => {
    expect(codesOf(SPEC.replace("name: string\n  credit", "user_id: string\n  name: string\n  credit"))).toContain("ENV2012");
  });

  it("loads records by their JSON keys, without a key field, and finds keys by iteration", () => {
    const env = envFrom(SPEC, STATE);
    expect(env.call("find_by_name", { name: "Bob" })).toEqual({ ok: true, value: "u_bob" });
    expect(env.toJSON()).toEqual({ users: { u_ann: { name: "Ann", credit: 0 }, u_bob: { name: "Bob", credit: 5 } } });
  });

  it("writes through a record found by a lambda, rolls back a failed call, and forks", () => {
    const env = envFrom(SPEC, STATE);
    const before = env.snapshot();
    expect(env.call("add_credit", { name: "Ann", amount: 30 })).toEqual({ ok: true, value: { name: "Ann", credit: 30 } });
    const session = env.fork();
    expect(session.call("add_credit", { name: "Ann", amount: 80 })).toMatchObject({ ok: false, kind: "precondition" });
    expect(session.call("add_credit", { name: "Ann", amount: 20 })).toMatchObject({ ok: true });
    expect(env.toJSON().users).toMatchObject({ u_ann: { credit: 30 } });
    expect(session.toJSON().users).toMatchObject({ u_ann: { credit: 50 } });
    expect(before.diff(env).tables.users).toEqual({ u_ann: { before: { name: "Ann", credit: 0 }, after: { name: "Ann", credit: 30 } } });
    expect(session.call("remove", { user_id: "u_ann" })).toEqual({ ok: true, value: 1 });
    expect(Object.keys(session.toJSON().users as object)).toEqual(["u_bob"]);
    expect(Object.keys(env.toJSON().users as object)).toEqual(["u_ann", "u_bob"]);
  });
});

describe("arith", () => {
  it.each([
    ["3131.1 + 4777.75 + 367.38", 3131.1 + 4777.75 + 367.38],
    ["2 + 3 * 4", 14],
    ["(2 + 3) * 4", 20],
    ["-2 ** 2", -4],
    ["2 ** -1", 0.5],
    ["2 ** 3 ** 2", 512],
    ["7 // 2", 3],
    ["-7 // 2", -4],
    ["7 / 2", 3.5],
    [".5 + 5.", 5.5],
    [" 1 -  - 1 ", 2],
  ])("%s = %d, as in Python", (text, value) => {
    expect(arith(text)).toBe(value);
  });

  it.each(["", "1 +", "(1", "1)", "1 2", "1 / 0", "1 // 0", "007", "2 ** 0.5 ** -1 + (-8) ** 0.5", "abs(1)", "1e5", "()"])(
    "%j is not a number (null)",
    (text) => expect(arith(text)).toBeNull(),
  );

  it("agrees with JavaScript on + - * / over decimals and parentheses (where Python and JS agree)", () => {
    const leaf = fc.oneof(fc.integer({ min: 0, max: 9999 }).map(String), fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 99 })).map(([a, b]) => `${a}.${b}`));
    const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
      e: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/"), tie("e")).map(([a, op, b]) => `(${a} ${op} ${b})`)),
    })).e as fc.Arbitrary<string>;
    fc.assert(
      fc.property(expr, (text) => {
        const js = new Function(`return ${text}`)() as number;
        const got = arith(text);
        if (!Number.isFinite(js)) expect(got).toBeNull();
        else expect(got).toBe(js);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
