// The whole pipeline from the bundled task sample, through runCli, the real `openai` client and
// the scripted server: `synth topics` (stateful or not, descriptions, scores, duplicates) ->
// `synth specs` (one spec repaired in round two; rule probes, examples, coverage and a mutation
// score kept for each) -> `scen` -> `envc verify` accepts the dataset; each report shows every
// item's fate; a rerun of the chain sends zero requests.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, lastUser, messageText, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";
import { shelfSpec, specAnswer, withTypo, requestedEnv, scenarioState, scenarioTask, goodChecks } from "./fixtures.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const SAMPLE = path.join(root, "synth", "data", "task-sample.jsonl");
const PICKED = ["hotel-01", "hotel-02", "library-01", "library-03", "fleet-01", "text-01", "math-01", "knowledge-02"];

const taskOf = (req: StubRequest) => /Task:\n"""\n([\s\S]*?)\n"""/.exec(lastUser(req))![1]!;

/** The scripted model, answering each stage from what the prompt says. */
function model(req: StubRequest): StubReply {
  const last = lastUser(req);
  if (last.startsWith("## Step 1 of 2")) {
    const t = taskOf(req);
    const stateful = /room|reservation|borrow|check out|van|route/i.test(t);
    return { json: { stateful, reasons: stateful ? "It reads and changes records." : "It is answered from knowledge or by writing text." } };
  }
  if (last.startsWith("## Step 2 of 2")) {
    const t = taskOf(req);
    if (/hotel|room/i.test(t))
      return { json: { name: "Hotel Rooms", summary: "Guests book hotel rooms and staff manage the reservations.", introduction: "Rooms, guests, reservations.", usefulness: 5, modelability: 5 } };
    if (/library|borrow|M2/i.test(t))
      return { json: { name: "library-loans", summary: "Members borrow and return copies of books in a library.", introduction: "Books, members, loans.", usefulness: 5, modelability: 5 } };
    if (/check out/i.test(t)) // a near-duplicate of library-loans
      return { json: { name: "library-checkouts", summary: "Members borrow and return copies of library books.", introduction: "Books, members, loans.", usefulness: 4, modelability: 5 } };
    return { json: { name: "fleet-dispatch", summary: "Dispatchers assign vans to delivery routes.", introduction: "Vans, drivers, routes, GPS.", usefulness: 4, modelability: 2 } };
  }
  if (last.startsWith("## Write the spec")) {
    const env = requestedEnv(last);
    return { content: specAnswer(env === "HotelRooms" ? withTypo(shelfSpec(env)) : shelfSpec(env)) };
  }
  if (last.startsWith("## Repair: compile errors")) return { content: specAnswer(shelfSpec(requestedEnv(messageText(req, "user")))) };
  if (last.startsWith("## Rule probes")) // one rule the shelf keeps, one call it allows
    return {
      json: {
        probes: [
          { id: "no_negative_amount", rule: "Copies are added in positive amounts.", calls: [{ name: "add_copies", arguments_json: '{"book_id": "B1", "amount": -1}' }], expect: "refused", field: null, equals_json: null },
          { id: "add_one_copy", rule: "Adding a copy raises the count.", calls: [{ name: "add_copies", arguments_json: '{"book_id": "B2", "amount": 1}' }], expect: "ok", field: "copies", equals_json: "2" },
        ],
      },
    };
  if (last.startsWith("## Step 1 of 3")) return scenarioState;
  if (last.startsWith("## Step 2 of 3")) return scenarioTask();
  if (last.startsWith("## Step 3 of 3")) return goodChecks;
  throw new Error(`unexpected request: ${last.slice(0, 80)}`);
}

let stub: OpenAiStub;
let dir: string;
const f = (name: string) => path.join(dir, name);
const llmArgs = () => ["--base-url", stub.url, "--model", "stub-model", "--cache", f("cache"), "--retry-base-ms", "5"];
const report = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

beforeAll(async () => {
  stub = await startOpenAiStub({ respond: model });
  dir = mkdtempSync(path.join(tmpdir(), "envc-e2e-"));
  const lines = readFileSync(SAMPLE, "utf8").trim().split("\n").filter((l) => PICKED.includes(JSON.parse(l).id));
  writeFileSync(f("tasks.jsonl"), lines.join("\n") + "\n");
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function chain() {
  const topics = await runEnvc(["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", f("descriptions.jsonl"), ...llmArgs()]);
  const specs = await runEnvc(["synth", "specs", "--descriptions", f("descriptions.jsonl"), "--out", f("envs"), "--fuzz-runs", "60", ...llmArgs()]);
  const scen = await runEnvc(["scen", f("envs"), "--out", f("scenarios.jsonl"), "--per-env", "1", ...llmArgs()]);
  return { topics, specs, scen };
}

describe("topics -> specs -> scen, from the bundled task sample", () => {
  let first: Awaited<ReturnType<typeof chain>>;

  it("bundles at least 50 task texts, some of which need no environment", () => {
    const tasks = readFileSync(SAMPLE, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(tasks.length).toBeGreaterThanOrEqual(50);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);
    expect(tasks.filter((t) => /^(text|math|knowledge|code|chat|recipe|trivia)-/.test(t.id)).length).toBeGreaterThanOrEqual(10);
  });

  it("runs end to end to kept specs and verified scenarios", async () => {
    first = await chain();
    expect(first.topics.code).toBe(0);
    expect(first.specs.code).toBe(0);
    expect(first.scen.code).toBe(0);
    const descriptions = readFileSync(f("descriptions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(descriptions.map((d) => [d.name, d.tasks])).toEqual([["hotel-rooms", ["hotel-01", "hotel-02"]], ["library-loans", ["library-01", "library-03"]]]);
    expect(first.specs.err).toContain("environments: 2 attempted, 2 kept, 0 dropped");
    expect(first.scen.err).toContain("scenarios: 2 attempted, 2 kept, 0 dropped");
    const v = await runEnvc(["verify", f("envs"), f("scenarios.jsonl")]);
    expect(v.code).toBe(0);
    expect(v.out).toContain("HotelRooms (");
    expect(v.out).toContain("LibraryLoans (");
    expect(v.out).toContain("verify: 2/2 scenarios kept");
  });

  it("reports each task's fate", () => {
    const items = report(f("descriptions.report.jsonl"));
    const fate = Object.fromEntries(items.filter((i) => i.kind === "item").map((i) => [i.item, i.fate === "kept" ? `kept -> ${i.output}` : i.reason]));
    expect(fate).toEqual({
      "hotel-01": "kept -> hotel-rooms",
      "hotel-02": "duplicate",
      "library-01": "kept -> library-loans",
      "library-03": "duplicate",
      "fleet-01": "low_score",
      "text-01": "not_stateful",
      "math-01": "not_stateful",
      "knowledge-02": "not_stateful",
    });
    expect(items.find((i) => i.item === "library-03").detail).toMatch(/^duplicate of library-loans \(similarity 0\.\d\d\)$/);
    expect(items.at(-1).stages.topic).toMatchObject({ attempted: 8, kept: 2, droppedBy: { not_stateful: 3, duplicate: 2, low_score: 1 } });
    const specs = report(f("envs/synth-report.jsonl"));
    expect(specs.filter((i) => i.kind === "item").map((i) => [i.item, i.fate, i.rounds])).toEqual([["hotel-rooms", "kept", 1], ["library-loans", "kept", 0]]);
    // each kept spec with its evidence: both probes passed and recorded, coverage, a mutation score
    for (const i of specs.filter((x) => x.kind === "item")) {
      expect(i.evidence.probes).toMatchObject({ asked: 2, passed: 2, kept: ["probe.no_negative_amount", "probe.add_one_copy"] });
      expect(i.evidence.fuzz).toMatchObject({ runs: 80, toolsReached: 4, tools: 4 });
      expect(i.evidence.mutation.score).toBeGreaterThan(0.5);
      expect(readFileSync(f(`envs/${i.item}/examples.jsonl`), "utf8")).toContain('"id":"probe.add_one_copy"');
    }
    const scen = report(f("scenarios.report.jsonl"));
    expect(scen.filter((i) => i.kind === "item").map((i) => [i.item, i.fate])).toEqual([["HotelRooms/restock_dune", "kept"], ["LibraryLoans/restock_dune", "kept"]]);
  });

  it("reruns the whole chain from the cache: zero requests, the same outputs", async () => {
    const sent = stub.requests.length;
    const files = ["descriptions.jsonl", "envs/hotel-rooms/hotel-rooms.env", "envs/library-loans/state.json", "envs/library-loans/examples.jsonl", "scenarios.jsonl"].map((p) => readFileSync(f(p), "utf8"));
    const again = await chain();
    expect(stub.requests.length).toBe(sent);
    for (const r of [again.topics, again.specs, again.scen]) {
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/requests: 0 sent, [1-9]\d* cache hits/);
    }
    expect(["descriptions.jsonl", "envs/hotel-rooms/hotel-rooms.env", "envs/library-loans/state.json", "envs/library-loans/examples.jsonl", "scenarios.jsonl"].map((p) => readFileSync(f(p), "utf8"))).toEqual(files);
  });

  it("finds the same duplicates with embeddings from the server", async () => {
    const r = await runEnvc(["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", f("emb.jsonl"), "--dedup", "embeddings", "--threshold", "0.75", ...llmArgs()]);
    expect(r.code).toBe(0);
    expect(stub.requests.filter((q) => q.path === "/v1/embeddings")).toHaveLength(1);
    expect(readFileSync(f("emb.jsonl"), "utf8")).toBe(readFileSync(f("descriptions.jsonl"), "utf8"));
  });
});
