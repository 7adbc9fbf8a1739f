// Answer checks (`reply`, `mentions`), outcomes (the final state against the reference
// solution's) and `reward "all"`: parsing, checking (ENV5018-ENV5020), verification, rewards
// as named parts, JSONL datasets, and `envc replay --reply` end to end.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkSource, attachScenarioFiles } from "../../compiler/pipeline.js";
import { loadDefinition, loadScenarios } from "../../compiler/load.js";
import { loadDataset } from "../../compiler/dataset.js";
import { verifyAll } from "../../compiler/verify.js";
import { Environment, verifyScenario, scoreEpisode, runEpisode, mentions, answerWords } from "../../runtime/index.js";
import { SHELF, SHELF_STATE } from "./shelf.js";

const root = path.resolve(import.meta.dirname, "../..");

/** A scenario asking a question (how many copies) and a change (add copies), graded like tau-bench. */
const COUNT = `scenarios for Shelf

scenario count_and_add "Say how many copies there are, then add two" {
  init { books: { B1: { book_id: "B1", title: "Dune", copies: 2 }, B2: { book_id: "B2", title: "Emma", copies: 1 } } }
  task "How many copies of Dune (B1) do we have? Then add two more."
  reply "We have 2 copies of Dune; I added two more, so there are 4 now."
  check "Does Dune have four copies?": books["B1"].copies == 4
  check "Did the agent say there were 2 copies?": mentions(reply, "2 copies")
  outcome "Nothing else changed"
  outcome "The books are as the reference leaves them": [books]
  reward "all"
  solution {
    get_book(book_id: "B1")
    add_copies(book_id: "B1", amount: 2)
  }
}
`;

function withScenarios(scenarios: string) {
  const spec = checkSource(SHELF, "shelf.env");
  const file = checkSource(scenarios, "shelf-scenarios.env");
  attachScenarioFiles([spec, file]);
  return { spec, file };
}

function loaded(scenarios = COUNT) {
  const { spec, file } = withScenarios(scenarios);
  expect(file.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const def = loadDefinition(spec.env!);
  const sc = loadScenarios(spec.env!)[0]!;
  const initial = Environment.createFrom(def, sc.initial);
  return { spec, def, sc, initial };
}

describe("mentions: facts in a reply, case, punctuation and number formats aside", () => {
  it("matches number formats, case and punctuation", () => {
    expect(mentions("Your refund is $1,234.50.", "1234.5")).toBe(true);
    expect(mentions("Your refund is $1,234.50.", "refund is 1,234.50")).toBe(true);
    expect(mentions("Version 4.2 is LIVE now!", "4.2 is live")).toBe(true);
    expect(mentions("It costs 4.20 USD", "4.2")).toBe(true);
    expect(mentions("Ｔｏｔａｌ： １２", "total 12")).toBe(true); // full-width forms
  });

  it("needs whole words, adjacent and in order", () => {
    expect(mentions("Your refund is $1,234.50.", "1234")).toBe(false);
    expect(mentions("Your refund is $1,234.50.", "refund of")).toBe(false);
    expect(mentions("live now is 4.2", "4.2 is live")).toBe(false);
    expect(mentions("order W12 shipped", "W1")).toBe(false);
    expect(mentions("order A1 shipped", "a1")).toBe(true);
    expect(mentions("", "x")).toBe(false);
    expect(mentions("anything", "?!")).toBe(true);
  });

  it("splits words the same way on both sides", () => {
    expect(answerWords("Refund: $1,234.50 (order #W0000001), 2nd try")).toEqual(["refund", "1234.5", "order", "w0000001", "2nd", "try"]);
  });
});

describe("checking answer checks, outcomes and reward modes", () => {
  it("a scenario with all three checks clean; the IR marks answer checks", () => {
    const { spec } = withScenarios(COUNT);
    const sc = spec.env!.scenarios[0]!;
    expect(sc.checks.map((c) => c.readsReply ?? false)).toEqual([false, true]);
    expect(sc.outcomes).toMatchObject([{ text: "Nothing else changed" }, { text: "The books are as the reference leaves them", fields: ["books"] }]);
    expect(sc.outcomes![0]!.fields).toBeUndefined();
    expect(sc.reward).toBe("all");
    expect(sc.reply).toBe("We have 2 copies of Dune; I added two more, so there are 4 now.");
  });

  it("ENV5020: an answer check without a reference reply", () => {
    const { file } = withScenarios(COUNT.replace(/  reply .*\n/, ""));
    expect(file.diagnostics.map((d) => [d.code, d.span.start.line])).toEqual([["ENV5020", 7]]);
    expect(file.diagnostics[0]!.fix).toMatch(/add `reply "..."`/);
  });

  it("ENV5018: a reward that is neither all nor fraction", () => {
    const { file } = withScenarios(COUNT.replace('reward "all"', 'reward "most"'));
    expect(file.diagnostics.map((d) => d.code)).toEqual(["ENV5018"]);
    expect(file.diagnostics[0]!.message).toBe('A scenario\'s reward is "all" or "fraction", not "most"');
  });

  it("ENV5019: an outcome over something that is not a state field", () => {
    const { file } = withScenarios(COUNT.replace("[books]", "[bookz, today]"));
    expect(file.diagnostics.map((d) => [d.code, d.message, d.fix])).toEqual([["ENV5019", "The state has no field 'bookz'", "did you mean `books`?"]]);
    const notList = withScenarios(COUNT.replace("[books]", "books"));
    expect(notList.file.diagnostics.map((d) => d.code)).toEqual(["ENV5019"]);
  });

  it("reply is a string only in scenario checks; a state field named reply wins there", () => {
    const tool = checkSource(SHELF.replace('let b = books[book_id] else "Book not found"\n  return b', 'let b = books[book_id] else "Book not found"\n  require reply != "" else "x"\n  return b'), "s.env");
    expect(tool.diagnostics.map((d) => d.code)).toContain("ENV2001");
    const typed = withScenarios(COUNT.replace('mentions(reply, "2 copies")', "reply + 1 == 2"));
    expect(typed.file.diagnostics.filter((d) => d.severity === "error").length).toBeGreaterThan(0);
    const spec = checkSource(SHELF.replace('today: date = "2024-01-01"', 'today: date = "2024-01-01"\n  reply: string = ""'), "shelf.env");
    const file = checkSource(COUNT.replace('mentions(reply, "2 copies")', 'reply == ""').replace(/  reply "We.*\n/, ""), "shelf-scenarios.env");
    attachScenarioFiles([spec, file]);
    expect(file.diagnostics).toEqual([]);
    expect(spec.env!.scenarios[0]!.checks[1]!.readsReply).toBeUndefined();
  });
});

describe("verify and rewards", () => {
  it("verify passes: the reference reply satisfies the answer check, an empty reply does not", () => {
    const { sc, initial } = loaded();
    expect(verifyScenario(sc, initial)).toEqual([]);
    const { spec } = withScenarios(COUNT);
    expect(verifyAll([spec], [])[0]!.verdicts.flatMap((v) => v.diagnostics.map((d) => d.code))).toEqual([]);
  });

  it("verify refuses a reference reply that does not say it (ENV5011) and an answer check any reply passes (initially true)", () => {
    const wrong = loaded(COUNT.replace("We have 2 copies", "We have two copies"));
    expect(verifyScenario(wrong.sc, wrong.initial)).toEqual([{ kind: "check_false", check: 1 }]);
    const always = loaded(COUNT.replace('mentions(reply, "2 copies")', 'mentions(reply, "")'));
    expect(verifyScenario(always.sc, always.initial)).toEqual([{ kind: "initially_true", check: 1 }]);
  });

  it("the reference episode scores 1 with every part named; the reply and the outcomes decide like tau-bench", () => {
    const { sc, initial } = loaded();
    const run = runEpisode(initial, sc.solution, "json");
    const good = scoreEpisode(sc, run.final, initial, run.results, "There are 2 copies. Added 2.");
    expect(good.reward).toBe(1);
    expect(good.checks.map((c) => [c.check, c.passed, c.part ?? "check"])).toEqual([
      ["Does Dune have four copies?", true, "check"],
      ["Did the agent say there were 2 copies?", true, "answer"],
      ["Nothing else changed", true, "outcome"],
      ["The books are as the reference leaves them", true, "outcome"],
    ]);
    // silent agent: all-or-nothing reward is 0, one part failed
    const silent = scoreEpisode(sc, run.final, initial, run.results);
    expect([silent.reward, silent.passed, silent.total]).toEqual([0, 3, 4]);
  });

  it("a collateral change fails the whole-state outcome, with a diff of what differs; the table outcome still holds when it is elsewhere", () => {
    const { sc, initial } = loaded();
    const extra = runEpisode(initial, [...sc.solution, { name: "add_copies", arguments: { book_id: "B2", amount: 1 } }], "json");
    const r = scoreEpisode(sc, extra.final, initial, extra.results, "2 copies");
    expect(r.reward).toBe(0);
    expect(r.checks[0]!.passed).toBe(true); // the check alone cannot see it
    const whole = r.checks[2]!;
    expect(whole.passed).toBe(false);
    expect(whole.diff).toEqual({ tables: { books: { B2: { before: { book_id: "B2", title: "Emma", copies: 1 }, after: { book_id: "B2", title: "Emma", copies: 2 } } } }, globals: {} });
    expect(r.checks[3]!.passed).toBe(false);
    // fraction mode: the same episode scores the fraction of parts
    const fraction = loaded(COUNT.replace('  reward "all"\n', ""));
    const f = scoreEpisode(fraction.sc, extra.final, fraction.initial, extra.results, "2 copies");
    expect(f.reward).toBe(0.5);
  });

  it("scoreEpisode still takes a list of checks (the runtime API before outcomes)", () => {
    const { sc, initial } = loaded();
    const run = runEpisode(initial, sc.solution, "json");
    expect(scoreEpisode(sc.checks, run.final, initial, run.results, "2 copies").reward).toBe(1);
  });
});

describe("JSONL datasets carry reply, outcomes and reward", () => {
  const line = (extra: Record<string, unknown>) =>
    JSON.stringify({
      env: "Shelf", id: "d1", initial: SHELF_STATE, task: "How many copies of B1? Add one.",
      checks: [{ text: "Four?", expr: 'books["B1"].copies == 3' }, { text: "Said 2?", expr: 'mentions(reply, "2")' }],
      solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: 1 } }],
      ...extra,
    });

  it("loads them into the IR", () => {
    const spec = checkSource(SHELF, "shelf.env");
    const r = loadDataset(line({ reply: "There were 2.", outcomes: [{ text: "Same as reference" }, { text: "Books", fields: ["books"] }], reward: "all" }), "d.jsonl", [spec]);
    expect(r.diagnostics).toEqual([]);
    const sc = r.scenarios[0]!.scenario;
    expect([sc.reply, sc.reward, sc.outcomes!.map((o) => o.fields ?? null), sc.checks.map((c) => c.readsReply ?? false)]).toEqual(["There were 2.", "all", [null, ["books"]], [false, true]]);
  });

  it("reports a missing reply, a bad reward and an unknown outcome field", () => {
    const spec = checkSource(SHELF, "shelf.env");
    const r = loadDataset([line({}), line({ id: "d2", reply: "2", reward: 1 }), line({ id: "d3", reply: "2", outcomes: [{ text: "x", fields: ["bookz"] }] })].join("\n"), "d.jsonl", [spec]);
    expect(r.diagnostics.map((d) => [d.code, d.span.start.line])).toEqual([["ENV5020", 1], ["ENV5018", 2], ["ENV5019", 3]]);
  });
});

describe("envc replay --reply (end to end)", () => {
  it("scores the answer check with the reply given, and with the scenario's own reply by default", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "envc-answers-"));
    writeFileSync(path.join(dir, "shelf.env"), SHELF);
    writeFileSync(path.join(dir, "scenarios.env"), COUNT);
    const bin = path.join(root, "bin/envc.js");
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, "replay", path.join(dir, "shelf.env"), "--scenario", "count_and_add", "--format", "json", "--no-cache", ...args], { encoding: "utf8" });
    const own = JSON.parse(run().stdout);
    expect(own.reward.reward).toBe(1);
    const wrong = JSON.parse(run("--reply", "I added two.").stdout);
    expect(wrong.reward.reward).toBe(0);
    expect(wrong.reward.checks.find((c: { part?: string }) => c.part === "answer")).toMatchObject({ passed: false });
    const verify = spawnSync(process.execPath, [bin, "verify", dir], { encoding: "utf8" });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);
});

describe("envc serve: POST /sessions/ID/verify with the agent's reply (live server)", () => {
  it("judges answer checks on the reply given, outcomes on the live state", async () => {
    const { loadServedEnvs, SessionManager, EnvcHttpServer } = await import("../../server/index.js");
    const dir = mkdtempSync(path.join(tmpdir(), "envc-answers-serve-"));
    writeFileSync(path.join(dir, "shelf.env"), SHELF);
    writeFileSync(path.join(dir, "scenarios.env"), COUNT);
    const loaded = await loadServedEnvs([dir]);
    expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const manager = new SessionManager(loaded.envs);
    const server = new EnvcHttpServer(manager, { log: () => undefined });
    const { url } = await server.listen(0);
    try {
      const post = async (p: string, body?: unknown) => {
        const res = await fetch(url + p, { method: "POST", ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}) });
        return { status: res.status, json: (await res.json()) as any };
      };
      const s = (await post("/sessions", { env: "Shelf", scenario: "count_and_add" })).json.session as string;
      expect((await post(`/sessions/${s}/call`, { name: "add_copies", arguments: { book_id: "B1", amount: 2 } })).status).toBe(200);
      const said = await post(`/sessions/${s}/verify`, { reply: "You had 2 copies; now 4." });
      expect([said.status, said.json.reward]).toEqual([200, 1]);
      const silent = await post(`/sessions/${s}/verify`);
      expect(silent.json.reward).toBe(0);
      expect(silent.json.checks.filter((c: { passed: boolean }) => !c.passed).map((c: { check: string; part?: string }) => [c.check, c.part])).toEqual([["Did the agent say there were 2 copies?", "answer"]]);
      const bad = await post(`/sessions/${s}/verify`, { reply: 42 });
      expect([bad.status, bad.json.error?.code ?? bad.json.code]).toEqual([400, "bad_request"]);
      await post(`/sessions/${s}/call`, { name: "add_copies", arguments: { book_id: "B2", amount: 1 } });
      const extra = await post(`/sessions/${s}/verify`, { reply: "2 copies" });
      const whole = extra.json.checks.find((c: { check: string }) => c.check === "Nothing else changed");
      expect(whole.passed).toBe(false);
      expect(Object.keys(whole.diff.tables.books)).toEqual(["B2"]);
    } finally {
      await server.close();
      manager.shutdown();
    }
  }, 60_000);
});
