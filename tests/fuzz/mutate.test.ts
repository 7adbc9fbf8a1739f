// envc mutate: mutants of each operator, killed by fuzzing or by a scenario (never by comparing
// with the original's outputs; recorded examples are tested in examples.test.ts), survivors listed with their location, stillborn and equivalent
// mutants not scored, the same seed giving the same report, and the CLI's score line.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkFile } from "../../compiler/project.js";
import { attachScenarioFiles } from "../../compiler/pipeline.js";
import { seedStates } from "../../compiler/fuzz/seeds.js";
import {
  OPERATORS, BaselineError, applyMutant, generateMutants, mutateSpec, type MutateOptions, type MutationSubject,
} from "../../compiler/fuzz/mutate.js";
import { runEnvc } from "../helpers.js";

const SPEC = `env Shop "A small shop"

entity Item key item_id "A product on the shelf" {
  item_id: string
  qty: int
  price: int
}

state {
  items: table Item
  sold: int = 0
  log: list<string> = []
}

invariant qty_not_negative "Stock is never negative": all i in items: i.qty >= 0

// never called: mutants here cannot be told apart by any call
fn unused(n: int) -> int {
  return n + 7
}

fn minus(a: int, b: int) -> int {
  return a - b
}

query get_item(item_id: string) -> Item "Read one item." {
  require item_id in items else "No such item"
  return items[item_id]
}

action sell(item_id: string, n: int = 1) -> Item "Sell n units." {
  let it = items[item_id] else "No such item"
  require n > 0 else "Sell at least one"
  require it.qty >= n else "Not enough stock"
  it.qty = minus(it.qty, n)
  sold += n
  ensure it.qty >= 0
  return it
}

action restock(item_id: string, n: int) -> Item "Add stock; ten or more units earn a discount of one on the price." {
  let it = items[item_id] else "No such item"
  require n > 0 else "Restock at least one"
  if n >= 10 {
    it.price = it.price - 1
  }
  it.qty += n
  log.append(item_id)
  return it
}

action add_item(item_id: string, price: int) -> Item "Add a product." {
  require not (item_id in items) else "Item exists"
  let it = insert items { item_id, qty: 0, price }
  return it
}

action remove_item(item_id: string) "Remove a product." {
  require item_id in items else "No such item"
  delete items[item_id]
}
`;

const SCENARIOS = `scenarios for Shop

scenario bulk_restock "A bulk restock lowers the price" {
  init { items: { A: { item_id: "A", qty: 1, price: 5 } } }
  task "Restock ten units of A."
  check "Is the price of A 4?": items["A"].price == 4
  solution {
    restock(item_id: "A", n: 10)
  }
}
`;

const STATE = { items: { A: { item_id: "A", qty: 2, price: 3 } } };
const OPTIONS: MutateOptions = { seed: 7, runs: 60, maxCalls: 12 };

let dir: string;
let specFile: string;

async function subject(file = specFile): Promise<MutationSubject> {
  const spec = await checkFile(file);
  const scenarios = await checkFile(path.join(path.dirname(file), "scenarios.env"));
  attachScenarioFiles([spec, scenarios]);
  return { file: spec.file, source: spec.source, env: spec.env!, scenarioFiles: [scenarios], seedStates: seedStates(spec.file, spec.env!).states };
}

/** The line of the spec holding `text` (1-based). */
const lineOf = (text: string) => SPEC.split("\n").findIndex((l) => l.includes(text)) + 1;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-mutate-"));
  specFile = path.join(dir, "shop.env");
  writeFileSync(specFile, SPEC);
  writeFileSync(path.join(dir, "scenarios.env"), SCENARIOS);
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(STATE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("envc mutate", () => {
  it("makes mutants of every operator, in source order, only in tools and helpers", async () => {
    const s = await subject();
    const mutants = generateMutants(s.source, s.file, s.env);
    for (const op of OPERATORS) expect(mutants.some((m) => m.operator === op), op).toBe(true);
    const starts = mutants.map((m) => m.edits[0]!.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    // invariants and scenarios are the oracle: never mutated
    const invariantLine = lineOf("invariant qty_not_negative");
    expect(mutants.some((m) => m.line === invariantLine)).toBe(false);
    // every mutant changes the text, and a swap exchanges two arguments of the same type
    for (const m of mutants) expect(applyMutant(s.source, m)).not.toBe(s.source);
    const swap = mutants.find((m) => m.operator === "swap-args")!;
    expect(applyMutant(s.source, swap)).toContain("minus(n, it.qty)");
    expect(mutants.map((m) => m.index)).toEqual(mutants.map((_, i) => i));
  });

  it("kills a dropped require that guards a lookup by fuzzing, a flipped comparison by its scenario, and lists dead-code survivors", async () => {
    const report = mutateSpec(await subject(), OPTIONS);
    const at = (line: number, op: string) => report.results.filter((r) => r.operator === op && r.location.startsWith(`${specFile}:${line}:`));

    const [guard] = at(lineOf("require item_id in items else \"No such item\""), "drop-require");
    expect(guard?.status).toBe("killed");
    expect(guard?.killedBy).toMatchObject({ by: "fuzz", property: "env_fault" });

    const [flip] = at(lineOf("if n >= 10"), "flip-comparison");
    expect(flip?.description).toContain("`>=` -> `>`");
    expect(flip?.status).toBe("killed");
    expect(flip?.killedBy).toMatchObject({ by: "scenario", scenario: "bulk_restock" });

    const dead = at(lineOf("return n + 7"), "change-constant");
    expect(dead.length).toBe(2);
    for (const d of dead) {
      expect(d.status).toBe("survived");
      expect(d.location).toMatch(new RegExp(`shop\\.env:${lineOf("return n + 7")}:14$`));
    }

    // a dropped ensure can only remove faults the original does not have
    const [ensure] = report.results.filter((r) => r.operator === "drop-ensure");
    expect(ensure?.status).toBe("equivalent");
    expect(ensure?.reason).toMatch(/ensure/);

    const killed = report.results.filter((r) => r.status === "killed").length;
    const survived = report.results.filter((r) => r.status === "survived").length;
    expect(report.killed).toBe(killed);
    expect(report.scored).toBe(killed + survived);
    expect(report.score).toBeCloseTo(killed / (killed + survived));
    const sum = Object.values(report.byOperator).reduce((n, c) => n + c.mutants, 0);
    expect(sum).toBe(report.results.length);
  });

  it("does not score a mutant that does not compile", async () => {
    const s = await subject();
    // dropping the require that narrows `v` to an Item leaves `v.qty` reading an optional
    const source = `${s.source}
query qty_of(item_id: string) -> int "Stock of an item." {
  let v = items.get(item_id)
  require v != null else "No such item"
  return v.qty
}
`;
    const line = source.split("\n").findIndex((l) => l.includes("require v != null")) + 1;
    const report = mutateSpec({ ...s, source }, { ...OPTIONS, operators: ["drop-require"] });
    const [dropped] = report.results.filter((r) => r.location === `${specFile}:${line}:3`);
    expect(dropped?.status).toBe("stillborn");
    expect(dropped?.reason).toMatch(/^ENV\d{4} at /);
    expect(report.scored).toBe(report.results.filter((r) => r.status === "killed" || r.status === "survived").length);
    expect(report.byOperator["drop-require"]!.stillborn).toBe(1);
  });

  it("is deterministic: the same seed samples and judges the same mutants", async () => {
    const s = await subject();
    const opts = { ...OPTIONS, maxMutants: 12, seed: 3 };
    const a = mutateSpec(s, opts);
    const b = mutateSpec(s, opts);
    const strip = (r: typeof a) => ({ ...r, ms: 0, results: r.results.map((x) => ({ ...x, ms: 0 })) });
    expect(strip(a)).toEqual(strip(b));
    expect(a.results.length).toBe(12);
    expect(a.generated).toBeGreaterThan(12);
    const c = mutateSpec(s, { ...opts, seed: 4 });
    expect(c.results.map((r) => r.index)).not.toEqual(a.results.map((r) => r.index));
  });

  it("refuses a spec whose own scenarios fail", async () => {
    const s = await subject();
    const source = s.source.replace("it.price = it.price - 1", "it.price = it.price - 2");
    expect(() => mutateSpec({ ...s, source }, { ...OPTIONS, maxMutants: 1 })).toThrow(BaselineError);
  });

  it("prints the score line, survivors with their locations, and exits 0", async () => {
    const { code, out, err } = await runEnvc(["mutate", specFile, "--runs", "40", "--operators", "change-constant,drop-require"]);
    expect(code).toBe(0);
    expect(out).toMatch(/mutation score: \d+\/\d+ \(\d+\.\d%\) for .*shop\.env/);
    expect(out).toContain(`shop.env:${lineOf("return n + 7")}:14 change-constant: \`7\` -> \`8\` in fn unused`);
    expect(out).not.toMatch(/negate-comparison/);
    expect(err).toMatch(/mutate: 10\/\d+ mutants/);
    const json = await runEnvc(["mutate", specFile, "--runs", "20", "--max-mutants", "4", "--format", "json"]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out);
    expect(doc.results).toHaveLength(4);
    expect(doc.env).toBe("Shop");
  });

  it("exits 2 on bad usage", async () => {
    expect((await runEnvc(["mutate", specFile, "--operators", "drop-everything"])).code).toBe(2);
    expect((await runEnvc(["mutate", path.join(dir, "missing.env")])).code).toBe(2);
    expect((await runEnvc(["mutate", specFile, "--max-mutants", "0"])).code).toBe(2);
  });
});
