// `envc synth specs` and `envc synth env` end to end through runCli, the real `openai` client
// and the scripted server: a spec fixed in round two from compiler diagnostics, one never
// fixed (dropped with its last diagnostics), a fuzz counterexample and an invalid sample state
// repaired, the report and metrics, and a rerun that sends zero requests.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, lastUser, messageText, type OpenAiStub, type StubRequest } from "../support/openai-stub.js";
import { GOOD_STATE, shelfSpec, specAnswer, withTypo, withFault, requestedEnv } from "./fixtures.js";
import { specSystemPrompt, DEFAULT_EXAMPLES } from "../../synth/prompts.js";

let stub: OpenAiStub;
let dir: string;

/** The scripted model: what it writes depends on the environment asked for and the round. */
function model(req: StubRequest) {
  const env = requestedEnv(messageText(req, "user"));
  const repair = lastUser(req).startsWith("## Repair");
  const spec = shelfSpec(env);
  switch (env) {
    case "TypoShelf": // round one: an unknown type; round two: fixed
      return { content: specAnswer(repair ? spec : withTypo(spec)) };
    case "NeverShelf": // always the same compile error
      return { content: specAnswer(withTypo(spec)) };
    case "FaultyShelf": // round one: a tool that faults on an unknown id, which fuzzing finds
      return { content: specAnswer(repair ? spec : withFault(spec)) };
    case "StateShelf": // round one: a sample state that breaks the invariant and a reference
      return { content: specAnswer(spec, repair ? GOOD_STATE : { ...GOOD_STATE, books: { B1: { book_id: "B1", title: "Dune", copies: -1 } } }) };
    case "BookShelf":
      return { content: specAnswer(spec) };
    case "ProseShelf": // round one: prose, no fenced blocks
      return { content: repair ? specAnswer(spec) : "Sure! A shelf has books and members; the tools add copies." };
    case "NamedShelf": // round one: another env name in the header; round two: an empty table
      return { content: repair ? (lastUser(req).includes("round 1 of") ? specAnswer(spec, { ...GOOD_STATE, members: {} }) : specAnswer(spec)) : specAnswer(shelfSpec("Shelf")) };
  }
  throw new Error(`unexpected env ${env}`);
}

const descriptions = ["typo-shelf", "never-shelf", "faulty-shelf", "state-shelf"].map((name) =>
  JSON.stringify({ name, summary: `A shelf of books (${name}).`, introduction: "Books with copies; members borrow them.", usefulness: 4, modelability: 5, tasks: [] }),
);

// rule probes, examples and the mutation score are tested in evidence.test.ts
const noEvidence = ["--no-probes", "--mutants", "0"];
const llmArgs = () => ["--base-url", stub.url, "--model", "stub-model", "--cache", path.join(dir, "cache"), "--retry-base-ms", "5", "--concurrency", "2"];
const readReport = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

beforeAll(async () => {
  stub = await startOpenAiStub({ respond: model });
  dir = mkdtempSync(path.join(tmpdir(), "envc-synth-specs-"));
  writeFileSync(path.join(dir, "descriptions.jsonl"), descriptions.join("\n") + "\n");
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("envc synth specs", () => {
  let first: Awaited<ReturnType<typeof runEnvc>>;
  let requestsAfterFirst = 0;
  const out = () => path.join(dir, "envs");

  it("keeps what compiles, has a valid state and survives fuzzing; repairs the rest or drops it", async () => {
    first = await runEnvc(["synth", "specs", "--descriptions", path.join(dir, "descriptions.jsonl"), "--out", out(), "--rounds", "2", "--fuzz-runs", "100", ...noEvidence, ...llmArgs()]);
    requestsAfterFirst = stub.chats().length;
    expect(first.code).toBe(0);
    expect(first.err).toContain(`kept spec typo-shelf -> ${out()}/typo-shelf/typo-shelf.env (1 repair round)`);
    expect(first.err).toContain("dropped spec never-shelf (compile_errors): 1 compile error: ENV2002 at 7:11 Unknown type 'integer'");
    expect(first.err).toContain("environments: 4 attempted, 3 kept, 1 dropped (compile_errors 1)");
    expect(first.err).toContain("repair rounds of kept environments: 3 after 1 round (mean 1)");
    expect(first.err).toMatch(/requests: 9 sent, 0 cache hits; tokens: [\d,]+ in, [\d,]+ out; \d+\.\d s/);
    // typo 2 + never 3 + faulty 2 + state 2
    expect(requestsAfterFirst).toBe(9);
  });

  it("sends compiler diagnostics back as JSON with the source lines around them", () => {
    const repairs = stub.chats().filter((r) => requestedEnv(messageText(r, "user")) === "TypoShelf" && lastUser(r).startsWith("## Repair"));
    expect(repairs).toHaveLength(1);
    const text = lastUser(repairs[0]!);
    expect(text).toContain("## Repair: compile errors (round 1 of 2)");
    const json = JSON.parse(text.slice(text.indexOf("["), text.lastIndexOf("]") + 1));
    expect(json[0]).toMatchObject({ code: "ENV2002", line: 7, column: 11, message: "Unknown type 'integer'" });
    expect(json[0].source).toContain("> 7 |   copies: integer\n    |           ^^^^^^^");
    // only the latest attempt goes back: system, request, the answer, the feedback
    expect(repairs[0]!.body.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user", "assistant", "user"]);
  });

  it("sends a fuzz counterexample and state problems back", () => {
    const repairOf = (env: string) => stub.chats().map(lastUser).find((t, i) => t.startsWith("## Repair") && requestedEnv(messageText(stub.chats()[i]!, "user")) === env)!;
    const fuzz = repairOf("FaultyShelf");
    expect(fuzz).toContain("## Repair: fuzz finding (round 1 of 2)");
    expect(fuzz).toContain("environment fault in rename");
    expect(fuzz).toMatch(/> \d+ \|   let b = books\[book_id\]\n/);
    expect(fuzz).toMatch(/1\. rename\(\{"book_id":/);
    const state = repairOf("StateShelf");
    expect(state).toContain("## Repair: invalid state");
    expect(state).toContain("$.books.B1: breaks invariant copies_not_negative");
    expect(state).toContain("copies_not_negative");
  });

  it("writes kept environments that compile, with their sample state", async () => {
    const specFile = path.join(out(), "typo-shelf", "typo-shelf.env");
    expect(readFileSync(specFile, "utf8")).toContain("env TypoShelf");
    expect(JSON.parse(readFileSync(path.join(out(), "state-shelf", "state.json"), "utf8"))).toEqual(GOOD_STATE);
    expect(existsSync(path.join(out(), "never-shelf"))).toBe(false);
    const check = await runEnvc(["check", out()]);
    expect(check.code).toBe(0);
    expect(check.out).toContain("3 specs checked: 0 errors");
    const call = await runEnvc(["call", specFile, "add_copies", '{"book_id": "B1", "amount": 2}']);
    expect(call.code).toBe(0);
  });

  it("reports each item's fate, the last diagnostics of a dropped one, and the metrics", () => {
    const report = readReport(path.join(out(), "synth-report.jsonl"));
    expect(report.map((r) => [r.item, r.fate, r.reason ?? null, r.rounds])).toEqual([
      ["typo-shelf", "kept", null, 1],
      ["never-shelf", "dropped", "compile_errors", 2],
      ["faulty-shelf", "kept", null, 1],
      ["state-shelf", "kept", null, 1],
      [undefined, undefined, null, undefined],
    ]);
    const never = report[1];
    expect(never.diagnostics[0]).toMatchObject({ code: "ENV2002", severity: "error", file: "never-shelf.env", span: { start: { line: 7, column: 11 } } });
    expect(never.history).toEqual([0, 1, 2].map((r) => `round ${r}: compile_errors: 1 compile error: ENV2002 at 7:11 Unknown type 'integer'`));
    expect(report[2].history[0]).toMatch(/^round 0: fuzz_finding: fuzzing found env_fault in rename/);
    const metrics = report.at(-1);
    expect(metrics.kind).toBe("metrics");
    expect(metrics.stages.spec).toEqual({ attempted: 4, kept: 3, dropped: 1, droppedBy: { compile_errors: 1 }, keptByRounds: { "1": 3 }, meanRoundsKept: 1, evidence: expect.any(Object) });
    expect(metrics).toMatchObject({ requests: 9, cacheHits: 0, failedAttempts: 0 });
    expect(metrics.tokens.prompt).toBeGreaterThan(9 * 5000); // the language reference and an example spec in every prompt
  });

  it("reruns from the cache: zero requests, the same files byte for byte", async () => {
    const before = readFileSync(path.join(out(), "typo-shelf", "typo-shelf.env"), "utf8");
    const reportItems = () => readFileSync(path.join(out(), "synth-report.jsonl"), "utf8").split("\n").filter((l) => l.startsWith('{"kind":"item"'));
    const itemsBefore = reportItems();
    const second = await runEnvc(["synth", "specs", "--descriptions", path.join(dir, "descriptions.jsonl"), "--out", out(), "--rounds", "2", "--fuzz-runs", "100", ...noEvidence, ...llmArgs()]);
    expect(second.code).toBe(0);
    expect(stub.chats().length).toBe(requestsAfterFirst);
    expect(second.err).toMatch(/requests: 0 sent, 9 cache hits/);
    expect(readFileSync(path.join(out(), "typo-shelf", "typo-shelf.env"), "utf8")).toBe(before);
    expect(itemsBefore).toHaveLength(4);
    expect(reportItems()).toEqual(itemsBefore); // only the metrics line (what this run sent, how long) differs
    const items = (t: string) => t.split("\n").filter((l) => !l.startsWith("requests:"));
    expect(items(second.err)).toEqual(items(first.err));
  });
});

describe("envc synth env", () => {
  it("writes one environment from a description on the command line", async () => {
    const out = path.join(dir, "one");
    const r = await runEnvc(["synth", "env", "A book shelf", "--out", out, "--fuzz-runs", "50", ...noEvidence, ...llmArgs()]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`kept spec book-shelf -> ${out}/book-shelf/book-shelf.env`);
    const request = stub.chats().at(-1)!;
    expect(lastUser(request)).toContain("Header: `env BookShelf \"...\"`");
    expect(lastUser(request)).toContain("Summary: A book shelf");
  });

  it("embeds the language reference and the example spec in the prompt", () => {
    const system = specSystemPrompt(DEFAULT_EXAMPLES);
    expect(system).toContain("# The `.env` language");
    expect(system).toContain("## Example: specs/banking/banking.env");
    expect(stub.chats().at(-1)!.body.messages[0].content).toBe(system);
  });

  it("stops with one clear line when the server fails (resuming is tested in failures.test.ts)", async () => {
    const storm = await startOpenAiStub();
    for (let i = 0; i < 3; i++) storm.enqueue({ status: 503, message: "no capacity" });
    const out = path.join(dir, "storm");
    const args = ["synth", "env", "A storm shelf", "--out", out, "--base-url", storm.url, "--model", "stub-model", "--cache", path.join(dir, "cache"), "--retries", "2", "--retry-base-ms", "5"];
    const r = await runEnvc(args);
    expect(r.code).toBe(1);
    const last = r.err.split("\n").at(-1)!;
    expect(last).toBe(`envc: the server at ${storm.url} kept failing: 503 no capacity (3 attempts); the answers received so far are cached in ${path.join(dir, "cache")}: rerun to resume`);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(readReport(path.join(out, "synth-report.jsonl")).at(-1).aborted).toContain("kept failing");
    await storm.close();
  });

  it("sends back an answer without blocks, a wrong header and an empty table", async () => {
    const sent = stub.chats().length;
    const prose = await runEnvc(["synth", "env", "A shelf in prose", "--name", "prose-shelf", "--out", path.join(dir, "prose"), "--fuzz-runs", "0", ...noEvidence, ...llmArgs()]);
    expect(prose.code).toBe(0);
    expect(lastUser(stub.chats()[sent + 1]!)).toContain("Your answer could not be used: the answer holds no fenced block: write the spec in a ```env block and the sample state in a ```json block.");
    const named = await runEnvc(["synth", "env", "A named shelf", "--name", "named-shelf", "--out", path.join(dir, "named"), "--fuzz-runs", "0", ...noEvidence, ...llmArgs()]);
    expect(named.code).toBe(0);
    expect(named.err).toContain("(2 repair rounds)");
    const report = readReport(path.join(dir, "named", "synth-report.jsonl"))[0];
    expect(report.history).toEqual([
      "round 0: wrong_name: the header names env Shelf, not NamedShelf",
      "round 1: invalid_state: empty tables in the sample state: members",
    ]);
    const feedback = stub.chats().slice(-2).map(lastUser);
    expect(feedback[0]).toContain('The header must be `env NamedShelf "..."` (it is `env Shelf`)');
    expect(feedback[1]).toContain("The sample state has no records in members");
  });

  it("says what to set when no key is given for a remote server", async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const r = await runEnvc(["synth", "env", "A shelf", "--out", path.join(dir, "nokey"), "--base-url", "https://llm.example.com/v1", "--model", "m"]);
      expect(r.code).toBe(2);
      expect(r.err).toBe("envc: OPENAI_API_KEY is not set (needed for https://llm.example.com/v1): export it or pass --api-key; servers on localhost (Ollama, vLLM) need none");
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it("names the line of a malformed descriptions file", async () => {
    writeFileSync(path.join(dir, "bad.jsonl"), '{"name": "a", "summary": "b"}\n{"name": 3}\n');
    const r = await runEnvc(["synth", "specs", "--descriptions", path.join(dir, "bad.jsonl"), "--out", path.join(dir, "x"), ...llmArgs()]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`envc: ${path.join(dir, "bad.jsonl")}:2: expected {"name": "hotel-booking", "summary": "...", "introduction": "..."}`);
  });
});
