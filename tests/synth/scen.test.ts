// `envc scen` end to end through runCli, the real `openai` client and the scripted server: a
// scenario whose check is already true at the start, repaired from ENV5008; an invalid initial
// state repaired from its JSON paths; malformed JSON from the model; a scenario that never
// verifies, dropped with its diagnostics; the dataset accepted by `envc verify`.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, lastUser, messageText, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";
import { GOOD_STATE, shelfSpec, scenarioState, scenarioTask, goodChecks, alreadyTrueChecks } from "./fixtures.js";

let stub: OpenAiStub;
let dir: string;
let specDir: string;

/** Which scenario (k of n) a request belongs to: the state step names it. */
const scenarioOf = (req: StubRequest) => Number(/\(scenario (\d+) of \d+\)/.exec(messageText(req, "user"))![1]);

/**
 * The scripted model. Scenario 1: its first checks hold at the start (ENV5008), the repair
 * fixes them. Scenario 2: an invalid state first, then malformed JSON for the task, then
 * good. Scenario 3: a solution step that always fails (dropped).
 */
function model(req: StubRequest): StubReply {
  const k = scenarioOf(req);
  const last = lastUser(req);
  if (last.startsWith("## Step 1 of 3")) {
    if (k === 2) return { json: { idea: "restock", state_json: JSON.stringify({ ...GOOD_STATE, books: { B1: { book_id: "B1", title: "Dune", copies: -3 } } }) } };
    return scenarioState;
  }
  if (last.startsWith("## Repair: initial state")) return scenarioState;
  if (last.startsWith("## Step 2 of 3")) return k === 2 ? { content: '{"id": "restock", "task": "Add copies' } : scenarioTask(k === 1 ? "restock_dune" : `scenario_${k}`);
  if (last.startsWith("Your answer could not be used")) return scenarioTask("restock_again");
  if (last.startsWith("## Step 3 of 3")) {
    if (k === 1) return alreadyTrueChecks;
    if (k === 3) return { json: { ...goodChecks.json, solution: [{ name: "add_copies", arguments_json: '{"book_id": "B9", "amount": 3}' }, goodChecks.json.solution[1]!] } };
    return goodChecks;
  }
  if (last.startsWith("## Repair: checks and solution")) return k === 3 ? model({ ...req, body: { messages: [req.body.messages[0], req.body.messages[1], { role: "user", content: "## Step 3 of 3" }] } }) : goodChecks;
  throw new Error(`unexpected request: ${last.slice(0, 80)}`);
}

const llmArgs = () => ["--base-url", stub.url, "--model", "stub-model", "--cache", path.join(dir, "cache"), "--retry-base-ms", "5"];

beforeAll(async () => {
  stub = await startOpenAiStub({ respond: model });
  dir = mkdtempSync(path.join(tmpdir(), "envc-scen-"));
  specDir = path.join(dir, "shelf");
  mkdirSync(specDir);
  writeFileSync(path.join(specDir, "shelf.env"), shelfSpec("Shelf"));
  writeFileSync(path.join(specDir, "state.json"), JSON.stringify(GOOD_STATE, null, 2));
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("envc scen", () => {
  const out = () => path.join(dir, "scenarios.jsonl");

  it("writes verified scenarios, repairing what verify rejects and dropping what it never accepts", async () => {
    const r = await runEnvc(["scen", specDir, "--out", out(), "--per-env", "3", "--rounds", "1", ...llmArgs()]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`kept scenario Shelf/restock_dune -> ${out()} (1 repair round)`);
    expect(r.err).toContain(`kept scenario Shelf/restock_again -> ${out()} (1 repair round)`);
    expect(r.err).toMatch(/dropped scenario Shelf\/scenario_3 \(verify_failed\): ENV5009 Solution step 1, add_copies\(book_id: "B9", amount: 3\), fails \(precondition\): Book not found/);
    expect(r.err).toContain("scenarios: 3 attempted, 2 kept, 1 dropped (verify_failed 1)");
    expect(r.err).toContain("repair rounds of kept scenarios: 2 after 1 round (mean 1)");
    expect(r.err).toContain("wrote 2 scenarios to");
  });

  it("sends the already-true check back with its diagnostic", () => {
    const repair = stub.chats().find((q) => scenarioOf(q) === 1 && lastUser(q).startsWith("## Repair: checks and solution"))!;
    const text = lastUser(repair);
    expect(text).toContain('ENV5008: Check "Does Dune have copies?" is already true in the initial state');
    expect(text).toContain("fix: check for the change the task asks for");
  });

  it("sends state problems and malformed JSON back", () => {
    const chats = stub.chats().filter((q) => scenarioOf(q) === 2);
    const stateRepair = chats.map(lastUser).find((t) => t.startsWith("## Repair: initial state"))!;
    expect(stateRepair).toContain("$.books.B1: breaks invariant copies_not_negative");
    const jsonRepair = chats.map(lastUser).find((t) => t.startsWith("Your answer could not be used"))!;
    expect(jsonRepair).toMatch(/^Your answer could not be used: not valid JSON/);
  });

  it("writes a dataset that envc verify accepts", async () => {
    const lines = readFileSync(out(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(["restock_dune", "restock_again"]);
    expect(lines[0]).toMatchObject({ env: "Shelf", initial: GOOD_STATE, checks: goodChecks.json.checks, solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: 3 } }, { name: "rename", arguments: { book_id: "B1", title: "Dune (2nd ed.)" } }] });
    const v = await runEnvc(["verify", specDir, out()]);
    expect(v.code).toBe(0);
    expect(v.out).toContain("verify: 2/2 scenarios kept");
  });

  it("reports the dropped scenario with its last diagnostics", () => {
    const report = readFileSync(path.join(dir, "scenarios.report.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const dropped = report.find((r) => r.fate === "dropped");
    expect(dropped).toMatchObject({ stage: "scenario", item: "Shelf/scenario_3", reason: "verify_failed", rounds: 1 });
    expect(dropped.diagnostics.map((d: { code: string }) => d.code)).toEqual(["ENV5009"]);
    expect(dropped.history).toHaveLength(2);
    expect(report.at(-1).stages.scenario).toMatchObject({ attempted: 3, kept: 2, keptByRounds: { "1": 2 } });
  });

  it("reruns from the cache without a request and writes the same dataset", async () => {
    const before = readFileSync(out(), "utf8");
    const sent = stub.chats().length;
    const r = await runEnvc(["scen", specDir, "--out", out(), "--per-env", "3", "--rounds", "1", ...llmArgs()]);
    expect(r.code).toBe(0);
    expect(stub.chats().length).toBe(sent);
    expect(r.err).toMatch(/requests: 0 sent, \d+ cache hits/);
    expect(readFileSync(out(), "utf8")).toBe(before);
  });

  it("refuses specs with errors and an --out that is not .jsonl", async () => {
    expect((await runEnvc(["scen", specDir, "--out", path.join(dir, "x.json"), ...llmArgs()])).err).toContain("name the dataset *.jsonl");
    const bad = path.join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(path.join(bad, "bad.env"), shelfSpec("Bad").replace("copies: int\n", "copies: integer\n"));
    const r = await runEnvc(["scen", bad, "--out", path.join(dir, "y.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("fix the specs first");
  });
});
