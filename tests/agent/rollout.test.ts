// `envc rollout` end to end through runCli, the real `openai` client and the scripted server on
// loopback, on the bundled Library scenarios. The scripted agent plays each scenario's reference
// solution as tool calls (one per turn, chosen by how many tool results it has seen) and then
// answers in text; for Amelia's scenario it first makes two mistakes (an unknown tool, arguments
// that are not JSON), which come back as observations. The scripted user says the task, then
// thanks the agent with the stop marker. Also: --samples 2 (seeds 0 and 1), a rerun that sends
// nothing, the step limit, `envc export` on the output, and the one-line errors.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";
import { loadServedEnvs } from "../../server/load.js";
import type { ScenarioDef } from "../../runtime/index.js";
import { parseTrajectories, type Trajectory } from "../../agent/trajectory.js";
import { STOP_MARKER } from "../../agent/user-sim.js";
import { GOOD_STATE, shelfSpec } from "../synth/fixtures.js";

const LIBRARY = path.resolve("specs/library");
let stub: OpenAiStub;
let dir: string;
let scenarios: ScenarioDef[];

const text = (m: { content?: unknown }) => (typeof m.content === "string" ? m.content : "");

/** The scenario a request is about: its task is the first user message (agent) or in the system prompt (user). */
function scenarioOf(req: StubRequest): ScenarioDef {
  const msgs: { role: string; content?: unknown }[] = req.body.messages;
  const s = req.body.tools
    ? scenarios.find((x) => text(msgs.find((m) => m.role === "user")!) === x.task)
    : scenarios.find((x) => text(msgs[0]!).includes(x.task.trim()));
  if (!s) throw new Error("the request names no Library scenario");
  return s;
}

function model(req: StubRequest): StubReply {
  const msgs: { role: string; content?: unknown }[] = req.body.messages;
  const sc = scenarioOf(req);
  if (!req.body.tools) {
    // the simulated user: the task first, then thanks and the stop marker
    return msgs.filter((m) => m.role === "assistant").length === 0 ? { content: sc.task } : { content: `Great, thank you. ${STOP_MARKER}` };
  }
  const mistakes = sc.id === "amelia_returns_and_picks_up" ? 2 : 0;
  const seen = msgs.filter((m) => m.role === "tool").length;
  if (seen === 0 && mistakes) return { toolCalls: [{ name: "renew_everything", arguments: {} }] };
  if (seen === 1 && mistakes) return { toolCalls: [{ name: "get_member", arguments: '{"member_id": "M006"' }] };
  const step = sc.solution[seen - mistakes];
  if (step) return { toolCalls: [{ name: step.name, arguments: step.arguments }], content: seen === mistakes ? "Let me look into it." : null };
  return { content: `All done for ${sc.id}.` };
}

const out = (name: string) => path.join(dir, name);
const llmArgs = () => ["--base-url", stub.url, "--model", "stub-agent", "--cache", out("cache"), "--retry-base-ms", "5"];
const read = (file: string): Trajectory[] =>
  parseTrajectories(readFileSync(file, "utf8")).map((p) => {
    if (!p.ok) throw new Error(`${file}:${p.line}: ${p.problem}`);
    return p.trajectory;
  });
const raw = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

/** A one-line dataset: a scenario of the Library not in its spec. */
const DATASET_LINE = {
  env: "Library",
  id: "quick_return",
  task: "Marcus Johnson (M002) is returning Educated, copy C1012. Check it in.",
  initial: path.join(LIBRARY, "state.json"),
  checks: [{ text: "Is loan L006 returned today?", expr: 'loans["L006"].returned_on == today' }],
  solution: [{ name: "return_copy", arguments: { copy_id: "C1012" } }],
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-rollout-"));
  writeFileSync(out("dataset.jsonl"), JSON.stringify(DATASET_LINE) + "\n");
  const loaded = await loadServedEnvs([LIBRARY, out("dataset.jsonl")]);
  scenarios = loaded.envs[0]!.scenarios.map((s) => s.def);
  stub = await startOpenAiStub({ respond: model });
});
afterAll(async () => {
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("envc rollout, task mode", () => {
  const args = () => ["rollout", LIBRARY, "--scenario", "amelia_returns_and_picks_up", "--scenario", "marcus_settles_up", "--samples", "2", "--out", out("task.jsonl"), ...llmArgs()];

  it("plays the reference solutions to reward 1, in input order, valid trajectories", async () => {
    const r = await runEnvc(args());
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(0);
    const ts = read(out("task.jsonl"));
    // the spec's order (marcus before amelia), then sample
    expect(ts.map((t) => `${t.scenario}/${t.sample}`)).toEqual(["marcus_settles_up/0", "marcus_settles_up/1", "amelia_returns_and_picks_up/0", "amelia_returns_and_picks_up/1"]);
    const marcus = scenarios.find((s) => s.id === "marcus_settles_up")!;
    for (const t of ts) {
      expect(t).toMatchObject({ env: "Library", mode: "task", model: "stub-agent", ended: "reply", faults: [] });
      expect(t.reward.reward).toBe(1);
      expect(t.reward.checks.every((c) => c.passed && c.check.length > 0)).toBe(true);
      expect(t.messages[0]!.role).toBe("system");
      expect(text(t.messages[0]!)).toContain("Rules:");
      expect(t.messages[1]).toEqual({ role: "user", content: scenarios.find((s) => s.id === t.scenario)!.task });
      expect(t.messages.at(-1)).toEqual({ role: "assistant", content: `All done for ${t.scenario}.` });
      expect(t.tools.map((x) => x.function.name)).toContain("checkout");
      expect(t.usage.prompt_tokens).toBeGreaterThan(0);
    }
    expect(ts[0]!.reward.checks.map((c) => c.check)).toEqual(marcus.checks.map((c) => c.text));
    expect(ts[0]!.steps).toBe(marcus.solution.length + 1);
    expect(ts[0]!.reward.calls).toBe(marcus.solution.length);
    // samples differ by seed: sample k sends seed k
    const seeds = new Set(stub.chats().map((q) => q.body.seed));
    expect([...seeds].sort()).toEqual([0, 1]);
    expect(stub.chats().every((q) => q.body.tools?.length > 0 && q.body.model === "stub-agent")).toBe(true);
    expect(r.err).toContain("episodes: 4 (2 scenarios); ended: reply 4");
    expect(r.err).toMatch(/reward: mean 1\.000, 4 at 1; faults: 0 in 0 episodes; agent errors: 4/);
    expect(r.err).toMatch(new RegExp(`requests: ${stub.chats().length} sent, 0 cache hits`));
    const report = raw(out("task.report.jsonl"));
    expect(report).toHaveLength(5);
    expect(report[4]).toMatchObject({ kind: "metrics", mode: "task", episodes: 4, solved: 4, meanReward: 1 });
  });

  it("returns tool errors to the agent as observations", () => {
    const amelia = read(out("task.jsonl"))[2]!;
    const tool = amelia.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(text(m)));
    expect(tool[0]).toMatchObject({ ok: false, kind: "unknown_tool" });
    expect(tool[1]).toMatchObject({ ok: false, kind: "invalid_args" });
    expect(tool[1].error).toContain("not valid JSON");
    expect(tool[2].ok).toBe(true);
    expect(amelia.reward).toMatchObject({ reward: 1, agentErrors: 2, envFaults: 0 });
    // text beside a tool call is kept
    expect(amelia.messages[6]).toMatchObject({ role: "assistant", content: "Let me look into it." });
  });

  it("answers a rerun from the cache: zero requests, the same bytes", async () => {
    const before = stub.requests.length;
    const first = readFileSync(out("task.jsonl"), "utf8");
    const r = await runEnvc(args());
    expect(r.code).toBe(0);
    expect(stub.requests.length).toBe(before);
    expect(readFileSync(out("task.jsonl"), "utf8")).toBe(first);
    expect(r.err).toMatch(/requests: 0 sent, \d+ cache hits/);
  });

  it("stops at the step limit", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--max-steps", "2", "--out", out("short.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(0);
    const [t] = read(out("short.jsonl"));
    expect(t).toMatchObject({ ended: "step_limit", steps: 2 });
    expect(t!.messages.at(-1)!.role).toBe("tool");
    expect(t!.reward.reward).toBeLessThan(1);
    expect(r.err).toContain("requests: 0 sent"); // the same requests as sample 0 above
  });
});

describe("envc rollout, conversation mode", () => {
  it("a simulated user states the task and ends with the stop marker", async () => {
    const before = stub.chats().length;
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--user-model", "stub-user", "--seed", "7", "--out", out("conv.jsonl"), ...llmArgs()]);
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(0);
    const [t] = read(out("conv.jsonl"));
    const marcus = scenarios.find((s) => s.id === "marcus_settles_up")!;
    expect(t).toMatchObject({ mode: "conversation", ended: "stop_marker", model: "stub-agent" });
    expect(raw(out("conv.jsonl"))[0]).toMatchObject({ user_model: "stub-user", user_usage: { prompt_tokens: expect.any(Number) } });
    expect(t!.reward.reward).toBe(1);
    const users = t!.messages.filter((m) => m.role === "user").map(text);
    expect(users).toEqual([marcus.task, `Great, thank you. ${STOP_MARKER}`]);
    expect(t!.messages.at(-1)!.role).toBe("user");
    // the simulated user: its own model, temperature 0, the fixed seed, the goal and the marker in its prompt
    const userReqs = stub.chats().slice(before).filter((q) => !q.body.tools);
    expect(userReqs).toHaveLength(2);
    for (const q of userReqs) {
      expect(q.body).toMatchObject({ model: "stub-user", temperature: 0, seed: 7 });
      expect(q.body.messages[0].content).toContain(marcus.task.trim());
      expect(q.body.messages[0].content).toContain(marcus.persona);
      expect(q.body.messages[0].content).toContain(STOP_MARKER);
    }
    expect(userReqs[0]!.body.messages.at(-1)).toEqual({ role: "user", content: "Hi! How can I help you today?" });
    expect(userReqs[1]!.body.messages.at(-1)).toEqual({ role: "user", content: "All done for marcus_settles_up." });
    expect(stub.chats().slice(before).filter((q) => q.body.tools).every((q) => q.body.seed === 7)).toBe(true);
    expect(r.err).toContain("ended: stop_marker 1");
  });
});

describe("envc rollout --dataset", () => {
  it("rolls out only the dataset's scenarios", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--dataset", out("dataset.jsonl"), "--out", out("dataset-run.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(0);
    const ts = read(out("dataset-run.jsonl"));
    expect(ts.map((t) => t.scenario)).toEqual(["quick_return"]);
    expect(ts[0]!.reward).toMatchObject({ reward: 1, checks: [{ check: "Is loan L006 returned today?", passed: true }] });
  });
});

describe("envc export on rollout output", () => {
  it("writes both SFT formats", async () => {
    const r = await runEnvc(["export", out("task.jsonl"), out("conv.jsonl"), out("short.jsonl"), "--min-reward", "1", "--openai", out("sft-openai.jsonl"), "--sharegpt", out("sft-sharegpt.jsonl")]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("export: 5/6 trajectories kept (dropped 1 below reward 1 or unscored)");
    const openai = raw(out("sft-openai.jsonl"));
    const sharegpt = raw(out("sft-sharegpt.jsonl"));
    expect(openai).toHaveLength(5);
    expect(sharegpt).toHaveLength(5);
    const marcus = scenarios.find((s) => s.id === "marcus_settles_up")!;
    const first = openai[0];
    expect(first.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user", ...marcus.solution.flatMap(() => ["assistant", "tool"]), "assistant"]);
    expect(JSON.parse(first.messages[2].tool_calls[0].function.arguments)).toEqual(marcus.solution[0]!.arguments);
    expect(first.tools.find((t: { function: { name: string } }) => t.function.name === "checkout")).toBeDefined();
    const conv = sharegpt[4];
    expect(conv.conversations[0]).toEqual({ from: "human", value: marcus.task });
    expect(conv.conversations[1]).toEqual({ from: "function_call", value: JSON.stringify({ name: marcus.solution[0]!.name, arguments: marcus.solution[0]!.arguments }) });
    expect(conv.conversations[2].from).toBe("observation");
    // ends at the agent's last turn: the stop-marker message is not kept
    expect(conv.conversations.at(-1)).toEqual({ from: "gpt", value: "All done for marcus_settles_up." });
    expect(conv.system).toContain("Rules:");
    expect(JSON.parse(conv.tools).map((t: { name: string }) => t.name)).toContain("pay_fines");
  });
});

describe("envc rollout errors", () => {
  it("an unknown scenario is one line, exit 2", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "nope", "--out", out("x.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^envc: unknown scenario 'nope' \(there are: marcus_settles_up, /);
    expect(r.err.split("\n")).toHaveLength(1);
  });

  it("inputs without scenarios: one line, exit 2", async () => {
    const shelf = out("shelf");
    mkdirSync(shelf, { recursive: true });
    writeFileSync(path.join(shelf, "shelf.env"), shelfSpec("Shelf"));
    writeFileSync(path.join(shelf, "state.json"), JSON.stringify(GOOD_STATE));
    const r = await runEnvc(["rollout", shelf, "--out", out("x.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^envc: the inputs hold no scenarios to roll out/);
  });

  it("an unreachable server: one line, exit 1, nothing written", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--out", out("down.jsonl"), "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--no-cache", "--retries", "0"]);
    expect(r.code).toBe(1);
    const lines = r.err.split("\n").filter((l) => l.startsWith("envc:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("cannot reach the server at http://127.0.0.1:9/v1");
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(() => readFileSync(out("down.jsonl"))).toThrow();
  });

  it("--help documents the modes and the stop marker", async () => {
    const r = await runEnvc(["rollout", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--samples <k>");
    expect(r.out).toContain(STOP_MARKER);
  });
});
