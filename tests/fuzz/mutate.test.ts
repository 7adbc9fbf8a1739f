// envc mutate: mutants of each operator, killed by fuzzing or by a scenario (never by comparing
// with the original's outputs; recorded examples are tested in examples.test.ts), survivors listed with their location, stillborn and equivalent
// mutants not scored, the same seed giving the same report, and the CLI's score line. Then the
// evidence used by default (examples.jsonl, `scenarios for` files, scen datasets beside the
// spec), each needed to kill a mutant of its own, end to end through the CLI; and the fast path
// (mutants checked as edits of the original's syntax tree, tool bodies lowered straight to
// JavaScript, states rebound instead of validated again, evidence that cannot see a mutant skipped) giving
// the same report as loading every mutant in full and running all the evidence.
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
import { gatherEvidence, mutateSpecFile } from "../../compiler/fuzz/evidence.js";

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
    const strip = (r: typeof a) => ({ ...r, ms: 0, perSecond: 0, results: r.results.map((x) => ({ ...x, ms: 0 })) });
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

// Each piece of evidence is the only one that can kill one mutant: the greeting text only an
// example reads, the close only a `scenarios for` scenario checks, the bump only a dataset
// scenario checks, and the unguarded lookup only fuzzing reaches.
const DESK = `env Desk "A help desk"

entity Ticket key ticket_id "A ticket" {
  ticket_id: string
  status: "open" | "closed"
  priority: int
}

state {
  tickets: table Ticket
}

invariant priority_range "Priority is 1 to 5": all t in tickets: t.priority >= 1 and t.priority <= 5

query greeting(ticket_id: string) -> string "A greeting for a ticket." {
  require ticket_id in tickets else "No such ticket"
  return "Hello"
}

query priority_of(ticket_id: string) -> int "The priority of a ticket." {
  require ticket_id in tickets else "No such ticket"
  return tickets[ticket_id].priority
}

action close(ticket_id: string) -> Ticket "Close a ticket." {
  let t = tickets[ticket_id] else "No such ticket"
  t.status = "closed"
  return t
}

action bump(ticket_id: string) -> Ticket "Raise a ticket's priority by one." {
  let t = tickets[ticket_id] else "No such ticket"
  require t.priority < 5 else "Already at the top priority"
  t.priority += 1
  return t
}
`;

const DESK_SCENARIOS = `scenarios for Desk

scenario close_t1 "Close T1" {
  init from "state.json"
  task "Close ticket T1."
  check "Is T1 closed?": tickets["T1"].status == "closed"
  solution {
    close(ticket_id: "T1")
  }
}
`;

const DESK_STATE = { tickets: { T1: { ticket_id: "T1", status: "open", priority: 2 }, T2: { ticket_id: "T2", status: "open", priority: 5 } } };
const line = (v: unknown) => JSON.stringify(v) + "\n";
const DESK_DATASET = line({
  env: "Desk", id: "bump_t1", initial: "state.json", task: "Raise the priority of T1.",
  checks: [{ text: "Is T1 at priority 3?", expr: 'tickets["T1"].priority == 3' }],
  solution: [{ name: "bump", arguments: { ticket_id: "T1" } }],
});

describe("envc mutate uses every piece of evidence by default", () => {
  let desk: string;
  let deskFile: string;
  beforeAll(() => {
    desk = mkdtempSync(path.join(tmpdir(), "envc-mutate-evidence-"));
    deskFile = path.join(desk, "desk.env");
    writeFileSync(deskFile, DESK);
    writeFileSync(path.join(desk, "scenarios.env"), DESK_SCENARIOS);
    writeFileSync(path.join(desk, "state.json"), JSON.stringify(DESK_STATE));
    writeFileSync(path.join(desk, "examples.jsonl"), line({ id: "greeting.ok.1", goal: "ok", initial: "state.json", calls: [{ name: "greeting", arguments: { ticket_id: "T1" } }] }));
    writeFileSync(path.join(desk, "examples.expect.jsonl"), line({ id: "greeting.ok.1", outputs: [JSON.stringify({ ok: true, value: "Hello" })], changed: { tables: {}, globals: {} } }));
    // what `envc scen` writes (a line of another environment too), and JSONL that is not a dataset
    writeFileSync(path.join(desk, "scen.jsonl"), DESK_DATASET + line({ env: "Other", id: "x", initial: {}, task: "t", checks: [], solution: [] }));
    writeFileSync(path.join(desk, "notes.jsonl"), line({ note: "not a dataset" }));
  });
  afterAll(() => rmSync(desk, { recursive: true, force: true }));

  type Result = { description: string; status: string; killedBy?: { by: string; evidence: string } };
  const find = (results: Result[], text: string) => results.find((r) => r.description.includes(text))!;

  it("kills with examples, a scenarios file, a scen dataset and fuzzing, with no flags, and says which", async () => {
    const { code, out, err } = await runEnvc(["mutate", deskFile, "--format", "json"]);
    expect(code, err).toBe(0);
    const doc = JSON.parse(out);
    const results = doc.results as Result[];
    expect(find(results, '`"Hello"` -> `""`').killedBy).toMatchObject({ by: "example", evidence: "example greeting.ok.1" });
    expect(find(results, 'drop `t.status = "closed"`').killedBy).toMatchObject({ by: "scenario", evidence: "scenario close_t1 check 1" });
    expect(find(results, "drop `t.priority += 1`").killedBy).toMatchObject({ by: "dataset", evidence: expect.stringMatching(/scen\.jsonl:1 \(bump_t1\) check 1$/) });
    expect(find(results, "drop `require ticket_id in tickets` in query priority_of").killedBy).toMatchObject({ by: "fuzz", evidence: "fuzz: env_fault in priority_of" });
    for (const kind of ["example", "scenario", "dataset", "fuzz"]) expect(doc.killedBy[kind], kind).toBeGreaterThan(0);
    expect(doc.evidence).toMatchObject({ examples: 1, scenarios: 1, datasets: [{ scenarios: 1 }] });
    expect(doc.evidence.scenarioFiles[0]).toMatch(/scenarios\.env$/);
    expect(err).toMatch(/notes\.jsonl: not a scenario dataset of Desk, not used/);

    const pretty = await runEnvc(["mutate", deskFile]);
    expect(pretty.code).toBe(0);
    expect(pretty.out).toMatch(/drop `t\.status = "closed"` in action close: killed by scenario close_t1 check 1/);
    expect(pretty.out).toMatch(/killed by dataset .*scen\.jsonl:1 \(bump_t1\) check 1/);
    expect(pretty.out).toMatch(/killed by: examples [1-9]\d*, scenarios [1-9]\d*, datasets [1-9]\d*, fuzzing [1-9]\d*/);
    expect(pretty.out).toMatch(/evidence: 1 recorded example .*examples\.jsonl\), 1 scenario .*scenarios\.env\), 1 dataset scenario .*scen\.jsonl\), fuzzing/);
  });

  it("--no-examples and --no-datasets turn evidence off; --dataset names a dataset", async () => {
    const off = JSON.parse((await runEnvc(["mutate", deskFile, "--no-examples", "--no-datasets", "--format", "json"])).out);
    expect(off.evidence.examples).toBe(0);
    expect(off.evidence.datasets).toEqual([]);
    expect(find(off.results, '`"Hello"` -> `""`').status).toBe("survived");
    expect(find(off.results, "drop `t.priority += 1`").status).toBe("survived");
    expect(off.killedBy.example).toBe(0);
    expect(off.killedBy.dataset).toBe(0);

    const named = JSON.parse((await runEnvc(["mutate", deskFile, "--no-datasets", "--dataset", path.join(desk, "scen.jsonl"), "--format", "json"])).out);
    expect(named.evidence.datasets).toHaveLength(1);
    expect(find(named.results, "drop `t.priority += 1`").killedBy?.by).toBe("dataset");
  });

  it("a malformed dataset is a usage error naming file:line, exit 2, no stack trace", async () => {
    const bad = path.join(desk, "bad.jsonl");
    writeFileSync(bad, DESK_DATASET + '{"env": "Desk", oops}\n');
    try {
      const { code, err } = await runEnvc(["mutate", deskFile, "--dataset", bad]);
      expect(code).toBe(2);
      expect(err).toMatch(/bad\.jsonl:2:\d+: ENV5014 Line 2 is not valid JSON/);
      expect(err).not.toMatch(/\n\s+at /);
      expect((await runEnvc(["mutate", deskFile, "--dataset", path.join(desk, "missing.jsonl")])).code).toBe(2);
      // one found beside the spec is checked too once it is recognised as this env's dataset
      const { code: besideCode, err: besideErr } = await runEnvc(["mutate", deskFile]);
      expect(besideCode).toBe(2);
      expect(besideErr).toMatch(/bad\.jsonl:2:/);
    } finally {
      rmSync(bad);
    }
  });

  it("mutateSpecFile (what synth calls) gives the CLI's report", async () => {
    const report = await mutateSpecFile(deskFile, { seed: 1, runs: 100, maxCalls: 20 });
    const cli = JSON.parse((await runEnvc(["mutate", deskFile, "--format", "json"])).out);
    expect(report.results.map((r) => [r.status, r.killedBy?.evidence])).toEqual(cli.results.map((r: Result) => [r.status, r.killedBy?.evidence]));
    expect(report.score).toBeCloseTo(cli.score);
  });

  it("the fast path gives the same report as loading each mutant in full and running all its evidence", async () => {
    // positions in messages are the original's on the fast path, the mutant text's on the full one
    const cols = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/(\.env:\d+):\d+/g, "$1"));
    const strip = (r: ReturnType<typeof mutateSpec>) => cols({ ...r, ms: 0, perSecond: 0, results: r.results.map((x) => ({ ...x, ms: 0 })) });
    for (const file of [deskFile, specFile]) {
      const { subject: s } = await gatherEvidence(file);
      const opts = { seed: 2, runs: 40, maxCalls: 12 };
      expect(strip(mutateSpec(s, opts)), file).toEqual(strip(mutateSpec(s, { ...opts, exhaustive: true })));
    }
  });
});
