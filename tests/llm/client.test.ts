// The LLM client layer through the real `openai` package against the scripted server on
// loopback: retries on 429, a 500 storm ending in one clear error, timeouts, malformed JSON
// repaired, the structured-output step-down, the cache (a rerun sends nothing), tool calls,
// the concurrency limit and the accounting.
import { describe, expect, it, beforeEach, afterEach } from "vitest";
import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { LlmClient, LlmError, OutputError, extractJson, type LlmConfig } from "../../llm/client.js";
import { resolveLlmConfig, ConfigError } from "../../llm/config.js";
import { startOpenAiStub, lastUser, type OpenAiStub } from "../support/openai-stub.js";

const Answer = z.object({ stateful: z.boolean(), reasons: z.string() });
const ask = (text = "Book a room") => ({ name: "stateful", schema: Answer, messages: [{ role: "user" as const, content: text }] });

let stub: OpenAiStub;
let dir: string;
beforeEach(async () => {
  stub = await startOpenAiStub();
  dir = mkdtempSync(path.join(tmpdir(), "envc-llm-"));
});
afterEach(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(over: Partial<LlmConfig> = {}): LlmClient {
  return new LlmClient({
    baseURL: stub.url, apiKey: "test-key", model: "stub-model", concurrency: 2, cacheDir: path.join(dir, "cache"),
    timeoutMs: 5_000, retries: 3, retryBaseMs: 5, retryMaxMs: 50, structured: "auto", ...over,
  });
}

describe("LLM client", () => {
  it("retries a 429 and then succeeds, counting both requests", async () => {
    stub.enqueue({ status: 429, message: "slow down", headers: { "retry-after-ms": "20" } }, { json: { stateful: true, reasons: "rooms" } });
    const llm = client();
    const started = performance.now();
    const r = await llm.json(ask());
    expect(r.value).toEqual({ stateful: true, reasons: "rooms" });
    expect(stub.chats()).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19); // Retry-After honoured over the 5 ms backoff
    expect(llm.stats).toMatchObject({ requests: 2, failedAttempts: 1, cacheHits: 0 });
    expect(stub.chats()[0]!.headers.authorization).toBe("Bearer test-key");
  });

  it("ends a 500 storm with one clear error and sends nothing after it", async () => {
    for (let i = 0; i < 4; i++) stub.enqueue({ status: 500, message: "model overloaded" });
    const llm = client();
    const err = await llm.json(ask()).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe("server_error");
    expect(err.fatal).toBe(true);
    expect(err.message).toBe(`the server at ${stub.url} kept failing: 500 model overloaded (4 attempts)`);
    expect(stub.chats()).toHaveLength(4); // the first try and 3 retries
    // the client has failed: the next call does not reach the server
    await expect(llm.json(ask("another"))).rejects.toBe(err);
    expect(stub.chats()).toHaveLength(4);
  });

  it("retries an answer whose body is not JSON, and names it when it persists", async () => {
    stub.enqueue({ raw: "<html>502 Bad Gateway</html>" }, { content: "ok" });
    expect((await client().chat({ messages: [{ role: "user", content: "x" }] })).message.content).toBe("ok");
    stub.enqueue({ raw: "<html>" }, { raw: "<html>" });
    const err = await client({ retries: 1 }).chat({ messages: [{ role: "user", content: "y" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.message).toMatch(new RegExp(`^the server at ${stub.url.replace(/[.]/g, "\\.")} kept sending answers that are not JSON \\(2 attempts\\)`));
  });

  it("retries a request that runs past the timeout", async () => {
    stub.enqueue({ json: { stateful: false, reasons: "late" }, delayMs: 1_000 }, { json: { stateful: true, reasons: "in time" } });
    const llm = client({ timeoutMs: 150 });
    const r = await llm.json(ask());
    expect(r.value.reasons).toBe("in time");
    expect(llm.stats).toMatchObject({ requests: 2, failedAttempts: 1 });
  });

  it("gives up on a server that never answers in time, saying what to change", async () => {
    for (let i = 0; i < 2; i++) stub.enqueue({ json: {}, delayMs: 1_000 });
    const err = await client({ timeoutMs: 100, retries: 1 }).json(ask()).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe("timeout");
    expect(err.message).toContain("did not answer within 0.1 s (2 attempts); raise --timeout");
  });

  it("against a server that hangs: retries a timeout once only (not --retries times), saying meanwhile what it waits for", async () => {
    for (let i = 0; i < 5; i++) stub.enqueue({ json: {}, delayMs: 2_000 });
    const notices: string[] = [];
    const llm = new LlmClient(
      { baseURL: stub.url, apiKey: "k", model: "stub-model", concurrency: 1, timeoutMs: 300, retries: 4, retryBaseMs: 5, retryMaxMs: 50, structured: "auto", waitNoticeMs: 100 },
      (m) => notices.push(m),
    );
    const started = performance.now();
    const err = await llm.json(ask()).catch((e) => e);
    expect(err.kind).toBe("timeout");
    expect(err.message).toContain("did not answer within 0.3 s (2 attempts)");
    expect(stub.chats()).toHaveLength(2); // not 5: two silent attempts tell a hung server
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices[0]).toMatch(/^waiting for stub-model at http:\/\/127\.0\.0\.1:\d+\/v1: 1 request unanswered, the oldest for 0\.\d s \(an attempt gives up after 0\.3 s, --timeout; a request that times out 2 times stops the run\)$/);
  });

  it("sends malformed JSON back for repair, then accepts the fixed answer", async () => {
    stub.enqueue({ content: "Sure! {stateful: yes, reasons: rooms" }, { json: { stateful: "yes", reasons: 3 } }, { json: { stateful: true, reasons: "rooms" } });
    const llm = client();
    const r = await llm.json(ask());
    expect(r.value).toEqual({ stateful: true, reasons: "rooms" });
    const [, second, third] = stub.chats();
    expect(lastUser(second!)).toMatch(/^Your answer could not be used: not valid JSON/);
    expect(second!.body.messages.at(-2)).toEqual({ role: "assistant", content: "Sure! {stateful: yes, reasons: rooms" });
    expect(lastUser(third!)).toContain("the JSON does not match the schema: stateful:");
    expect(llm.stats.jsonRepairs).toBe(2);
  });

  it("drops the answer (not the run) when the JSON never becomes valid", async () => {
    for (let i = 0; i < 3; i++) stub.enqueue({ content: "I cannot answer in JSON." });
    const llm = client();
    const err = await llm.json(ask()).catch((e) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect(err.message).toMatch(/^no valid JSON after 3 answers: not valid JSON/);
    stub.enqueue({ json: { stateful: true, reasons: "fine" } });
    expect((await llm.json(ask("next"))).value.reasons).toBe("fine"); // the client still works
  });

  it("asks for JSON-schema output, and steps down to JSON mode when the server refuses it", async () => {
    await stub.close();
    stub = await startOpenAiStub({ rejectJsonSchema: true });
    stub.enqueue({ json: { stateful: true, reasons: "ok" } });
    const llm = client();
    const r = await llm.json(ask());
    expect(r.value.stateful).toBe(true);
    const [first, second] = stub.chats();
    expect(first!.body.response_format.type).toBe("json_schema");
    expect(first!.body.response_format.json_schema).toMatchObject({ name: "stateful", strict: true, schema: { type: "object", required: ["stateful", "reasons"] } });
    expect(second!.body.response_format).toEqual({ type: "json_object" });
    expect(second!.body.messages[0].content).toContain('matches this JSON schema:\n{"type":"object"');
    expect(llm.stats.structured).toBe("json_object");
    stub.enqueue({ json: { stateful: false, reasons: "no" } });
    await llm.json(ask("again"));
    expect(stub.chats()[2]!.body.response_format).toEqual({ type: "json_object" }); // remembered
  });

  it("steps down to plain prompting when JSON mode is refused too, and keeps the JSON from prose", async () => {
    await stub.close();
    stub = await startOpenAiStub({
      respond: (req) => (req.body.response_format ? { status: 400, message: `response_format ${req.body.response_format.type} is not supported` } : { content: 'Sure:\n```json\n{"stateful": true, "reasons": "prose"}\n```' }),
    });
    const llm = client();
    expect((await llm.json(ask())).value).toEqual({ stateful: true, reasons: "prose" });
    expect(stub.chats().map((q) => q.body.response_format?.type ?? "none")).toEqual(["json_schema", "json_object", "none"]);
    expect(llm.stats.structured).toBe("prompt");
    await llm.json(ask("again"));
    expect(stub.chats()[3]!.body.response_format).toBeUndefined(); // remembered: one request, not three
    expect(stub.chats()).toHaveLength(4);
  });

  it("answers a rerun from the cache without sending a request", async () => {
    stub.enqueue({ json: { stateful: true, reasons: "a" } }, { content: "hello" });
    const first = client();
    await first.json(ask());
    await first.chat({ messages: [{ role: "user", content: "hi" }], temperature: 0 });
    expect(stub.chats()).toHaveLength(2);
    expect(readdirSync(path.join(dir, "cache")).length).toBeGreaterThan(0);

    const second = client({ structured: "prompt" }); // the format is not part of the key
    expect((await second.json(ask())).value.reasons).toBe("a");
    expect((await second.chat({ messages: [{ role: "user", content: "hi" }], temperature: 0 })).message.content).toBe("hello");
    expect(stub.chats()).toHaveLength(2);
    expect(second.stats).toMatchObject({ requests: 0, cacheHits: 2, promptTokens: 0 });
    // a different parameter is a different request
    stub.enqueue({ content: "hot" });
    expect((await second.chat({ messages: [{ role: "user", content: "hi" }], temperature: 1 })).cached).toBe(false);
  });

  it("passes tools and tool calls through, as rollouts need", async () => {
    stub.enqueue({ toolCalls: [{ name: "get_book", arguments: { book_id: "B1" } }] });
    const llm = client();
    const tools = [{ type: "function" as const, function: { name: "get_book", description: "Read one book.", parameters: { type: "object", properties: { book_id: { type: "string" } }, required: ["book_id"] } } }];
    const r = await llm.chat({ messages: [{ role: "user", content: "read B1" }], tools, toolChoice: "auto" });
    expect(r.finishReason).toBe("tool_calls");
    const call = r.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_book");
    expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({ book_id: "B1" });
    expect(stub.chats()[0]!.body.tools).toEqual(tools);
    expect(stub.chats()[0]!.body.tool_choice).toBe("auto");
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    await stub.close();
    let active = 0;
    let most = 0;
    stub = await startOpenAiStub({
      respond: async (req) => {
        most = Math.max(most, ++active);
        await new Promise((r) => setTimeout(r, 40));
        active--;
        return { json: { stateful: true, reasons: lastUser(req) } };
      },
    });
    const llm = client({ concurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => llm.json(ask(`task ${i}`))));
    expect(answers.map((a) => a.value.reasons)).toEqual(Array.from({ length: 9 }, (_, i) => `task ${i}`));
    expect(most).toBe(3);
  });

  it("counts tokens from the usage block, estimates them without one, and prices them", async () => {
    stub.enqueue({ content: "a", usage: { prompt: 1000, completion: 500 } }, { content: "x".repeat(400), usage: null });
    const llm = client({ pricing: { inputPer1k: 0.5, outputPer1k: 2 } });
    await llm.chat({ messages: [{ role: "user", content: "one" }] });
    await llm.chat({ messages: [{ role: "user", content: "two" }] });
    expect(llm.stats.estimatedUsage).toBe(1);
    expect(llm.stats.completionTokens).toBe(600); // 500 + 400 characters / 4
    expect(llm.stats.promptTokens).toBeGreaterThan(1000);
    expect(llm.stats.costUsd).toBeCloseTo((llm.stats.promptTokens * 0.5 + 600 * 2) / 1000, 9);
  });

  it("embeds texts and caches each vector", async () => {
    const llm = client();
    const v = await llm.embed(["hotel booking rooms", "hotel booking rooms", "a haiku"]);
    expect(v).toHaveLength(3);
    expect(v[0]).toEqual(v[1]);
    expect(stub.requests.filter((r) => r.path === "/v1/embeddings")).toHaveLength(1);
    await client().embed(["a haiku"]);
    expect(stub.requests.filter((r) => r.path === "/v1/embeddings")).toHaveLength(1);
  });

  it("stops at once on a refused key or an unknown model, saying what to check", async () => {
    stub.enqueue({ status: 401, message: "Incorrect API key provided" });
    const auth = await client().chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(auth).toMatchObject({ kind: "auth", fatal: true, attempts: 1 });
    expect(auth.message).toBe(`the server at ${stub.url} refused the API key: 401 Incorrect API key provided; set OPENAI_API_KEY or pass --api-key`);
    stub.enqueue({ status: 404, message: "model 'qwen9' not found" });
    const missing = await client().chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(missing).toMatchObject({ kind: "not_found", fatal: true });
    expect(missing.message).toBe(`the server at ${stub.url} answered 404: 404 model 'qwen9' not found; check --model and that the base URL ends in /v1`);
    expect(stub.chats()).toHaveLength(2); // neither is retried
  });

  it("names an unreachable server in one sentence", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await client({ baseURL: `http://127.0.0.1:${port}/v1`, retries: 1 }).chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.message).toBe(`cannot reach the server at http://127.0.0.1:${port}/v1: ECONNREFUSED (2 attempts); check --base-url (or OPENAI_BASE_URL) and that the server is running`);
  });
});

describe("LLM configuration", () => {
  it("needs a key for a remote server but not for one on loopback", () => {
    expect(() => resolveLlmConfig({ model: "m" }, {})).toThrow(ConfigError);
    expect(() => resolveLlmConfig({ model: "m" }, {})).toThrow(/OPENAI_API_KEY is not set \(needed for https:\/\/api.openai.com\/v1\)/);
    expect(resolveLlmConfig({ model: "m", baseUrl: "http://localhost:11434/v1" }, {}).apiKey).toBe("envc-local");
    expect(resolveLlmConfig({ model: "m" }, { OPENAI_API_KEY: "sk-1", OPENAI_BASE_URL: "https://example.com/v1/" })).toMatchObject({ apiKey: "sk-1", baseURL: "https://example.com/v1", cacheDir: ".envc-cache" });
    expect(() => resolveLlmConfig({}, { OPENAI_API_KEY: "k" })).toThrow(/pass --model/);
    expect(resolveLlmConfig({ cache: false }, { OPENAI_API_KEY: "k", ENVC_MODEL: "m" }).cacheDir).toBeUndefined();
  });

  it("extracts JSON from prose and fences", () => {
    expect(extractJson('Here:\n```json\n{"a": 1}\n```')).toEqual({ value: { a: 1 } });
    expect(extractJson('The answer is {"a": [1, 2]} as asked.')).toEqual({ value: { a: [1, 2] } });
    expect(extractJson("nothing")).toMatchObject({ error: expect.stringMatching(/^not valid JSON/) });
  });
});
