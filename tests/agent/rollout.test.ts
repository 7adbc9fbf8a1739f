// `envc rollout` end to end through runCli, the real `openai` client and the scripted server on
// loopback, on the bundled Library scenarios. The scripted agent plays each scenario's reference
// solution as tool calls (one per turn, chosen by how many tool results it has seen) and then
// answers in text; for Amelia's scenario it first makes two mistakes (an unknown tool, arguments
// that are not JSON), which come back as observations. The scripted user says the task, then
// thanks the agent with the stop marker. Also: --samples 2 (seeds 0 and 1), output order that
// does not follow completion order (Marcus's answers are slow), a rerun that sends nothing, a
// resume after a mid-run outage, the step limit in both modes (a user who never says the
// marker), an environment fault recorded while the episode goes on, a server that repeats tool
// call ids or rejects every request, `envc export` on the output, and the one-line errors.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { startOpenAiStub, type OpenAiStub, type StubRequest, type StubReply } from "../support/openai-stub.js";
import { loadServedEnvs } from "../../server/load.js";
import type { ScenarioDef } from "../../runtime/index.js";
import { parseTrajectories, type Trajectory } from "../../agent/trajectory.js";
import { STOP_MARKER } from "../../agent/user-sim.js";
import { GOOD_STATE, shelfSpec, withFault } from "../synth/fixtures.js";

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

/** While set, the server fails (503) Amelia's requests after her third tool result: a mid-run outage. */
let outage = false;

/** The Shelf scenario's agent: a call that faults (an unknown id reaches a lookup without `else`), then the fix. */
function shelfAgent(req: StubRequest): StubReply {
  const seen = (req.body.messages as { role: string }[]).filter((m) => m.role === "tool").length;
  if (seen === 0) return { toolCalls: [{ name: "rename", arguments: { book_id: "B9", title: "Dune (2nd ed.)" } }] };
  if (seen === 1) return { toolCalls: [{ name: "rename", arguments: { book_id: "B1", title: "Dune (2nd ed.)" } }] };
  return { content: "Renamed." };
}

function model(req: StubRequest): StubReply {
  const msgs: { role: string; content?: unknown }[] = req.body.messages;
  if (text(msgs[0]!).startsWith("A small book shelf")) return shelfAgent(req);
  const sc = scenarioOf(req);
  if (!req.body.tools) {
    if (req.body.model === "stub-chatty-user") return { content: msgs.length === 2 ? sc.task : "Anything else you can tell me?" };
    // the simulated user: the task first, then thanks and the stop marker
    return msgs.filter((m) => m.role === "assistant").length === 0 ? { content: sc.task } : { content: `Great, thank you. ${STOP_MARKER}` };
  }
  const seen = msgs.filter((m) => m.role === "tool").length;
  if (req.body.model === "stub-rejects") return { status: 400, message: "the prompt is too long for this model" };
  if (req.body.model === "stub-dup-ids") {
    // a server that gives every call the same id: the whole solution as parallel calls, then text
    return seen ? { content: "Done." } : { toolCalls: sc.solution.map((s) => ({ name: s.name, arguments: s.arguments, id: "call_0" })) };
  }
  const mistakes = sc.id === "amelia_returns_and_picks_up" ? 2 : 0;
  if (outage && mistakes && seen >= 3) return { status: 503, message: "the server is overloaded" };
  if (seen === 0 && mistakes) return { toolCalls: [{ name: "renew_everything", arguments: {} }] };
  if (seen === 1 && mistakes) return { toolCalls: [{ name: "get_member", arguments: '{"member_id": "M006"' }] };
  const step = sc.solution[seen - mistakes];
  if (step) return { toolCalls: [{ name: step.name, arguments: step.arguments }], content: seen === mistakes ? "Let me look into it." : null };
  return { content: `All done for ${sc.id}.` };
}

/** A scenario for the Shelf spec of tests/synth/fixtures.ts (with `withFault`, renaming an unknown id faults). */
const SHELF_SCENARIO = `
scenario rename_dune "Rename Dune" {
  init from "state.json"
  task """Rename Dune (B1) to "Dune (2nd ed.)"."""
  check "Is Dune renamed?": books["B1"].title == "Dune (2nd ed.)"
  solution {
    rename(book_id: "B1", title: "Dune (2nd ed.)")
  }
}
`;

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
  // Marcus's agent answers slowly, so his episodes finish last: the output order must not follow.
  // (The delay is here, not the stub's `delayMs`: that one never answers after a delay on Node 20,
  // where the request reads as destroyed once its body is consumed; it only serves timeouts.)
  stub = await startOpenAiStub({
    respond: async (req) => {
      const reply = model(req);
      if (req.body.tools && !text(req.body.messages[0]).startsWith("A small book shelf") && scenarioOf(req).id === "marcus_settles_up")
        await new Promise((r) => setTimeout(r, 15));
      return reply;
    },
  });
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

describe("envc rollout, conversation mode, a user who never stops", () => {
  it("ends at the step limit, the reward still scored", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--user-model", "stub-chatty-user", "--max-steps", "8", "--out", out("chatty.jsonl"), ...llmArgs()]);
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(0);
    const [t] = read(out("chatty.jsonl"));
    const marcus = scenarios.find((s) => s.id === "marcus_settles_up")!;
    // 5 tool turns and a reply, then two more replies to "anything else?", then the limit
    expect(t).toMatchObject({ mode: "conversation", ended: "step_limit", steps: 8 });
    expect(t!.steps).toBe(marcus.solution.length + 3);
    expect(t!.messages.filter((m) => m.role === "user").map(text)).toEqual([marcus.task, ...Array(3).fill("Anything else you can tell me?")]);
    expect(t!.messages.at(-1)!.role).toBe("user");
    expect(t!.reward.reward).toBe(1);
    expect(r.err).toContain("ended: step_limit 1");
  });
});

describe("envc rollout, environment faults", () => {
  it("records a fault, returns it to the agent and goes on; the reward is null", async () => {
    const shelf = out("faulty-shelf");
    mkdirSync(shelf, { recursive: true });
    writeFileSync(path.join(shelf, "shelf.env"), withFault(shelfSpec("Shelf")) + SHELF_SCENARIO);
    writeFileSync(path.join(shelf, "state.json"), JSON.stringify(GOOD_STATE));
    const r = await runEnvc(["rollout", shelf, "--out", out("faults.jsonl"), ...llmArgs()]);
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(0);
    const [t] = read(out("faults.jsonl"));
    expect(t).toMatchObject({ env: "Shelf", scenario: "rename_dune", ended: "reply", steps: 3 });
    expect(t!.faults).toHaveLength(1);
    expect(t!.faults[0]).toMatchObject({ call: 0, error: expect.stringContaining("B9") });
    expect(t!.faults[0]!.location).toMatch(/shelf\.env:\d+:\d+$/);
    const tools = t!.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(text(m)));
    expect(tools[0]).toMatchObject({ ok: false, kind: "env_fault" });
    expect(tools[1]).toMatchObject({ ok: true });
    // the checks still ran (the rename after the fault took), but a faulted episode is unscored
    expect(t!.reward).toMatchObject({ reward: null, passed: 1, total: 1, envFaults: 1, agentErrors: 0 });
    expect(r.err).toContain("reward: mean -, 0 at 1, 1 unscored; faults: 1 in 1 episode");
    // and `envc export --no-faults` leaves it out
    const e = await runEnvc(["export", out("faults.jsonl"), "--no-faults", "--openai", out("faults-sft.jsonl")]);
    expect(e.code).toBe(0);
    expect(readFileSync(out("faults-sft.jsonl"), "utf8")).toBe("");
  });
});

describe("envc rollout, resume and odd servers", () => {
  it("resumes after the server failed mid-run: the rerun sends only what is missing, same episodes", async () => {
    const argv = ["rollout", LIBRARY, "--scenario", "amelia_returns_and_picks_up", "--scenario", "marcus_settles_up", "--out", out("resumed.jsonl"),
      "--base-url", stub.url, "--model", "stub-agent", "--cache", out("cache-resume"), "--retries", "0"];
    const before = stub.chats().length;
    outage = true;
    let r;
    try {
      r = await runEnvc(argv);
    } finally {
      outage = false;
    }
    expect(r.code).toBe(1);
    const answered = stub.chats().length - before - 1; // the one 503 is not cached
    expect(answered).toBeGreaterThan(3);
    const lines = r.err.split("\n").filter((l) => l.startsWith("envc:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/503.*rerun to resume; nothing written to /);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(out("resumed.jsonl"))).toBe(false);

    const r2 = await runEnvc(argv);
    expect(r2.code).toBe(0);
    const marcus = scenarios.find((s) => s.id === "marcus_settles_up")!;
    const amelia = scenarios.find((s) => s.id === "amelia_returns_and_picks_up")!;
    const total = marcus.solution.length + 1 + amelia.solution.length + 3;
    expect(r2.err).toContain(`requests: ${total - answered} sent, ${answered} cache hits`);
    // the same episodes as sample 0 of the first run (the stub numbers its call ids per answer,
    // and counts prompt tokens by characters, ids included)
    const ids = (t: Trajectory) => JSON.stringify({ ...t, usage: null }).replace(/call_\d+_\d+/g, "call");
    const first = read(out("task.jsonl")).filter((t) => t.sample === 0);
    expect(read(out("resumed.jsonl")).map(ids)).toEqual(first.map(ids));
  });

  it("makes tool call ids unique when the server repeats them", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--out", out("dup.jsonl"), ...llmArgs().map((a) => (a === "stub-agent" ? "stub-dup-ids" : a))]);
    expect(r.code).toBe(0);
    const [t] = read(out("dup.jsonl"));
    const calls = t!.messages.flatMap((m) => (m.role === "assistant" ? m.tool_calls ?? [] : []));
    expect(calls.map((c) => c.id)).toEqual(["call_0", "call_0_2", "call_0_3", "call_0_4", "call_0_5"]);
    expect(t!.messages.filter((m) => m.role === "tool").map((m) => (m as { tool_call_id: string }).tool_call_id)).toEqual(calls.map((c) => c.id));
    expect(t!.reward.reward).toBe(1);
    const e = await runEnvc(["export", out("dup.jsonl"), "--openai", out("dup-sft.jsonl")]);
    expect(e.code).toBe(0);
    expect(raw(out("dup-sft.jsonl"))).toHaveLength(1);
  });

  it("a server that rejects every request: each episode ends in an error, exit 1 with one envc line", async () => {
    const r = await runEnvc(["rollout", LIBRARY, "--scenario", "marcus_settles_up", "--out", out("rejected.jsonl"), ...llmArgs().map((a) => (a === "stub-agent" ? "stub-rejects" : a))]);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).toContain("episode Library/marcus_settles_up sample 0 ended early: ");
    const lines = r.err.split("\n").filter((l) => l.startsWith("envc:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^envc: every episode ended with an error \(the first: .*too long for this model\)/);
    expect(read(out("rejected.jsonl"))).toHaveLength(1); // valid, though it has no agent turn
    expect(raw(out("rejected.jsonl"))[0]).toMatchObject({ ended: "error", steps: 0, error: expect.stringContaining("too long for this model") });
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
  it("judges answer checks on what the agent said, and outcomes on the final state", async () => {
    const line = {
      ...DATASET_LINE, id: "quick_return_said", task: "Check in Educated (C1012) for Marcus (M002), then tell me you are done.",
      checks: [...DATASET_LINE.checks, { text: "Did the agent say it is done?", expr: 'mentions(reply, "all done")' }],
      reply: "All done.", outcomes: [{ text: "Nothing else changed" }], reward: "all",
    };
    writeFileSync(out("said.jsonl"), JSON.stringify(line) + "\n");
    scenarios.push(...(await loadServedEnvs([LIBRARY, out("said.jsonl")])).envs[0]!.scenarios.map((s) => s.def).filter((d) => d.id === line.id));
    const r = await runEnvc(["rollout", LIBRARY, "--dataset", out("said.jsonl"), "--out", out("said-run.jsonl"), ...llmArgs()]);
    expect(r.code, r.err).toBe(0);
    const [t] = read(out("said-run.jsonl"));
    // the stub agent ends with "All done for quick_return_said."
    expect(t!.reward).toMatchObject({
      reward: 1,
      checks: [
        { check: "Is loan L006 returned today?", passed: true },
        { check: "Did the agent say it is done?", passed: true, part: "answer" },
        { check: "Nothing else changed", passed: true, part: "outcome" },
      ],
    });
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

  it.each([
    ["an unknown environment", ["--env", "Nope"], /^envc: no environment named 'Nope' among the inputs \(there are: Library\)$/],
    ["--samples 0", ["--samples", "0"], /^error: option '--samples <k>' argument '0' is invalid\. expected an integer >= 1/],
    ["--max-steps 0", ["--max-steps", "0"], /^error: option '--max-steps <n>' argument '0' is invalid/],
    ["a missing dataset", ["--dataset", "@/missing.jsonl"], /^envc: cannot read the dataset .*missing\.jsonl: no such file$/],
    ["a dataset that is not JSONL", ["--dataset", "@/scenarios.json"], /^envc: --dataset .*scenarios\.json: a dataset is a JSONL file of scenarios \(\*\.jsonl\)$/],
    ["an empty dataset", ["--dataset", "@/empty.jsonl"], /^envc: .*empty\.jsonl holds no scenarios of the environment given$/],
    ["--out naming a folder", ["--out", "@/folder.jsonl"], /^envc: --out .*folder\.jsonl is a folder: name a file$/],
    ["--out not JSONL", ["--out", "@/x.json"], /^envc: --out .*x\.json: name the trajectories file \*\.jsonl$/],
    ["--report the same file as --out", ["--report", "@/x.jsonl"], /^envc: --report .*x\.jsonl is the --out file: name another file for the report$/],
    ["--user-model in task mode", ["--mode", "task", "--user-model", "u"], /^envc: --user-model is for --mode conversation/],
  ])("%s: one line, exit 2, no request", async (_what, extra, message) => {
    mkdirSync(out("folder.jsonl"), { recursive: true });
    writeFileSync(out("empty.jsonl"), "");
    const before = stub.requests.length;
    const argv = ["rollout", LIBRARY, "--out", out("x.jsonl"), ...llmArgs(), ...extra.map((a) => a.replace("@", dir))];
    const r = await runEnvc(argv);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toMatch(message);
    expect(r.err.split("\n").filter((l) => !l.startsWith("(run with --help"))).toHaveLength(1);
    expect(stub.requests.length).toBe(before);
    expect(existsSync(out("x.jsonl"))).toBe(false);
  });

  it("a malformed dataset: its file:line:col, exit 1, no request", async () => {
    writeFileSync(out("broken.jsonl"), JSON.stringify(DATASET_LINE) + "\n{not json\n");
    const before = stub.requests.length;
    const r = await runEnvc(["rollout", LIBRARY, "--dataset", out("broken.jsonl"), "--out", out("x.jsonl"), ...llmArgs()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${out("broken.jsonl")}:2:2`);
    expect(r.err).toMatch(/Line 2 is not valid JSON/);
    expect(r.err.split("\n").at(-1)).toMatch(/^envc rollout: 1 error, 0 warnings; fix the inputs first \(envc verify .*broken\.jsonl\)$/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(stub.requests.length).toBe(before);
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
