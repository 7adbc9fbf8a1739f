// The simulated user of conversational rollouts: an LLM that plays the person behind a
// scenario's task. It gets the task (and the persona, when the scenario has one) as a hidden
// goal, speaks first, answers each of the agent's plain-text replies, and ends the dialogue by
// writing the stop marker (###STOP###) once the goal is met or cannot be.
// Roles are flipped in its own conversation (as in tau-bench): the agent's words are its
// "user" messages, its own are "assistant" messages. Its temperature and seed are fixed by the
// caller, so the same agent replies get the same user turns (and cache hits).
// Assumes an LlmClient configured with the user model.
import type { ChatMessage, LlmClient } from "../llm/index.js";
import type { ScenarioDef } from "../runtime/index.js";

/** What the simulated user writes to end the conversation (anywhere in its message). */
export const STOP_MARKER = "###STOP###";

/** The agent's opening line, shown to the simulated user only (it is not in the trajectory). */
export const AGENT_GREETING = "Hi! How can I help you today?";

/** The simulated user's instructions: its hidden goal, its persona, how to behave and how to stop. */
export function userSystemPrompt(scenario: Pick<ScenarioDef, "task" | "persona">): string {
  return [
    "You are playing a user who is talking to a customer-service agent (an AI assistant that works through tools). You are the user, not the agent: never offer help, never call tools.",
    `Your goal (the agent does not know it; reveal it as the conversation needs):\n\n${scenario.task.trim()}`,
    ...(scenario.persona ? [`Who you are and how you talk: ${scenario.persona.trim()}`] : []),
    [
      "Rules:",
      "- Write only what the user says next: one short message, in your own words.",
      "- Do not give away the whole goal at once; give the details the current step needs (names, ids, amounts) and answer the agent's questions from your goal.",
      "- Never invent details your goal does not give; if asked for one, say you do not know.",
      "- Confirm what the agent proposes when it matches your goal; refuse what does not.",
      `- When everything in your goal is done, or the agent says it cannot be done, write a brief closing message ending with ${STOP_MARKER} (that ends the conversation). Write ${STOP_MARKER} nowhere else.`,
    ].join("\n"),
  ].join("\n\n");
}

export interface UserTurn {
  /** what the user said, as written (the stop marker included) */
  text: string;
  /** the message holds the stop marker */
  stop: boolean;
}

export class SimulatedUser {
  private readonly messages: ChatMessage[];
  /** tokens the simulated user used */
  readonly usage = { prompt_tokens: 0, completion_tokens: 0 };

  constructor(
    private readonly llm: LlmClient,
    scenario: Pick<ScenarioDef, "task" | "persona">,
    private readonly options: { temperature: number; seed: number },
  ) {
    this.messages = [{ role: "system", content: userSystemPrompt(scenario) }];
  }

  /** The user's answer to what the agent said (the greeting for the first turn). */
  async reply(agentText: string): Promise<UserTurn> {
    this.messages.push({ role: "user", content: agentText });
    const answer = await this.llm.chat({ messages: this.messages, temperature: this.options.temperature, seed: this.options.seed });
    this.usage.prompt_tokens += answer.usage.promptTokens;
    this.usage.completion_tokens += answer.usage.completionTokens;
    const text = answer.message.content ?? "";
    this.messages.push({ role: "assistant", content: text });
    return { text, stop: text.includes(STOP_MARKER) };
  }
}
