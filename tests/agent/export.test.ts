// `envc export` end to end through runCli on the fixture trajectories in tests/data/trajectories/
// (episodes over bundled scenarios, tool outputs and rewards from the real environments): both
// formats against golden files, each filter, bad input lines, outputs that would lose data, and
// the conversions' edge cases (alternation, unpaired tool calls).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";
import { parseTrajectories, type Trajectory } from "../../agent/trajectory.js";
import { toShareGpt, toOpenAI, exportTrajectories, pairingProblem } from "../../agent/export.js";
import { loadServedEnvs, SessionManager, systemPrompt } from "../../server/index.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const data = path.join(root, "tests/data/trajectories");
const A = path.join(data, "rollout-a.jsonl");
const B = path.join(data, "rollout-b.jsonl");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-export-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) => readFileSync(file, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
const fixtures = (): Trajectory[] => [A, B].flatMap((f) => parseTrajectories(readFileSync(f, "utf8")).map((p) => {
  if (!p.ok) throw new Error(`fixture ${f}:${p.line}: ${p.problem}`);
  return p.trajectory;
}));

describe("envc export", () => {
  it("writes both formats with --min-reward, byte for byte as the golden files, twice the same", async () => {
    const o = path.join(dir, "g", "openai.jsonl");
    const s = path.join(dir, "g", "sharegpt.jsonl");
    const r = await runEnvc(["export", A, B, "--openai", o, "--sharegpt", s, "--min-reward", "0.5"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("export: 3/5 trajectories kept (dropped 2 below reward 0.5 or unscored)");
    expect(readFileSync(o, "utf8")).toBe(readFileSync(path.join(data, "expected/openai-min-0.5.jsonl"), "utf8"));
    expect(readFileSync(s, "utf8")).toBe(readFileSync(path.join(data, "expected/sharegpt-min-0.5.jsonl"), "utf8"));
    const first = readFileSync(o, "utf8");
    expect((await runEnvc(["export", A, B, "--openai", o, "--min-reward", "0.5"])).code).toBe(0);
    expect(readFileSync(o, "utf8")).toBe(first);
  });

  it("OpenAI lines are {messages, tools}, cut after the agent's last turn", async () => {
    const o = path.join(dir, "all-openai.jsonl");
    const r = await runEnvc(["export", data, "--openai", o]); // a folder: its *.jsonl files, sorted
    expect(r.code).toBe(0);
    const out = lines(o);
    expect(out).toHaveLength(5);
    for (const l of out) expect(Object.keys(l)).toEqual(["messages", "tools"]);
    // the support-desk episode hit the step limit on a tool result: that result is not kept
    const support = out[3];
    expect(support.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]);
    expect(support.messages.at(-1).tool_calls[0].function).toEqual({ name: "assign_ticket", arguments: '{"ticket_id":"T1003","agent_id":"A002"}' });
    // the banking conversation ended with the simulated user's stop marker, after the agent's reply
    const banking = out[2];
    expect(banking.messages.at(-1).role).toBe("assistant");
    expect(banking.messages.filter((m: { role: string }) => m.role === "user")).toHaveLength(2);
    expect(banking.tools.map((t: { function: { name: string } }) => t.function.name)).toContain("deposit");
  });

  it("ShareGPT lines alternate human/observation with gpt/function_call; parallel calls and results are lists", async () => {
    const s = path.join(dir, "all-sharegpt.jsonl");
    const r = await runEnvc(["export", A, B, "--sharegpt", s]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("dropped it from 2 assistant messages");
    const out = lines(s);
    expect(out).toHaveLength(5);
    for (const l of out) {
      expect(Object.keys(l)).toEqual(["conversations", "system", "tools"]);
      l.conversations.forEach((c: { from: string }, i: number) =>
        expect(i % 2 === 0 ? ["human", "observation"] : ["gpt", "function_call"]).toContain(c.from));
      expect(l.conversations.length % 2).toBe(0);
      expect(Array.isArray(JSON.parse(l.tools))).toBe(true);
    }
    const banking = out[2].conversations;
    expect(banking[0].from).toBe("human");
    expect(JSON.parse(banking[1].value)).toEqual([
      { name: "customer_overview", arguments: { customer_id: "CU003" } },
      { name: "scheduled_transfers", arguments: { customer_id: "CU003" } },
    ]);
    const results = JSON.parse(banking[2].value);
    expect(results).toHaveLength(2);
    expect(JSON.parse(results[1]).value[0].transfer_id).toBe("TR006");
    expect(out[0].system).toMatch(/^Library circulation desk\./);
    expect(JSON.parse(out[0].tools)[0]).toMatchObject({ name: "search_catalog", parameters: { type: "object" } });
    // arguments the model wrote as text that is still JSON stay an object
    expect(JSON.parse(out[1].conversations[3].value)).toEqual({ name: "pay_fines", arguments: { member_id: "M002", amount: "11.50" } });
  });

  it("filters: --no-faults, --min-turns and --max-turns", async () => {
    const o = path.join(dir, "f.jsonl");
    const scenarios = () => lines(o).map((l) => l.messages[1].content.slice(0, 12));
    let r = await runEnvc(["export", A, B, "--openai", o, "--no-faults"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("export: 4/5 trajectories kept (dropped 1 with environment faults)");
    expect(lines(o).some((l) => JSON.stringify(l).includes("Daniel Reyes"))).toBe(false);
    r = await runEnvc(["export", A, B, "--openai", o, "--max-turns", "5"]);
    expect(r.err).toContain("export: 3/5 trajectories kept (dropped 2 outside the turn limits)");
    r = await runEnvc(["export", A, B, "--openai", o, "--min-turns", "4", "--max-turns", "5", "--format", "json"]);
    expect(JSON.parse(r.out)).toMatchObject({ total: 5, kept: 2, dropped: { reward: 0, faults: 0, turns: 3 }, openai: { lines: 2 } });
    expect(scenarios()).toEqual(["Marcus Johns", "Daniel Reyes"]);
    r = await runEnvc(["export", A, B, "--openai", o, "--min-reward", "1", "--no-faults"]);
    expect(r.err).toContain("export: 2/5 trajectories kept (dropped 3 below reward 1 or unscored)");
  });

  it("reports each bad line with file:line and what is wrong, and writes nothing", async () => {
    const bad = path.join(data, "invalid/mixed.jsonl");
    const o = path.join(dir, "never.jsonl");
    const r = await runEnvc(["export", bad, "--openai", o]);
    expect(r.code).toBe(2); // one line is not JSON at all
    expect(r.err).toContain(`${bad}:2: not valid JSON`);
    expect(r.err).toContain(`${bad}:3: reward: Invalid input: expected object, received undefined`);
    expect(r.err).toContain(`${bad}:4: messages.3.tool_call_id: no earlier assistant tool call has id 'call_missing'`);
    expect(r.err).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:5: messages\\.1\\.role: .*; ended: Invalid option`));
    expect(r.err).toContain("4 lines are not valid trajectories; nothing written");
    expect(existsSync(o)).toBe(false);
    const k = await runEnvc(["export", bad, "--openai", o, "--skip-invalid"]);
    expect(k.code).toBe(0);
    expect(k.err).toContain(`warning: skipped ${bad}:3:`);
    expect(k.err).toContain("export: 1/1 trajectories kept, 4 invalid lines skipped");
    expect(lines(o)).toHaveLength(1);
  });

  it("one bad line is 'a valid trajectory'; an empty input or filters that drop everything warn", async () => {
    const one = path.join(dir, "one-bad.jsonl");
    writeFileSync(one, readFileSync(A, "utf8") + "{}\n");
    const r = await runEnvc(["export", one, "--openai", path.join(dir, "o1.jsonl")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("envc export: 1 line is not a valid trajectory; nothing written");
    const empty = path.join(dir, "empty.jsonl");
    writeFileSync(empty, "\n");
    const e = await runEnvc(["export", empty, "--openai", path.join(dir, "o2.jsonl")]);
    expect(e.code).toBe(0);
    expect(e.err).toContain(`warning: no trajectories in ${empty}; the outputs are empty`);
    expect(readFileSync(path.join(dir, "o2.jsonl"), "utf8")).toBe("");
    const f = await runEnvc(["export", A, "--openai", path.join(dir, "o3.jsonl"), "--min-turns", "50"]);
    expect(f.err).toContain("warning: the filters dropped every trajectory");
  });

  it("refuses outputs that would lose data: one file for both formats, an input as output, a folder", async () => {
    const copy = path.join(dir, "input-copy.jsonl");
    writeFileSync(copy, readFileSync(A, "utf8"));
    const same = path.join(dir, "same.jsonl");
    let r = await runEnvc(["export", A, "--openai", same, "--sharegpt", same]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--openai and --sharegpt both name ${same}`);
    expect(existsSync(same)).toBe(false);
    r = await runEnvc(["export", copy, "--openai", copy]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the output ${copy} is also an input`);
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(A, "utf8"));
    r = await runEnvc(["export", A, "--sharegpt", dir]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the output ${dir} is a folder`);
  });

  it("usage errors exit 2", async () => {
    expect((await runEnvc(["export", A])).err).toContain("name at least one output");
    expect((await runEnvc(["export", A, "--openai", path.join(dir, "x.jsonl"), "--min-reward", "2"])).code).toBe(2);
    expect((await runEnvc(["export", path.join(dir, "missing.jsonl"), "--openai", path.join(dir, "x.jsonl")])).code).toBe(2);
    expect((await runEnvc(["export", A, "--openai", path.join(dir, "x.jsonl"), "--min-turns", "5", "--max-turns", "2"])).err).toContain("--min-turns 5 is more than --max-turns 2");
  });
});

describe("the fixtures", () => {
  it("are real episodes: each tool message is what the environment answers, each reward what verify gives", async () => {
    const { envs } = await loadServedEnvs(["specs"]);
    const manager = new SessionManager(envs, { idleTimeoutMs: 0 });
    try {
      for (const t of fixtures()) {
        const where = `${t.env}/${t.scenario} sample ${t.sample}`;
        expect(t.tools, where).toEqual(manager.env(t.env).def.toolSchemas);
        expect(t.messages[0], where).toEqual({ role: "system", content: systemPrompt(manager.env(t.env).def) });
        const session = manager.create({ env: t.env, scenario: t.scenario });
        const calls = new Map(t.messages.flatMap((m) => (m.role === "assistant" ? m.tool_calls ?? [] : [])).map((c) => [c.id, c]));
        // the clinical-trials fault is made up (the bundled specs have none): from that call (0-based) on, the episode differs
        const madeUp = Math.min(...t.faults.map((f) => f.call));
        for (const m of t.messages) {
          if (m.role !== "tool") continue;
          const c = calls.get(m.tool_call_id)!;
          const { observation } = session.call(c.function.name, c.function.arguments);
          if (session.results.length - 1 >= madeUp) break;
          expect(observation, `${where}: ${c.function.name}`).toBe(m.content);
        }
        if (t.faults.length === 0) {
          const { scenario: _, ...reward } = session.verify();
          expect(reward, where).toEqual(t.reward);
        }
        manager.close(session.id);
      }
    } finally {
      manager.shutdown();
    }
  });
});

describe("conversions", () => {
  it("ShareGPT skips a conversation the agent opens, which LlamaFactory cannot align", () => {
    const t = fixtures()[2]!; // the banking conversation
    const opened: Trajectory = { ...t, messages: [t.messages[0]!, { role: "assistant", content: "Hello, how can I help?" }, ...t.messages.slice(1)] };
    expect(toShareGpt(opened)).toEqual({ skip: "turn 1 (gpt) breaks the human/observation, gpt/function_call alternation" });
    expect(toOpenAI(opened)!.messages[1]).toEqual({ role: "assistant", content: "Hello, how can I help?" });
  });

  it("a byte-order mark before the first line is not an error", () => {
    const parsed = parseTrajectories("\ufeff" + readFileSync(A, "utf8"));
    expect(parsed.every((p) => p.ok)).toBe(true);
    expect(parsed).toHaveLength(3);
  });

  it("a tool call without its result, or a result out of place, is in neither format, and said so", () => {
    const t = fixtures()[0]!; // marcus: system, user, then calls each answered
    const firstTool = t.messages.findIndex((m) => m.role === "tool");
    expect(firstTool).toBeGreaterThan(2);
    // drop the first tool result: its call is left unanswered before the next assistant turn
    const unanswered: Trajectory = { ...t, messages: t.messages.filter((_, i) => i !== firstTool) };
    const r = exportTrajectories([unanswered], {});
    expect(r.openai).toEqual([]);
    expect(r.sharegpt).toEqual([]);
    expect(r.kept).toBe(1);
    expect(r.skipped.map((s) => s.format)).toEqual(["openai", "sharegpt"]);
    expect(r.skipped[0]!.reason).toMatch(new RegExp(`^the tool call '[^']+' of message ${firstTool - 1} has no result before message ${firstTool}$`));
    // the same result twice
    const twice: Trajectory = { ...t, messages: [...t.messages.slice(0, firstTool + 1), t.messages[firstTool]!, ...t.messages.slice(firstTool + 1)] };
    expect(pairingProblem(twice.messages)).toMatch(/^message \d+ answers '[^']+', which is not an unanswered call/);
    expect(pairingProblem(t.messages)).toBeUndefined();
    // every fixture pairs: the golden files are unchanged by the check
    for (const f of fixtures()) expect(pairingProblem(f.messages)).toBeUndefined();
  });

  it("an episode without an agent turn is in neither format, and said so", () => {
    const t = fixtures()[0]!;
    const r = exportTrajectories([{ ...t, messages: t.messages.slice(0, 2) }], {});
    expect(r.openai).toEqual([]);
    expect(r.sharegpt).toEqual([]);
    expect(r.skipped.map((s) => s.format)).toEqual(["openai", "sharegpt"]);
  });
});
