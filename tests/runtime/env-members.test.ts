// ENVIRONMENT_MEMBERS (runtime/env.ts) must name every member an Environment has, so that the
// emitter never gives a tool's method a name the class already answers to.
import { describe, expect, it } from "vitest";
import { Environment, ENVIRONMENT_MEMBERS } from "../../runtime/index.js";
import { loadDefinition } from "../../compiler/load.js";
import { checkSource } from "../../compiler/pipeline.js";

describe("ENVIRONMENT_MEMBERS", () => {
  it("lists every instance, prototype and static member of Environment and what objects inherit", () => {
    const { env } = checkSource(`env Tiny "t"\nstate { n: int = 0 }\nquery get_n() -> int "n" { return n }\n`, "tiny.env");
    const e = Environment.createFrom(loadDefinition(env!), {});
    e.call("get_n", {}); // sets the members a call sets
    const names = new Set([
      ...Object.getOwnPropertyNames(e),
      ...Object.getOwnPropertyNames(Environment.prototype),
      ...Object.getOwnPropertyNames(Environment).filter((n) => !["length", "name", "prototype"].includes(n)),
      ...Object.getOwnPropertyNames(Object.prototype),
    ]);
    const missing = [...names].filter((n) => !ENVIRONMENT_MEMBERS.includes(n));
    expect(missing).toEqual([]);
  });
});
