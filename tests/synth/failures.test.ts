// How synth runs fail and recover, end to end through runCli, the real `openai` client and the
// scripted server: a run stopped by a server that starts failing mid-run resumes from the
// cache (it sends only what it lacks and writes what an uninterrupted run writes, byte for
// byte); a damaged cache entry is asked again; a request the server rejects (a prompt over
// the context length) drops its item only and does not cost the run its structured outputs;
// outputs that cannot be written and unusable example specs are refused before any request.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, lastUser, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";

/** id, task text, and the summary the model gives its environment (no two alike). */
const TASKS = [
  ["hotel", "Book a double room at the Harbor hotel.", "Guests reserve hotel rooms for given nights."],
  ["library", "Borrow a copy of Dune for member M1.", "Members borrow and return library books."],
  ["bank", "Move 40 dollars from checking to savings.", "Customers transfer money between bank accounts."],
  ["clinic", "Book Dr. Ito for Tuesday at 9.", "Patients book appointments with clinic doctors."],
  ["fleet", "Assign van V3 to route R7.", "Dispatchers assign delivery vans to routes."],
  ["shop", "Cancel order O12 and refund it.", "Shoppers place, cancel and return store orders."],
] as const;

let stub: OpenAiStub;
let dir: string;
/** after this many answers the server answers 503 to everything (undefined: never) */
let failAfter: number | undefined;
let answered = 0;

function model(req: StubRequest): StubReply {
  if (failAfter !== undefined && answered >= failAfter) return { status: 503, message: "no capacity" };
  const last = lastUser(req);
  const task = TASKS.find(([, text]) => last.includes(text));
  if (last.includes("HUGE")) return { status: 400, message: "This model's maximum context length is 8192 tokens" };
  if (!task) return { status: 400, message: `unexpected request: ${last.slice(0, 80)}` };
  answered++;
  if (last.startsWith("## Step 1 of 2")) return { json: { stateful: true, reasons: "It changes records." } };
  return { json: { name: task[0], summary: task[2], introduction: "Entities, tools and rules.", usefulness: 4, modelability: 4 } };
}

const f = (name: string) => path.join(dir, name);
const args = (out: string, cache: string, extra: string[] = []) =>
  ["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", f(out), "--base-url", stub.url, "--model", "stub-model", "--cache", f(cache), "--concurrency", "1", "--retries", "1", "--retry-base-ms", "5", ...extra];
const items = (file: string) => readFileSync(file, "utf8").trim().split("\n").slice(0, -1).join("\n");
const cacheFiles = (cache: string) => readdirSync(f(cache), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));

beforeAll(async () => {
  stub = await startOpenAiStub({ respond: model });
  dir = mkdtempSync(path.join(tmpdir(), "envc-synth-failures-"));
  writeFileSync(f("tasks.jsonl"), TASKS.map(([id, task]) => JSON.stringify({ id, task })).join("\n") + "\n");
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a run stopped by the server resumes from the cache", () => {
  it("writes what an uninterrupted run writes, sending only the requests it lacks", async () => {
    // the reference: one run that is never interrupted (12 requests: two per task)
    failAfter = undefined;
    const reference = await runEnvc(args("reference.jsonl", "cache-ref"));
    expect(reference.code).toBe(0);
    expect(stub.chats()).toHaveLength(12);

    // the server fails after 5 answers: the run stops with one line and writes no output
    failAfter = answered + 5;
    const before = stub.chats().length;
    const stopped = await runEnvc(args("resumed.jsonl", "cache"));
    expect(stopped.code).toBe(1);
    expect(stopped.err.split("\n").at(-1)).toBe(`envc: the server at ${stub.url} kept failing: 503 no capacity (2 attempts); the answers received so far are cached in ${f("cache")}: rerun to resume`);
    expect(stopped.err).not.toMatch(/\n\s+at /);
    expect(existsSync(f("resumed.jsonl"))).toBe(false); // nothing half-written
    expect(stub.chats().length - before).toBe(7); // 5 answered, then the first try and one retry
    expect(cacheFiles("cache")).toHaveLength(5);
    expect(cacheFiles("cache").filter((p) => p.includes(".tmp-"))).toEqual([]);
    const report = readFileSync(f("resumed.report.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(report.at(-1).aborted).toBe(`the server at ${stub.url} kept failing: 503 no capacity (2 attempts)`);

    // the server is back: the rerun sends the 7 requests it lacks, and ends where the reference did
    failAfter = undefined;
    const sent = stub.chats().length;
    const resumed = await runEnvc(args("resumed.jsonl", "cache"));
    expect(resumed.code).toBe(0);
    expect(stub.chats().length - sent).toBe(7);
    expect(resumed.err).toMatch(/requests: 7 sent, 5 cache hits/);
    expect(readFileSync(f("resumed.jsonl"), "utf8")).toBe(readFileSync(f("reference.jsonl"), "utf8"));
    expect(items(f("resumed.report.jsonl"))).toBe(items(f("reference.report.jsonl")));
  });

  it("asks again for an answer whose cache entry is damaged, and for nothing else", async () => {
    const [victim] = cacheFiles("cache").sort();
    writeFileSync(victim!, '{"key": "cut off mid-wri');
    const sent = stub.chats().length;
    const r = await runEnvc(args("resumed.jsonl", "cache"));
    expect(r.code).toBe(0);
    expect(stub.chats().length - sent).toBe(1);
    expect(r.err).toMatch(/requests: 1 sent, 11 cache hits/);
    expect(JSON.parse(readFileSync(victim!, "utf8")).key).toBe(path.basename(victim!, ".json")); // rewritten whole
    expect(readFileSync(f("resumed.jsonl"), "utf8")).toBe(readFileSync(f("reference.jsonl"), "utf8"));
  });
});

describe("a request the server rejects", () => {
  it("drops its item only, and keeps JSON-schema output for the others", async () => {
    writeFileSync(f("huge.jsonl"), [JSON.stringify({ id: "huge", task: "HUGE task text" }), ...TASKS.slice(0, 2).map(([id, task]) => JSON.stringify({ id, task }))].join("\n") + "\n");
    const sent = stub.chats().length;
    const r = await runEnvc(["synth", "topics", "--tasks", f("huge.jsonl"), "--out", f("huge-out.jsonl"), "--base-url", stub.url, "--model", "stub-model", "--no-cache", "--concurrency", "1", "--retry-base-ms", "5"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`dropped topic huge (request_rejected): the server at ${stub.url} rejected the request: 400 This model's maximum context length is 8192 tokens`);
    expect(r.err).toContain("tasks: 3 attempted, 2 kept, 1 dropped (request_rejected 1)");
    const chats = stub.chats().slice(sent);
    // the rejected request was tried in each format (the server might not support them)...
    expect(chats.filter((q) => lastUser(q).includes("HUGE")).map((q) => q.body.response_format?.type ?? "prompt")).toEqual(["json_schema", "json_object", "prompt"]);
    // ...but since no format helped, the other requests still ask for JSON-schema output
    expect(chats.filter((q) => !lastUser(q).includes("HUGE")).map((q) => q.body.response_format?.type)).toEqual(["json_schema", "json_schema", "json_schema", "json_schema"]);
    const metrics = JSON.parse(readFileSync(f("huge-out.report.jsonl"), "utf8").trim().split("\n").at(-1)!);
    expect(metrics.structured).toBe("json_schema");
  });
});

describe("refused before any request", () => {
  const refused = async (argv: string[], message: string) => {
    const sent = stub.requests.length;
    const r = await runEnvc(argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`envc: ${message}`);
    expect(stub.requests.length).toBe(sent);
  };
  const llm = () => ["--base-url", stub.url, "--model", "stub-model", "--cache", f("cache")];

  it("an output, report or cache that cannot be written", async () => {
    writeFileSync(f("a-file"), "");
    await refused(["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", dir, ...llm()], `--out ${dir} is a folder: name a file`);
    await refused(["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", f("a-file/d.jsonl"), ...llm()], `cannot write --out ${f("a-file/d.jsonl")}: ${f("a-file")} is a file, not a folder`);
    await refused(["synth", "specs", "--descriptions", f("reference.jsonl"), "--out", f("a-file"), ...llm()], `--out ${f("a-file")} is a file: name a folder (it is created when missing)`);
    await refused(["synth", "env", "A shelf", "--out", f("envs"), "--report", f("a-file/r.jsonl"), ...llm()], `cannot write the report ${f("a-file/r.jsonl")}: ${f("a-file")} is a file, not a folder`);
    await refused(["synth", "topics", "--tasks", f("tasks.jsonl"), "--out", f("d.jsonl"), ...llm(), "--cache", f("a-file")], `the cache folder ${f("a-file")} is a file: name a folder (it is created when missing)`);
  });

  it("an example spec that is missing or does not compile", async () => {
    await refused(["synth", "env", "A shelf", "--out", f("envs"), "--example", f("nope.env"), ...llm()], `cannot read the example spec ${f("nope.env")}: no such file`);
    writeFileSync(f("broken.env"), 'env Broken "x"\nstate { n: integer }\n');
    await refused(["synth", "env", "A shelf", "--out", f("envs"), "--example", f("broken.env"), ...llm()], `the example spec ${f("broken.env")} is not a spec that compiles (see envc check ${f("broken.env")}); the model learns from it, so give a sound one`);
  });
});
