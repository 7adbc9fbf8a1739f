// `for key, record in table` iterates the keys the table had when the loop began, each with
// its record as it is when reached: the emitter relies on a table's cached key array being a
// snapshot (replaced on insert and delete, never changed in place) instead of copying it. In a
// tool that never writes, it walks the cached key and record arrays side by side instead of
// looking each key up; a helper like that called by an action must still see the action's
// writes made before the call.
import { describe, expect, it } from "vitest";
import { envFrom } from "../helpers.js";

const SPEC = `env Loops "Loops over a table that change it"

entity Item key item_id "A numbered item" {
  item_id: string
  n: int
}

state { items: table Item }

action churn() -> list<string> "Visit every item; on the first, delete b and change c; copy each." {
  let out: list<string> = []
  for k, it in items {
    out.append("\${k}=\${it.n}")
    if k == "a" and "b" in items {
      delete items["b"]
      items["c"].n = 30
    }
    insert items { item_id: k + "2", n: 0 }
  }
  return out
}

fn summed() -> string "Keys and counts, as one line." {
  let out = ""
  for k, it in items { out = out + "\${k}=\${it.n};" }
  return out
}

action change_then_sum(k: string, n: int) -> string "Set a count, add an item, then sum through a helper." {
  items[k].n = n
  insert items { item_id: "new", n: 7 }
  delete items["a"]
  return summed()
}

query listed() -> list<string> "Every key, in order." {
  let out: list<string> = []
  for k, it in items { out.append("\${k}=\${it.n}") }
  return out
}
`;

describe("for key, record in table", () => {
  it("visits the keys present at the start, skips those deleted on the way, sees records changed on the way", () => {
    const env = envFrom(SPEC, { items: { a: { item_id: "a", n: 1 }, b: { item_id: "b", n: 2 }, c: { item_id: "c", n: 3 } } });
    expect(env.call("churn", {})).toEqual({ ok: true, value: ["a=1", "c=30"] });
    // a loop over the changed table sees the new key array (the old one was replaced, not changed)
    expect(env.call("listed", {})).toEqual({ ok: true, value: ["a=1", "c=30", "a2=0", "c2=0"] });
  });

  it("a helper that only reads sees the writes its calling action made before the call", () => {
    const env = envFrom(SPEC, { items: { a: { item_id: "a", n: 1 }, b: { item_id: "b", n: 2 }, c: { item_id: "c", n: 3 } } });
    expect(env.call("summed", {}).ok).toBe(false); // a fn is not a tool
    expect(env.call("change_then_sum", { k: "c", n: 30 })).toEqual({ ok: true, value: "b=2;c=30;new=7;" });
    expect(env.call("listed", {})).toEqual({ ok: true, value: ["b=2", "c=30", "new=7"] });
  });

  it("a fork sees its own keys, and the parent's loop is unaffected by the fork's inserts", () => {
    const env = envFrom(SPEC, { items: { a: { item_id: "a", n: 1 } } });
    expect(env.call("listed", {})).toEqual({ ok: true, value: ["a=1"] });
    const fork = env.fork();
    expect(fork.call("churn", {})).toEqual({ ok: true, value: ["a=1"] });
    expect(fork.call("listed", {})).toEqual({ ok: true, value: ["a=1", "a2=0"] });
    expect(env.call("listed", {})).toEqual({ ok: true, value: ["a=1"] });
  });
});
