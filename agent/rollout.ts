// `envc rollout`'s engine: an agent model against scenarios, one trajectory (agent/trajectory.ts)
// per episode. Each episode is a session (server/sessions.ts: a fork of the scenario's initial
// state) driven by chat completions with the environment's OpenAI tool schemas. Task mode: the
// task is the user message and the episode ends on a plain-text reply or the step limit.
// Conversation mode: a simulated user (agent/user-sim.ts) holds the task as a hidden goal and
// ends the dialogue with the stop marker. Tool errors go back to the agent as observations;
// environment faults are recorded and the episode goes on. The reward is the scenario's checks
// on the final state (scoreEpisode, via Session.verify), each check named.
// Samples: sample k of a scenario sends `seed: seed + k` with every agent request, so samples
// are different requests (separate cache entries) and a rerun finds each one's answers again.
// Episodes run concurrently (the LLM client limits requests in flight); results come back in
// input order (scenario order, then sample), so the output does not depend on timing.
// Assumes environments loaded by server/load.ts.
import * as path from "node:path";
import { LlmError, OutputError, runItems, type ChatMessage, type LlmClient, type Progress } from "../llm/index.js";
import { SessionManager, systemPrompt, todayOf, type ServedEnv, type ServedScenario } from "../server/sessions.js";
import type { RendererName } from "../runtime/index.js";
import type { Trajectory, TrajectoryMessage, TrajectoryTool, TrajectoryToolCall } from "./trajectory.js";
import { AGENT_GREETING, SimulatedUser } from "./user-sim.js";

export type RolloutMode = Trajectory["mode"];

export interface RolloutOptions {
  mode: RolloutMode;
  /** rollouts per scenario */
  samples: number;
  /** most agent turns (model answers) per episode */
  maxSteps: number;
  /** agent requests of sample k carry seed + k; the simulated user's carry seed */
  seed: number;
  /** the simulated user's temperature */
  userTemperature: number;
  renderer: RendererName;
  /** check ensure, invariants and references after actions */
  checks: boolean;
}

/** One episode to run: a scenario of an environment, and which sample. */
export interface EpisodeItem {
  served: ServedEnv;
  scenario: ServedScenario;
  sample: number;
}

/** A selection that matches nothing, or names what is not there (a usage error for the CLI). */
export class SelectionError extends Error {}

export interface Selection {
  /** scenario ids; each must exist in some selected environment */
  scenarios?: string[];
  /** environment names (exact or case-insensitive) */
  envs?: string[];
  /** dataset files: only the scenarios read from them */
  datasets?: string[];
}

const listed = (names: string[]) => (names.length > 12 ? `${names.slice(0, 12).join(", ")}, ... (${names.length} in all)` : names.join(", "));

/** The scenarios to roll out, in input order (environments as loaded, scenarios as written). */
export function selectScenarios(envs: readonly ServedEnv[], sel: Selection): { served: ServedEnv; scenario: ServedScenario }[] {
  let chosen = [...envs];
  if (sel.envs?.length) {
    chosen = [];
    for (const name of sel.envs) {
      const e = envs.find((x) => x.def.name === name) ?? envs.find((x) => x.def.name.toLowerCase() === name.toLowerCase());
      if (!e) throw new SelectionError(`no environment named '${name}' among the inputs (there are: ${listed(envs.map((x) => x.def.name)) || "none"})`);
      if (!chosen.includes(e)) chosen.push(e);
    }
  }
  let out = chosen.flatMap((served) => served.scenarios.map((scenario) => ({ served, scenario })));
  if (sel.datasets?.length) {
    const files = new Set(sel.datasets.map((f) => path.resolve(f)));
    out = out.filter((x) => files.has(path.resolve(x.scenario.def.source)));
    if (out.length === 0) throw new SelectionError(`${sel.datasets.join(", ")} ${sel.datasets.length === 1 ? "holds" : "hold"} no scenarios of ${chosen.length === 1 ? "the environment" : "the environments"} given`);
  }
  if (sel.scenarios?.length) {
    for (const id of sel.scenarios) {
      if (!out.some((x) => x.scenario.def.id === id)) {
        const ids = [...new Set(out.map((x) => x.scenario.def.id))];
        throw new SelectionError(`unknown scenario '${id}' (${ids.length ? `there are: ${listed(ids)}` : "the inputs hold no scenarios"})`);
      }
    }
    const wanted = new Set(sel.scenarios);
    out = out.filter((x) => wanted.has(x.scenario.def.id));
  }
  if (out.length === 0) throw new SelectionError(`the inputs hold no scenarios to roll out (write some with \`scenario\` blocks, a \`scenarios for\` file or \`envc scen\`)`);
  return out;
}

/** Every (scenario, sample) pair: scenario order first, then sample. */
export function episodesOf(scenarios: readonly { served: ServedEnv; scenario: ServedScenario }[], samples: number): EpisodeItem[] {
  return scenarios.flatMap((s) => Array.from({ length: samples }, (_, sample) => ({ ...s, sample })));
}

/** A trajectory, with what this writer adds beside the schema's fields. */
export type RolloutTrajectory = Trajectory & {
  /** why the episode ended with `error` (a request the server rejected, an unusable answer) */
  error?: string;
  /** conversation mode: the simulated user's model and token use */
  user_model?: string;
  user_usage?: { prompt_tokens: number; completion_tokens: number };
};

/**
 * The assistant message as the trajectory keeps it: function calls with ids and JSON-text
 * arguments. Ids are made unique within the episode (`used`): some servers give every call the
 * same id ("call_0") or none, and a tool result must say which call it answers (OpenAI's
 * fine-tuning, and `envc export`, refuse a message with two calls of one id).
 */
function assistantMessage(m: { content: string | null; tool_calls?: unknown[] }, step: number, used: Set<string>): { message: TrajectoryMessage & { role: "assistant" }; calls: TrajectoryToolCall[] } {
  const calls: TrajectoryToolCall[] = [];
  (m.tool_calls ?? []).forEach((raw, i) => {
    const c = raw as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown }; custom?: { name?: unknown; input?: unknown } };
    const fn = c.function ?? (c.custom ? { name: c.custom.name, arguments: c.custom.input } : undefined);
    const name = typeof fn?.name === "string" && fn.name ? fn.name : "(unnamed)";
    const args = fn?.arguments;
    let id = typeof c.id === "string" && c.id ? c.id : `call_${step}_${i}`;
    for (let n = 2; used.has(id); n++) id = `${typeof c.id === "string" && c.id ? c.id : `call_${step}_${i}`}_${n}`;
    used.add(id);
    calls.push({
      id,
      type: "function",
      function: { name, arguments: typeof args === "string" ? args : args === undefined ? "" : JSON.stringify(args) },
    });
  });
  const content = m.content ?? (calls.length ? null : "");
  return { message: { role: "assistant", content, ...(calls.length ? { tool_calls: calls } : {}) }, calls };
}

/** Run one episode; fatal LLM errors propagate (the run stops), others end the episode with `error`. */
async function runEpisode(manager: SessionManager, item: EpisodeItem, agent: LlmClient, user: LlmClient | undefined, o: RolloutOptions): Promise<RolloutTrajectory> {
  const { served, scenario, sample } = item;
  const session = manager.create({ env: served.def.name, scenario: scenario.def.id, renderer: o.renderer, checks: o.checks });
  const tools = served.def.toolSchemas as TrajectoryTool[];
  const today = todayOf(session.env);
  const messages: TrajectoryMessage[] = [{ role: "system", content: systemPrompt(served.def, { ...(today ? { today } : {}), mode: o.mode }) }];
  const usage = { prompt_tokens: 0, completion_tokens: 0 };
  let steps = 0;
  let ended: Trajectory["ended"] = "error";
  let error: string | undefined;
  const seed = o.seed + sample;
  const callIds = new Set<string>();

  /** Agent turns until it answers in text (its text) or the step limit (undefined). */
  const agentTurns = async (): Promise<string | undefined> => {
    for (;;) {
      if (steps >= o.maxSteps) return undefined;
      const answer = await agent.chat({ messages: messages as ChatMessage[], tools: tools as never, seed });
      usage.prompt_tokens += answer.usage.promptTokens;
      usage.completion_tokens += answer.usage.completionTokens;
      const { message, calls } = assistantMessage(answer.message, steps, callIds);
      steps++;
      messages.push(message);
      if (calls.length === 0) return message.content ?? "";
      for (const c of calls) {
        // tool errors (unknown tool, bad arguments, failed preconditions) and environment
        // faults are observations; faults are also counted by the reward
        const out = session.call(c.function.name, c.function.arguments);
        messages.push({ role: "tool", tool_call_id: c.id, content: out.observation });
      }
    }
  };

  let sim: SimulatedUser | undefined;
  try {
    if (o.mode === "task") {
      messages.push({ role: "user", content: scenario.def.task });
      ended = (await agentTurns()) === undefined ? "step_limit" : "reply";
    } else {
      sim = new SimulatedUser(user ?? agent, scenario.def, { temperature: o.userTemperature, seed: o.seed });
      let said = await sim.reply(AGENT_GREETING);
      for (;;) {
        if (!said.text.trim()) {
          error = "the simulated user answered with an empty message";
          break;
        }
        messages.push({ role: "user", content: said.text });
        if (said.stop) {
          ended = "stop_marker";
          break;
        }
        const reply = await agentTurns();
        if (reply === undefined) {
          ended = "step_limit";
          break;
        }
        said = await sim.reply(reply);
      }
    }
  } catch (err) {
    if (!(err instanceof OutputError || (err instanceof LlmError && !err.fatal))) throw err;
    ended = "error";
    error = err.message;
  } finally {
    manager.close(session.id);
  }
  // answer checks read everything the agent said to the user, in order
  const agentSaid = messages.flatMap((m) => (m.role === "assistant" && typeof m.content === "string" && m.content ? [m.content] : [])).join("\n");
  const { scenario: _id, ...reward } = session.verify(agentSaid);
  return {
    env: served.def.name,
    scenario: scenario.def.id,
    sample,
    mode: o.mode,
    model: agent.config.model,
    messages,
    tools,
    reward,
    faults: reward.faults,
    usage,
    steps,
    ended,
    ...(error ? { error } : {}),
    ...(sim ? { user_model: (user ?? agent).config.model, user_usage: sim.usage } : {}),
  };
}

export interface RolloutResult {
  /** in input order; an episode missing after a fatal failure is undefined */
  trajectories: (RolloutTrajectory | undefined)[];
  /** the server failed for good (unreachable, key refused, ...): the run stopped */
  fatal?: LlmError;
}

/** Run every episode; `user` is the simulated user's client (conversation mode; default: `agent`). */
export async function rollout(items: readonly EpisodeItem[], agent: LlmClient, user: LlmClient | undefined, o: RolloutOptions, progress?: Progress): Promise<RolloutResult> {
  const envs = [...new Set(items.map((i) => i.served))];
  // sessions live as long as their episode: no idle expiry, room for every episode at once
  const manager = new SessionManager(envs, { idleTimeoutMs: 0, maxSessions: items.length + 1, renderer: o.renderer, checks: o.checks });
  try {
    const { results, fatal } = await runItems(items, (item) => runEpisode(manager, item, agent, user, o), progress);
    return { trajectories: results, ...(fatal ? { fatal } : {}) };
  } finally {
    manager.shutdown();
  }
}

export interface RolloutMetrics {
  episodes: number;
  scenarios: number;
  /** mean reward over scored episodes (null when none was scored) */
  meanReward: number | null;
  /** episodes with reward 1 */
  solved: number;
  /** episodes with reward null (an environment fault) */
  unscored: number;
  faults: number;
  episodesWithFaults: number;
  agentErrors: number;
  ended: Record<Trajectory["ended"], number>;
  meanSteps: number | null;
  /** tokens the episodes used (agent and simulated user), cached answers included */
  episodeTokens: { prompt: number; completion: number };
}

export function rolloutMetrics(trajectories: readonly RolloutTrajectory[]): RolloutMetrics {
  const scored = trajectories.filter((t) => t.reward.reward !== null);
  const ended: RolloutMetrics["ended"] = { reply: 0, stop_marker: 0, step_limit: 0, error: 0 };
  for (const t of trajectories) ended[t.ended]++;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    episodes: trajectories.length,
    scenarios: new Set(trajectories.map((t) => `${t.env}\u0000${t.scenario}`)).size,
    meanReward: scored.length ? round(scored.reduce((n, t) => n + t.reward.reward!, 0) / scored.length) : null,
    solved: scored.filter((t) => t.reward.reward === 1).length,
    unscored: trajectories.length - scored.length,
    faults: trajectories.reduce((n, t) => n + t.faults.length, 0),
    episodesWithFaults: trajectories.filter((t) => t.faults.length > 0).length,
    agentErrors: trajectories.reduce((n, t) => n + t.reward.agentErrors, 0),
    ended,
    meanSteps: trajectories.length ? round(trajectories.reduce((n, t) => n + t.steps, 0) / trajectories.length) : null,
    episodeTokens: {
      prompt: trajectories.reduce((n, t) => n + t.usage.prompt_tokens + (t.user_usage?.prompt_tokens ?? 0), 0),
      completion: trajectories.reduce((n, t) => n + t.usage.completion_tokens + (t.user_usage?.completion_tokens ?? 0), 0),
    },
  };
}

/** The lines printed about the episodes (the request and token line comes from synth's report). */
export function rolloutSummaryLines(m: RolloutMetrics): string[] {
  const ended = Object.entries(m.ended).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  return [
    `episodes: ${m.episodes} (${m.scenarios} scenario${m.scenarios === 1 ? "" : "s"}); ended: ${ended || "none"}; mean steps ${m.meanSteps ?? "-"}; tokens used by the episodes (cached answers included): ${m.episodeTokens.prompt.toLocaleString("en-US")} in, ${m.episodeTokens.completion.toLocaleString("en-US")} out`,
    `reward: mean ${m.meanReward === null ? "-" : m.meanReward.toFixed(3)}, ${m.solved} at 1${m.unscored ? `, ${m.unscored} unscored` : ""}; faults: ${m.faults} in ${m.episodesWithFaults} episode${m.episodesWithFaults === 1 ? "" : "s"}; agent errors: ${m.agentErrors}`,
  ];
}
