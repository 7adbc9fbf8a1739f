// Narrowing of optional values by statements: `ensure x != null` lets what follows use `x` as
// its non-optional type, as `require` does, and the assertion still holds at run time (a null
// there is an environment fault naming the ensure, not a refusal the agent sees).
import { describe, expect, it } from "vitest";
import { codesOf, envFrom } from "../helpers.js";

const SPEC = (guard: string) => `env Orders "Orders"

entity Item key item_id "An item" {
  item_id: string
  price: number
}

state {
  items: table Item
  wanted: list<string> = []
}

action price_of(item_id: string) -> number "The price of an item the list names."
{
  let item = items.values().find(i => i.item_id == item_id)
  ${guard}
  return item.price
}
`;

describe("narrowing by ensure", () => {
  it("an optional local is usable after `ensure x != null`, and is not without it", () => {
    expect(codesOf(SPEC(`ensure item != null else "no item \${item_id}"`))).toEqual([]);
    expect(codesOf(SPEC(""))).toContain("ENV3002");
  });

  it("the ensure is checked when the call runs: a missing record is an environment fault at the ensure", () => {
    const env = envFrom(SPEC(`ensure item != null else "no item \${item_id}"`), { items: { I1: { item_id: "I1", price: 2.5 } } });
    expect(env.call("price_of", { item_id: "I1" })).toEqual({ ok: true, value: 2.5 });
    const missing = env.call("price_of", { item_id: "I9" });
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.kind).toBe("env_fault");
      expect(missing.error).toContain("no item I9");
      expect((missing as { location?: string }).location).toMatch(/^test.env:16:3$/);
    }
  });

  it("an ensure made of null tests is checked even with checks off (what follows relies on it); other ensures are skipped then", () => {
    const off = envFrom(SPEC(`ensure item != null else "no item \${item_id}"`), { items: { I1: { item_id: "I1", price: 2.5 } } }, { checks: false });
    const missing = off.call("price_of", { item_id: "I9" });
    expect(missing).toMatchObject({ ok: false, kind: "env_fault", error: "no item I9", location: "test.env:16:3" });
    const postcondition = envFrom(SPEC(`ensure item != null and item.price > 100.0 else "too cheap"\n  require item != null else "no item"`), { items: { I1: { item_id: "I1", price: 2.5 } } }, { checks: false });
    expect(postcondition.call("price_of", { item_id: "I1" })).toEqual({ ok: true, value: 2.5 });
  });
});
