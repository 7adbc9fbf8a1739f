// Trajectories → supervised fine-tuning files: OpenAI chat JSONL ({messages, tools}) and
// ShareGPT as LlamaFactory reads it ({conversations: [{from, value}], system, tools}), with
// filters on reward, environment faults and the number of agent turns. Pure: text in, lines
// out, in input order, so the same inputs give the same bytes.
// Assumes trajectories validated by agent/trajectory.ts.
import type { Trajectory, TrajectoryMessage } from "./trajectory.js";

export interface ExportFilters {
  /** keep episodes whose reward is at least this (unscored episodes, reward null, are dropped) */
  minReward?: number;
  /** drop episodes with any environment fault */
  noFaults?: boolean;
  /** bounds on the agent's turns (assistant messages), inclusive */
  minTurns?: number;
  maxTurns?: number;
}

export type DropReason = "reward" | "faults" | "turns";

/** The agent's turns: how many times the model answered (assistant messages). */
export function turnsOf(t: Trajectory): number {
  let n = 0;
  for (const m of t.messages) if (m.role === "assistant") n++;
  return n;
}

/** Why a trajectory is filtered out (the first reason, in a fixed order), or undefined to keep it. */
export function dropReason(t: Trajectory, f: ExportFilters): DropReason | undefined {
  if (f.minReward !== undefined && (t.reward.reward === null || t.reward.reward < f.minReward)) return "reward";
  if (f.noFaults && (t.faults.length > 0 || t.reward.envFaults > 0)) return "faults";
  const turns = turnsOf(t);
  if ((f.minTurns !== undefined && turns < f.minTurns) || (f.maxTurns !== undefined && turns > f.maxTurns)) return "turns";
  return undefined;
}

/**
 * The messages up to the agent's last turn: a trailing user or tool message (an episode cut by
 * the step limit ends on a tool result) is nothing to learn from, and SFT formats expect the
 * assistant to speak last.
 */
function untilLastAssistant(messages: readonly TrajectoryMessage[]): TrajectoryMessage[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1]!.role !== "assistant") end--;
  return messages.slice(0, end);
}

/**
 * Why the tool results do not pair with the calls as chat formats require, or undefined: each
 * call an assistant makes is answered by a tool message before the next user or assistant
 * message, once, and a tool message answers a call of the assistant message just before it.
 * (The trajectory schema only asks that a result answers some earlier call.) The last
 * assistant message's calls need no results: the episode may stop there.
 */
export function pairingProblem(messages: readonly TrajectoryMessage[]): string | undefined {
  let open = new Map<string, number>(); // call id → the message that made it, not yet answered
  let lastAssistant = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === "tool") {
      if (!open.delete(m.tool_call_id))
        return `message ${i} answers '${m.tool_call_id}', which is not an unanswered call of the assistant message before it`;
      continue;
    }
    if (open.size) {
      const [id, at] = open.entries().next().value!;
      return `the tool call '${id}' of message ${at} has no result before message ${i}`;
    }
    if (m.role === "assistant") {
      lastAssistant = i;
      open = new Map((m.tool_calls ?? []).map((c) => [c.id, i]));
      if (open.size !== (m.tool_calls?.length ?? 0)) return `message ${i} has two tool calls with the same id`;
    }
  }
  if (open.size && lastAssistant !== messages.length - 1) {
    const [id, at] = open.entries().next().value!;
    return `the tool call '${id}' of message ${at} has no result`;
  }
  return undefined;
}

/** One OpenAI chat fine-tuning line: {messages, tools}, only the fields OpenAI defines. */
export function toOpenAI(t: Trajectory): { messages: unknown[]; tools: unknown[] } | undefined {
  const msgs = untilLastAssistant(t.messages);
  if (!msgs.some((m) => m.role === "assistant")) return undefined;
  const messages = msgs.map((m) => {
    switch (m.role) {
      case "system":
      case "user":
        return { role: m.role, content: m.content };
      case "assistant":
        return {
          role: "assistant",
          content: m.content ?? null,
          ...(m.tool_calls?.length
            ? { tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: "function", function: { name: c.function.name, arguments: c.function.arguments } })) }
            : {}),
        };
      case "tool":
        return { role: "tool", tool_call_id: m.tool_call_id, content: m.content };
    }
  });
  return { messages, tools: t.tools.map((x) => ({ type: "function", function: x.function })) };
}

export interface ShareGptTurn {
  from: "human" | "gpt" | "function_call" | "observation";
  value: string;
}

export interface ShareGptRecord {
  conversations: ShareGptTurn[];
  system: string;
  /** JSON text of [{name, description, parameters}], as LlamaFactory's `tools` column expects */
  tools: string;
}

/** Arguments as an object when the model's JSON text parses, else the text itself. */
function argumentsValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * One ShareGPT line, or why the trajectory cannot be one. LlamaFactory wants turns alternating
 * human/observation then gpt/function_call, starting with human and ending with the model:
 * consecutive user messages are joined, parallel tool calls become one function_call (a JSON
 * list) and their results one observation (a JSON list of the results), text the assistant
 * wrote beside tool calls is dropped (the format has no place for it; `droppedText` counts it).
 */
export function toShareGpt(t: Trajectory): { record: ShareGptRecord; droppedText: number } | { skip: string } {
  const msgs = untilLastAssistant(t.messages);
  const system = msgs.filter((m) => m.role === "system").map((m) => m.content).join("\n\n");
  const turns: ShareGptTurn[] = [];
  let droppedText = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (m.role === "system") continue;
    if (m.role === "user") {
      const last = turns[turns.length - 1];
      if (last?.from === "human") last.value += `\n\n${m.content}`;
      else turns.push({ from: "human", value: m.content });
    } else if (m.role === "assistant") {
      if (m.tool_calls?.length) {
        if (m.content) droppedText++;
        const calls = m.tool_calls.map((c) => ({ name: c.function.name, arguments: argumentsValue(c.function.arguments) }));
        turns.push({ from: "function_call", value: JSON.stringify(calls.length === 1 ? calls[0] : calls) });
      } else turns.push({ from: "gpt", value: m.content ?? "" });
    } else {
      const results = [m.content];
      while (msgs[i + 1]?.role === "tool") results.push((msgs[++i] as { content: string }).content);
      turns.push({ from: "observation", value: results.length === 1 ? results[0]! : JSON.stringify(results) });
    }
  }
  if (turns.length === 0) return { skip: "no agent turn" };
  for (let i = 0; i < turns.length; i++) {
    const userSide = turns[i]!.from === "human" || turns[i]!.from === "observation";
    if (userSide !== (i % 2 === 0))
      return { skip: `turn ${i + 1} (${turns[i]!.from}) breaks the human/observation, gpt/function_call alternation` };
  }
  if (turns[0]!.from !== "human") return { skip: "the conversation does not start with a user message" };
  const tools = JSON.stringify(t.tools.map((x) => ({ name: x.function.name, description: x.function.description ?? "", parameters: x.function.parameters ?? { type: "object", properties: {} } })));
  return { record: { conversations: turns, system, tools }, droppedText };
}

export interface ExportResult {
  openai: string[];
  sharegpt: string[];
  total: number;
  kept: number;
  dropped: Record<DropReason, number>;
  /** kept trajectories that one format could not hold, with why */
  skipped: { format: "openai" | "sharegpt"; env: string; scenario: string; sample: number; reason: string }[];
  /** assistant messages whose text beside tool calls ShareGPT could not keep */
  droppedText: number;
}

/** Filter trajectories and convert the kept ones to both formats (as JSONL lines, without newlines). */
export function exportTrajectories(trajectories: readonly Trajectory[], filters: ExportFilters): ExportResult {
  const out: ExportResult = { openai: [], sharegpt: [], total: trajectories.length, kept: 0, dropped: { reward: 0, faults: 0, turns: 0 }, skipped: [], droppedText: 0 };
  for (const t of trajectories) {
    const reason = dropReason(t, filters);
    if (reason) {
      out.dropped[reason]++;
      continue;
    }
    out.kept++;
    const id = { env: t.env, scenario: t.scenario, sample: t.sample };
    // a call without its result (or a result out of place) is rejected by OpenAI's fine-tuning
    // and would teach a wrong conversation shape in ShareGPT: neither format gets it
    const unpaired = pairingProblem(untilLastAssistant(t.messages));
    if (unpaired) {
      out.skipped.push({ format: "openai", ...id, reason: unpaired }, { format: "sharegpt", ...id, reason: unpaired });
      continue;
    }
    const o = toOpenAI(t);
    if (o) out.openai.push(JSON.stringify(o));
    else out.skipped.push({ format: "openai", ...id, reason: "no agent turn" });
    const s = toShareGpt(t);
    if ("skip" in s) out.skipped.push({ format: "sharegpt", ...id, reason: s.skip });
    else {
      out.sharegpt.push(JSON.stringify(s.record));
      out.droppedText += s.droppedText;
    }
  }
  return out;
}
