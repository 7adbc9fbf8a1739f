// The trajectory format: one episode of an agent in an environment per JSONL line, as
// `envc rollout` writes it and `envc export` reads it. OpenAI chat messages (tool calls with
// JSON-text arguments), the OpenAI tools the agent had, the reward with each check named
// (runtime scoreEpisode's object), environment faults, token use and why the episode ended.
// Unknown extra fields are allowed and ignored, so writers can add metadata.
import { z } from "zod";

const count = z.number().int().nonnegative();

export const ToolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    /** JSON text, as the model wrote it (it may not parse: that is the agent's mistake) */
    arguments: z.string(),
  }),
});

export const MessageSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: z.string() }),
  z.object({ role: z.literal("user"), content: z.string() }),
  z.object({
    role: z.literal("assistant"),
    content: z.string().nullable().optional(),
    tool_calls: z.array(ToolCallSchema).optional(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content: z.string() }),
]);

export const ToolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const FaultSchema = z.object({ call: count, error: z.string(), location: z.string().optional() });

/** runtime/scenario.ts's Reward: the fraction of checks that hold (null: the environment faulted). */
export const RewardSchema = z.object({
  reward: z.number().min(0).max(1).nullable(),
  passed: count,
  total: count,
  // part: answer checks and outcomes (runtime/scenario.ts); diff: what an outcome found different
  checks: z.array(z.object({ check: z.string(), passed: z.boolean(), error: z.string().optional(), part: z.enum(["answer", "outcome"]).optional(), diff: z.unknown().optional() })),
  calls: count,
  agentErrors: count,
  envFaults: count,
  faults: z.array(FaultSchema),
});

export const TrajectorySchema = z
  .object({
    env: z.string().min(1),
    scenario: z.string().min(1),
    /** which of the --samples rollouts of this scenario (0-based) */
    sample: count,
    mode: z.enum(["task", "conversation"]),
    model: z.string(),
    messages: z.array(MessageSchema).min(1),
    tools: z.array(ToolSchema),
    reward: RewardSchema,
    faults: z.array(FaultSchema),
    usage: z.object({ prompt_tokens: count, completion_tokens: count }),
    steps: count,
    ended: z.enum(["reply", "stop_marker", "step_limit", "error"]),
  })
  .superRefine((t, ctx) => {
    // every tool result answers a call made earlier, and an assistant turn says or calls something
    const called = new Set<string>();
    t.messages.forEach((m, i) => {
      if (m.role === "assistant") {
        if (!m.tool_calls?.length && (m.content === undefined || m.content === null))
          ctx.addIssue({ code: "custom", path: ["messages", i], message: "an assistant message needs content or tool_calls" });
        for (const c of m.tool_calls ?? []) called.add(c.id);
      } else if (m.role === "tool" && !called.has(m.tool_call_id)) {
        ctx.addIssue({ code: "custom", path: ["messages", i, "tool_call_id"], message: `no earlier assistant tool call has id '${m.tool_call_id}'` });
      }
    });
    if (t.reward.passed > t.reward.total) ctx.addIssue({ code: "custom", path: ["reward", "passed"], message: "is more than reward.total" });
  });

export type Trajectory = z.infer<typeof TrajectorySchema>;
export type TrajectoryMessage = z.infer<typeof MessageSchema>;
export type TrajectoryTool = z.infer<typeof ToolSchema>;
export type TrajectoryToolCall = z.infer<typeof ToolCallSchema>;

export type ParsedLine = { ok: true; line: number; trajectory: Trajectory } | { ok: false; line: number; problem: string; syntax: boolean };

function where(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join(".") : "the line";
}

/** Parse and validate one JSONL line (1-based `line`); a problem says what is wrong and where in the object. */
export function parseTrajectoryLine(text: string, line: number): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, line, problem: `not valid JSON: ${(err as Error).message}`, syntax: true };
  }
  const r = TrajectorySchema.safeParse(value);
  if (r.success) return { ok: true, line, trajectory: r.data };
  const issues = r.error.issues.slice(0, 3).map((i) => `${where(i.path)}: ${i.message}`);
  const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : "";
  return { ok: false, line, problem: issues.join("; ") + more, syntax: false };
}

/** Every non-blank line of a JSONL text, parsed (a leading byte-order mark is skipped). */
export function parseTrajectories(text: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    if (raw.trim() === "") continue;
    out.push(parseTrajectoryLine(raw, i + 1));
  }
  return out;
}
