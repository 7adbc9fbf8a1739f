// envc mutate on a spec whose original already fails fuzzing (here: a returned order can be put
// back to packed without a depot, breaking an invariant). The original's finding becomes the
// baseline instead of a refusal: the report lists it; a mutant that changes what the bug does (or
// removes it) is killed because the finding's calls replay differently; a mutant that breaks an
// invariant elsewhere is killed by fuzzing; a mutant whose fuzzing shows only the known finding
// survives. The same with the fast path and in full, deterministic, and through the CLI (exit 0).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gatherEvidence } from "../../compiler/fuzz/evidence.js";
import { mutateSpec, type MutateOptions } from "../../compiler/fuzz/mutate.js";
import { findingKey, fuzzEnv } from "../../compiler/fuzz/engine.js";
import { loadDefinition } from "../../compiler/load.js";
import { runEnvc } from "../helpers.js";

const SPEC = `env Depot "Orders packed at depots"

entity Order key order_id "An order" {
  order_id: string
  status: "new" | "packed" | "returned" = "new"
  depot: string?
  weight: int
}

state {
  orders: table Order
}

invariant packed_have_depot "Packed orders have a depot":
  all o in orders where o.status == "packed": o.depot != null

action pack(order_id: string, depot: string) -> Order "Pack a new order at a depot." {
  let o = orders[order_id] else "No order \${order_id}"
  require o.status == "new" else "Order \${order_id} is \${o.status}"
  require o.weight <= 10 else "Order \${order_id} is too heavy"
  o.status = "packed"
  o.depot = depot
  return o
}

action give_back(order_id: string) -> Order "Return a packed order: it leaves its depot." {
  let o = orders[order_id] else "No order \${order_id}"
  require o.status == "packed" else "Order \${order_id} is not packed"
  o.status = "returned"
  o.depot = null
  return o
}

// the bug: a returned order has no depot, and this packs it again without one
action retry(order_id: string) -> Order "Put a returned order back to packed." {
  let o = orders[order_id] else "No order \${order_id}"
  require o.status == "returned" else "Order \${order_id} is not returned"
  o.status = "packed"
  return o
}
`;

const STATE = { orders: { O1: { order_id: "O1", weight: 3 }, O2: { order_id: "O2", status: "returned", weight: 5 } } };
const OPTIONS: MutateOptions = { seed: 1, runs: 60, maxCalls: 8 };

let dir: string;
let specFile: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-mutate-baseline-"));
  specFile = path.join(dir, "depot.env");
  writeFileSync(specFile, SPEC);
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(STATE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("envc mutate when fuzzing the original already finds a bug", () => {
  it("fuzzing with a finding known goes on past it, counts it, and finds nothing else", async () => {
    const { subject } = await gatherEvidence(specFile);
    const def = loadDefinition(subject.env);
    const first = fuzzEnv(subject.env, def, subject.seedStates, { seed: 1, runs: 60 });
    expect(first.finding).toMatchObject({ property: "env_fault", tool: "retry" });
    const again = fuzzEnv(subject.env, def, subject.seedStates, { seed: 1, runs: 60, known: new Set([findingKey(first.finding!)]) });
    expect(again.finding).toBeUndefined();
    expect(again.runs).toBe(60);
    expect(again.known).toBeGreaterThan(0);
  });

  it("measures the mutants against the original's finding instead of refusing", async () => {
    const { subject } = await gatherEvidence(specFile);
    const report = mutateSpec(subject, OPTIONS);
    expect(report.known).toHaveLength(1);
    expect(report.known![0]).toMatchObject({ property: "env_fault", tool: "retry" });
    expect(report.known![0]!.message).toContain("packed_have_depot");
    const result = (text: string) => report.results.find((r) => r.description.includes(text))!;
    // retry no longer packs: the finding's calls now succeed without a fault
    expect(result("drop `o.status = \"packed\"` in action retry")).toMatchObject({
      status: "killed", killedBy: { by: "fuzz", evidence: "fuzz: the original's finding (env_fault in retry) replays differently" },
    });
    expect(result("`==` -> `!=` in `o.status == \"returned\"`")).toMatchObject({ status: "killed", killedBy: { by: "fuzz", tool: "retry" } });
    // pack without a depot: a finding the original does not have
    expect(result("drop `o.depot = depot`")).toMatchObject({ status: "killed", killedBy: { by: "fuzz", property: "env_fault", tool: "pack" } });
    // nothing but an example on the weight limit would tell these apart
    expect(result("`10` -> `11`").status).toBe("survived");
    expect(report.score).toBeGreaterThan(0);
    expect(report.score).toBeLessThan(1);
  });

  it("is deterministic, and the fast path gives the full path's report", async () => {
    const { subject } = await gatherEvidence(specFile);
    const cols = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/(\.env:\d+):\d+/g, "$1"));
    const strip = (r: ReturnType<typeof mutateSpec>) => cols({ ...r, ms: 0, perSecond: 0, results: r.results.map((x) => ({ ...x, ms: 0 })) });
    const a = mutateSpec(subject, OPTIONS);
    expect(strip(mutateSpec(subject, OPTIONS))).toEqual(strip(a));
    expect(strip(mutateSpec(subject, { ...OPTIONS, exhaustive: true }))).toEqual(strip(a));
  });

  it("says so in the CLI's report, and exits 0", async () => {
    const { code, out } = await runEnvc(["mutate", specFile, "--runs", "60", "--max-calls", "8"]);
    expect(code).toBe(0);
    expect(out).toMatch(/the original already fails fuzzing \(1 finding\); mutants were measured against it/);
    expect(out).toMatch(/environment fault in retry: Invariant packed_have_depot is broken .*; 1 call; run envc fuzz .*depot\.env/);
    expect(out).toMatch(/mutation score: \d+\/\d+/);
  });
});
