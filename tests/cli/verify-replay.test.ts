// End-to-end tests of `envc verify` and `envc replay` through runCli: a small spec with
// scenario files and datasets in a temp folder, and the bundled specs' own scenarios.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkFile, findSpecFiles } from "../../compiler/project.js";
import { attachScenarioFiles } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { initialFileOf } from "../../compiler/verify.js";
import { Environment, parseJsonOrdered } from "../../runtime/index.js";
import { SHELF, SHELF_STATE, RESTOCK } from "../scenarios/shelf.js";
import { runEnvc } from "../helpers.js";

const run = (...argv: string[]) => runEnvc(argv);

/** A folder holding the shelf spec, its state and the given scenario files. */
function shelfFolder(name: string, scenarioFiles: Record<string, string>): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, "shelf.env"), SHELF);
  writeFileSync(path.join(folder, "state.json"), JSON.stringify(SHELF_STATE));
  for (const [file, text] of Object.entries(scenarioFiles)) writeFileSync(path.join(folder, file), text);
  return folder;
}

const root = path.resolve(new URL("../..", import.meta.url).pathname);
let dir: string;
let shelf: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-verify-"));
  shelf = shelfFolder("shelf", { "scenarios.env": RESTOCK });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BROKEN = `scenarios for Shelf

scenario already_done {
  init from "state.json"
  task "Make sure Dune exists."
  check "Is Dune there?": "B1" in books
  solution { add_copies(book_id: "B1", amount: 1) }
}

scenario impossible {
  init from "state.json"
  task "Add minus one copy."
  check "Does Dune have one copy?": books["B1"].copies == 1
  solution { add_copies(book_id: "B1", amount: -1) }
}
`;

describe("envc verify", () => {
  it("passes a folder whose scenarios are sound", async () => {
    const r = await run("verify", shelf);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Shelf (");
    expect(r.out).toContain("1/1 scenario pass");
    expect(r.out).toContain("verify: 1/1 scenarios kept");
  });

  it("rejects broken scenarios with diagnostics at their place, exit 1", async () => {
    const broken = shelfFolder("broken", { "more.env": BROKEN });
    const r = await run("verify", broken, "--format", "short");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/more\.env:6:3: error ENV5008: Check "Is Dune there\?" is already true/);
    expect(r.out).toMatch(/more\.env:14:14: error ENV5009: Solution step 1, add_copies\(book_id: "B1", amount: -1\), fails \(precondition\): The amount must be positive/);
    expect(r.out).toContain("dropped Shelf/already_done: ENV5008");
    expect(r.out).toContain("verify: 0/2 scenarios kept");
  });

  it("--write-kept keeps what passes, reports the rest and exits 0; the kept file verifies again", async () => {
    const mixed = shelfFolder("mixed", { "good.env": RESTOCK, "bad.env": BROKEN });
    const kept = path.join(dir, "out", "kept.jsonl");
    const r = await run("verify", mixed, "--write-kept", kept);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote 1 scenario to ${kept}`);
    expect(r.out).toContain("dropped Shelf/impossible: ENV5009");
    const lines = readFileSync(kept, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(["restock"]);
    const again = await run("verify", path.join(mixed, "shelf.env"), kept);
    expect(again.code).toBe(0);
    expect(again.out).toContain("verify: 1/1 scenarios kept");
  });

  it("--allow-initially-true turns the check-already-true error into a warning", async () => {
    const folder = shelfFolder("lenient", {
      "s.env": RESTOCK.replace('check "Is Dune renamed?"', 'check "Is there a book?": len(books) > 0\n  check "Is Dune renamed?"'),
    });
    expect((await run("verify", folder)).code).toBe(1);
    const r = await run("verify", folder, "--allow-initially-true", "--format", "json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ ok: true, kept: 1, total: 1 });
    expect(doc.diagnostics.map((d: { code: string; severity: string }) => `${d.code}:${d.severity}`)).toEqual(["ENV5008:warning"]);
  });

  it("verifies a JSONL dataset against the named specs, with line:col in diagnostics", async () => {
    const data = path.join(dir, "data.jsonl");
    const good = { env: "Shelf", id: "d1", initial: "shelf/state.json", task: "t", checks: [{ text: "q", expr: 'books["B1"].copies == 3' }], solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: 1 } }] };
    writeFileSync(data, [JSON.stringify(good), JSON.stringify({ ...good, id: "d2", checks: [{ text: "q", expr: "bokks == 1" }] })].join("\n") + "\n");
    const r = await run("verify", path.join(shelf, "shelf.env"), data, "--format", "short");
    expect(r.out).toMatch(/data\.jsonl:2:\d+: error ENV2001: Unknown name 'bokks'/);
    expect(r.out).toContain("verify: 1/2 scenarios kept");
    expect(r.code).toBe(1);
  });

  it("an id given in two datasets is a duplicate (ENV5003), as it is within one", async () => {
    const line = { env: "Shelf", id: "twice", initial: "shelf/state.json", task: "t", checks: [{ text: "q", expr: 'books["B1"].copies == 3' }], solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: 1 } }] };
    const [a, b] = [path.join(dir, "a.jsonl"), path.join(dir, "b.jsonl")];
    writeFileSync(a, JSON.stringify(line) + "\n");
    writeFileSync(b, JSON.stringify(line) + "\n");
    const r = await run("verify", path.join(shelf, "shelf.env"), a, b, "--format", "short");
    expect(r.out).toMatch(/b\.jsonl:1:\d+: error ENV5003: /);
    expect(r.code).toBe(1);
  });

  it("explains bad usage", async () => {
    expect((await run("verify", path.join(dir, "nothing.jsonl"))).code).toBe(2);
    expect((await run("verify", "--help")).out).toContain("--allow-initially-true");
  });
});

describe("envc replay", () => {
  it("replays a scenario's solution and prints reward 1 with each check named", async () => {
    const r = await run("replay", shelf, "--scenario", "restock");
    expect(r.code).toBe(0);
    expect(r.out).toContain('[1] add_copies({"book_id":"B1","amount":3})');
    expect(r.out).toContain('~ books["B1"].copies: 2 -> 5');
    expect(r.out).toContain("reward: 1 (3/3 checks; 0 agent errors, 0 environment faults)");
    expect(r.out).toContain("PASS  Does Dune have five copies?");
    expect(r.out).toContain("PASS  Is Dune renamed?");
  });

  it("scores given calls from a state file; failures are agent errors, JSON for machines", async () => {
    const calls = path.join(dir, "calls.jsonl");
    writeFileSync(calls, [
      JSON.stringify({ name: "add_copies", arguments: { book_id: "B1", amount: 3 } }),
      JSON.stringify({ name: "add_copies", arguments: { book_id: "B1", amount: 0 } }),
    ].join("\n"));
    const r = await run("replay", shelf, "--init", path.join(shelf, "state.json"), "--calls", calls, "--scenario", "restock", "--format", "json", "--renderer", "taubench");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.calls[1].output).toBe("Error: The amount must be positive");
    expect(doc.reward).toMatchObject({ passed: 1, total: 3, agentErrors: 1, envFaults: 0 });
    expect(doc.reward.reward).toBeCloseTo(1 / 3);
    expect(doc.diff.tables.books.B1.after.copies).toBe(5);
  });

  it("batch: compares episodes with expectations and ends with replay: N/M identical", async () => {
    const episodes = path.join(dir, "episodes.jsonl");
    writeFileSync(episodes, [
      JSON.stringify({ id: "e1", calls: [{ name: "add_copies", arguments: { book_id: "B1", amount: 1 } }] }),
      JSON.stringify({ id: "e2", initial: SHELF_STATE, calls: [{ name: "add_book", arguments: { title: "Emma" } }, { name: "nope", arguments: {} }] }),
    ].join("\n"));
    const expect1 = path.join(dir, "expect.jsonl");
    const rec = await run("replay", shelf, "--episodes", episodes, "--record", expect1);
    expect(rec.code).toBe(0);
    const same = await run("replay", shelf, "--episodes", episodes, "--expect", expect1);
    expect(same.code).toBe(0);
    expect(same.out.trim().split("\n").at(-1)).toBe("replay: 2/2 identical");

    const lines = readFileSync(expect1, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    lines[0].changed.tables.books.B1.copies = 9;
    lines[1].outputs[0] = "something else";
    writeFileSync(expect1, lines.map((l) => JSON.stringify(l)).join("\n"));
    const diff = await run("replay", shelf, "--episodes", episodes, "--expect", expect1);
    expect(diff.code).toBe(1);
    expect(diff.out).toContain("episode e1:");
    expect(diff.out).toContain('books["B1"] differs');
    expect(diff.out).toContain("episode e2:");
    expect(diff.out).toContain("call 1 output differs");
    expect(diff.out.trim().split("\n").at(-1)).toBe("replay: 0/2 identical");
  });

  it("explains a missing scenario, missing calls and bad JSONL", async () => {
    const a = await run("replay", shelf, "--scenario", "nope");
    expect(a.code).toBe(2);
    expect(a.err).toContain("no scenario 'nope'");
    expect(a.err).toContain("there are: restock");
    const b = await run("replay", shelf);
    expect(b.code).toBe(2);
    expect(b.err).toContain("--calls");
    const bad = path.join(dir, "bad.jsonl");
    writeFileSync(bad, '{"name": "add_copies"}\n{oops\n');
    const c = await run("replay", shelf, "--calls", bad);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/bad\.jsonl:2:2: /);
  });
});

describe("the bundled specs' scenarios", () => {
  it("envc verify specs/ passes", async () => {
    const r = await run("verify", path.join(root, "specs"));
    expect(r.out).not.toContain("dropped");
    expect(r.code).toBe(0);
  });

  it("each spec has at least 5 scenarios, each solution with at least 3 state-changing calls", async () => {
    const found = await findSpecFiles([path.join(root, "specs")]);
    const checked = await Promise.all(found.files.map((f) => checkFile(f)));
    attachScenarioFiles(checked);
    const envs = checked.filter((c) => c.env);
    expect(envs).toHaveLength(9);
    for (const spec of envs) {
      const env = spec.env!;
      expect(env.scenarios.length, env.name).toBeGreaterThanOrEqual(5);
      const def = loadDefinition(env);
      for (const sc of env.scenarios) {
        const file = initialFileOf(sc);
        const initial = file ? parseJsonOrdered(readFileSync(file, "utf8")) : (sc.init as { value: unknown }).value;
        const start = Environment.createFrom(def, initial);
        const live = start.fork();
        let changing = 0;
        for (const step of sc.solution) {
          const before = live.snapshot();
          const result = live.call(step.tool, step.args);
          expect(result.ok, `${env.name}/${sc.name}: ${step.tool}`).toBe(true);
          const d = before.diff(live);
          if (Object.keys(d.tables).length || Object.keys(d.globals).length) changing++;
        }
        expect(changing, `${env.name}/${sc.name}: state-changing calls`).toBeGreaterThanOrEqual(3);
      }
    }
  });
});
