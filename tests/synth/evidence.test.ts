// What `envc synth specs` keeps besides the spec, end to end through runCli, the real `openai`
// client and the scripted server: rule probes asked from the description, tools and sample
// state (never the spec), a probe mismatch repaired from its diagnostic, a wrong probe
// withdrawn by the model, a malformed probe answer reported (the spec is still kept), passing
// probes recorded in examples.jsonl beside the spec (which `envc examples --check` replays),
// and the report's fuzz coverage and mutation score, the same on a rerun from the cache.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, lastUser, messageText, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";
import { shelfSpec, specAnswer, requestedEnv } from "./fixtures.js";
import { parseWrongProbes } from "../../synth/probes.js";

/** The shelf with the rule the description states: a title cannot be empty. */
const withTitleRule = (spec: string) =>
  spec.replace(
    `action rename(book_id: string, title: string) -> Book "Rename a book." {
  let b = books[book_id] else "Book not found"`,
    `action rename(book_id: string, title: string) -> Book "Rename a book." {
  let b = books[book_id] else "Book not found"
  require title != "" else "The title must not be empty"`,
  );

const probe = (id: string, calls: [string, unknown][], expect: "ok" | "refused", field: string | null = null, equals: unknown = null) => ({
  id, rule: `rule of ${id}`, calls: calls.map(([name, args]) => ({ name, arguments_json: JSON.stringify(args) })), expect,
  field, equals_json: field === null ? null : JSON.stringify(equals),
});

const PROBES = [
  probe("rename_empty_title", [["rename", { book_id: "B1", title: "" }]], "refused"),
  probe("add_two_copies", [["add_copies", { book_id: "B1", amount: 2 }]], "ok", "copies", 4),
  probe("zero_copies", [["add_copies", { book_id: "B2", amount: 0 }]], "refused"),
  probe("rename_then_read", [["rename", { book_id: "B2", title: "Emma (annotated)" }], ["get_book", { book_id: "B2" }]], "ok", "title", "Emma (annotated)"),
  probe("new_book_restocked", [["add_book", { title: "Ubik" }], ["add_copies", { book_id: "$1.book_id", amount: 2 }]], "ok", "copies", 3),
  probe("fly_away", [["fly", {}]], "ok"),
];

/** The scripted model: specs by env name and round; probes by environment. */
function model(req: StubRequest): StubReply {
  const last = lastUser(req);
  const users = messageText(req, "user");
  if (users.startsWith("## Rule probes")) {
    const env = /^Environment: (\S+)/m.exec(users)![1]!;
    if (env === "garbled-shelf") return { content: "Here are some probes: rename B1 to nothing, it should fail." };
    if (env === "doubting-shelf") return { json: { probes: [probe("read_b9", [["get_book", { book_id: "B9" }]], "ok"), PROBES[1]] } };
    return { json: { probes: PROBES } };
  }
  const env = requestedEnv(messageText(req, "user"));
  const repair = last.startsWith("## Repair");
  const spec = shelfSpec(env);
  switch (env) {
    case "ProbedShelf": // round one: no rule against an empty title, which a probe catches
      return { content: specAnswer(repair ? withTitleRule(spec) : spec) };
    case "DoubtingShelf": // its probe asks for a book the state does not have: the model says so
      return { content: specAnswer(withTitleRule(spec)) + (repair ? "\n```wrong-probes\nread_b9: the sample state has no book B9\n```\n" : "") };
    case "StubbornShelf": // never keeps the rule, never says the probe is wrong
      return { content: specAnswer(spec) };
    case "GarbledShelf":
    case "PlainShelf":
      return { content: specAnswer(withTitleRule(spec)) };
  }
  throw new Error(`unexpected env ${env}`);
}

let stub: OpenAiStub;
let dir: string;
const f = (...p: string[]) => path.join(dir, ...p);
const llmArgs = () => ["--base-url", stub.url, "--model", "stub-model", "--cache", f("cache"), "--retry-base-ms", "5"];
const readReport = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const describeEnv = (name: string) =>
  JSON.stringify({ name, summary: `A shelf of books (${name}).`, introduction: "Books with copies; titles are never empty; amounts added are positive.", usefulness: 4, modelability: 5, tasks: [] });
const probeRequests = () => stub.chats().filter((r) => messageText(r, "user").startsWith("## Rule probes"));

beforeAll(async () => {
  stub = await startOpenAiStub({ respond: model });
  dir = mkdtempSync(path.join(tmpdir(), "envc-synth-evidence-"));
  writeFileSync(f("descriptions.jsonl"), ["probed-shelf", "doubting-shelf", "garbled-shelf"].map(describeEnv).join("\n") + "\n");
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("synth keeps the evidence", () => {
  let first: Awaited<ReturnType<typeof runEnvc>>;
  let sent = 0;
  const run = () => runEnvc(["synth", "specs", "--descriptions", f("descriptions.jsonl"), "--out", f("envs"), "--rounds", "2", "--mutants", "12", ...llmArgs()]);

  it("repairs a spec that a rule probe catches, withdraws a wrong probe, survives a malformed probe answer", async () => {
    first = await run();
    sent = stub.chats().length;
    expect(first.code).toBe(0);
    expect(first.err).toContain(`kept spec probed-shelf -> ${f("envs")}/probed-shelf/probed-shelf.env (1 repair round)`);
    expect(first.err).toContain(`kept spec doubting-shelf -> ${f("envs")}/doubting-shelf/doubting-shelf.env (1 repair round)`);
    expect(first.err).toContain(`kept spec garbled-shelf -> ${f("envs")}/garbled-shelf/garbled-shelf.env`);
    expect(first.err).toMatch(/evidence: \d+ examples \(5 from probes\); probes 5\/6 passed; fuzz 100 runs: 4\/4 tools reached, \d+\/\d+ requires failed; mutation score \d+% \(\d+\/\d+\)/);
    expect(first.err).toContain("probes: the probe answer could not be used: no valid JSON after 3 answers");
    expect(first.err).toMatch(/\n  evidence of kept environments: \d+ examples; rule probes 6\/8 passed \(1 withdrawn, 1 malformed, 1 answer unusable\); fuzz 12\/12 tools reached, 15\/15 requires failed; mean mutation score \d+%\n/);
    // specs: probed 2, doubting 2, garbled 1; probes: one request each, the garbled one sent back twice
    expect(probeRequests()).toHaveLength(5);
    expect(sent).toBe(10);
  });

  it("asks for probes from the description, the tools and the sample state, never the spec", () => {
    const req = probeRequests().find((r) => messageText(r, "user").includes("Environment: probed-shelf"))!;
    const text = req.body.messages.map((m: { content: string }) => m.content).join("\n");
    expect(text).toContain("titles are never empty");
    expect(text).toContain('"name": "rename"'); // tools.json
    expect(text).toContain('"title": "Dune"'); // the sample state
    expect(text).not.toContain("action rename");
    expect(text).not.toContain("env ProbedShelf");
    expect(req.body.response_format?.type).toBe("json_schema");
  });

  it("sends the mismatch to the repair round with the probe, the expected and the actual outcome", () => {
    const repair = stub.chats().map(lastUser).find((t) => t.startsWith("## Repair: probe mismatch") && t.includes("rename_empty_title"))!;
    expect(repair).toContain("## Repair: probe mismatch (round 1 of 2)");
    expect(repair).toContain('- probe rename_empty_title (rule: "rule of rename_empty_title"):');
    expect(repair).toContain('1. rename({"book_id":"B1","title":""})');
    expect(repair).toContain("expected: the last call is refused");
    expect(repair).toContain('actual: it succeeded: {"ok":true,"value":{"book_id":"B1","title":"","copies":2}}');
    expect(repair).toContain("```wrong-probes");
    expect(repair).not.toContain("add_two_copies"); // passing probes are not sent
    const report = readReport(f("envs", "synth-report.jsonl"));
    expect(report[0].history).toEqual([
      'round 0: probe_mismatch: 1 of 5 rule probes disagrees with the spec: rename_empty_title: expected the last call is refused; it succeeded: {"ok":true,"value":{"book_id":"B1","title":"","copies":2}}',
    ]);
    expect(readFileSync(f("envs", "probed-shelf", "probed-shelf.env"), "utf8")).toContain('require title != "" else "The title must not be empty"');
  });

  it("drops a probe the model names as wrong, and says so in the report", () => {
    const report = readReport(f("envs", "synth-report.jsonl"));
    const doubting = report[1];
    expect(doubting.history[0]).toMatch(/^round 0: probe_mismatch: 1 of 2 rule probes disagrees with the spec: read_b9: expected the last call succeeds; it was refused \(precondition\): "Book not found"/);
    expect(doubting.evidence.probes).toEqual({ asked: 2, passed: 1, kept: ["probe.add_two_copies"], malformed: [], withdrawn: [{ id: "read_b9", reason: "the sample state has no book B9" }] });
  });

  it("reports the probes, the fuzz coverage, the examples and the mutation score of each kept spec", () => {
    const report = readReport(f("envs", "synth-report.jsonl"));
    const e = report[0].evidence;
    expect(e.probes).toEqual({
      asked: 6, passed: 5, kept: ["probe.rename_empty_title", "probe.add_two_copies", "probe.zero_copies", "probe.rename_then_read", "probe.new_book_restocked"],
      malformed: [{ id: "fly_away", problem: "calls[0]: there is no tool 'fly'" }], withdrawn: [],
    });
    expect(e.fuzz).toMatchObject({ runs: 100, toolsReached: 4, tools: 4 });
    expect(e.fuzz.perTool.map((t: { tool: string; reached: boolean }) => [t.tool, t.reached])).toEqual([["get_book", true], ["add_copies", true], ["add_book", true], ["rename", true]]);
    expect(e.fuzz.requiresFailedFraction).toBeGreaterThan(0);
    expect(e.fuzz.requiresFailed).toBeLessThanOrEqual(e.fuzz.requires);
    for (const n of e.fuzz.neverFailed) expect(n).toMatch(new RegExp(`^${f("envs")}/probed-shelf/probed-shelf.env:\\d+:\\d+: `));
    expect(e.examples).toMatchObject({ file: f("envs", "probed-shelf", "examples.jsonl"), probes: 5, notReached: [] });
    expect(e.mutation.sampled).toBeGreaterThan(0);
    expect(e.mutation.killed + e.mutation.survived).toBeGreaterThan(0);
    expect(e.mutation.score).toBeGreaterThanOrEqual(0);
    expect(e.mutation.score).toBeLessThanOrEqual(1);
    expect(e.mutation.killedBy.example).toBeGreaterThan(0); // the recorded examples kill mutants
    expect(report[2].evidence.probes.error).toMatch(/^the probe answer could not be used: no valid JSON after 3 answers/);
    expect(report[2].evidence.examples.probes).toBe(0);
  });

  it("keeps passing probes in examples.jsonl, which envc examples --check replays", async () => {
    const episodes = readFileSync(f("envs", "probed-shelf", "examples.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const probes = episodes.filter((e) => e.id.startsWith("probe."));
    expect(probes.map((p) => p.id)).toEqual(["probe.rename_empty_title", "probe.add_two_copies", "probe.zero_copies", "probe.rename_then_read", "probe.new_book_restocked"]);
    // a reference to what an earlier call returned is recorded as the id it resolved to
    const restocked = probes.at(-1).calls;
    expect(restocked[1]).toEqual({ name: "add_copies", arguments: { book_id: expect.stringMatching(/^B/), amount: 2 } });
    expect(probes[0]).toEqual({ id: "probe.rename_empty_title", goal: "included", initial: "state.json", calls: [{ name: "rename", arguments: { book_id: "B1", title: "" } }] });
    const check = await runEnvc(["examples", f("envs"), "--check"]);
    expect(check.code).toBe(0);
    expect(check.out).toContain(`${f("envs")}/probed-shelf/probed-shelf.env: ${episodes.length} examples replay as recorded`);
    // recording again keeps the probes (they are included episodes)
    const again = await runEnvc(["examples", f("envs", "probed-shelf")]);
    expect(again.code).toBe(0);
    expect(readFileSync(f("envs", "probed-shelf", "examples.jsonl"), "utf8")).toContain('"id":"probe.rename_then_read"');
  });

  it("reruns from the cache with the same evidence", async () => {
    const items = () => readFileSync(f("envs", "synth-report.jsonl"), "utf8").split("\n").filter((l) => l.startsWith('{"kind":"item"'));
    const before = items();
    const second = await run();
    expect(second.code).toBe(0);
    expect(stub.chats().length).toBe(sent);
    expect(items()).toEqual(before);
  });

  it("asks for no probes with --no-probes, and records examples all the same", async () => {
    const sentBefore = stub.chats().length;
    const r = await runEnvc(["synth", "env", "A plain shelf", "--out", f("plain"), "--no-probes", "--mutants", "0", ...llmArgs()]);
    expect(r.code).toBe(0);
    expect(stub.chats().slice(sentBefore).some((q) => lastUser(q).startsWith("## Rule probes"))).toBe(false);
    const e = readReport(f("plain", "synth-report.jsonl"))[0].evidence;
    expect(e.probes).toBeUndefined();
    expect(e.mutation).toBeUndefined();
    expect(e.examples.count).toBeGreaterThan(0);
    expect(r.err).toMatch(/evidence: \d+ examples; fuzz 100 runs: 4\/4 tools reached/);
  });
});

describe("a probe mismatch never repaired", () => {
  it("drops the spec with the probe, the expected and the actual outcome", async () => {
    const r = await runEnvc(["synth", "env", "A stubborn shelf", "--out", f("stubborn"), "--rounds", "1", "--mutants", "0", ...llmArgs()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("dropped spec stubborn-shelf (probe_mismatch): 1 of 5 rule probes disagrees with the spec: rename_empty_title: expected the last call is refused; it succeeded");
    const item = readReport(f("stubborn", "synth-report.jsonl"))[0];
    expect(item).toMatchObject({ fate: "dropped", reason: "probe_mismatch", rounds: 1 });
    expect(item.diagnostics).toEqual([{
      probe: "rename_empty_title", rule: "rule of rename_empty_title", calls: [{ name: "rename", arguments: { book_id: "B1", title: "" } }],
      expected: "the last call is refused", actual: 'it succeeded: {"ok":true,"value":{"book_id":"B1","title":"","copies":2}}',
    }]);
    expect(item.evidence.probes).toMatchObject({ asked: 6, passed: 0, kept: [] });
    expect(existsSync(f("stubborn", "stubborn-shelf"))).toBe(false);
  });
});

describe("parseWrongProbes", () => {
  it("reads id: reason lines of a wrong-probes block, and nothing else", () => {
    expect(parseWrongProbes("text\n```wrong-probes\nread_b9: no such book\n- `other`: misread\nbare_id\n```\n```json\n{}\n```")).toEqual([
      { id: "read_b9", reason: "no such book" },
      { id: "other", reason: "misread" },
      { id: "bare_id", reason: "(no reason given)" },
    ]);
    expect(parseWrongProbes("```env\nenv X\n```")).toEqual([]);
  });
});
