// Scenario writing (`envc scen`): for each environment, N scenarios, one after another (each
// prompt lists the tasks already kept, for variety), each in three steps:
//   1. an initial state, validated against the schema, references and invariants and repaired
//      from the problems found (JSON paths), up to --rounds times;
//   2. the task text (with an id and an optional persona);
//   3. checks as `.env` expressions and a reference solution, turned into a dataset line and
//      run through the same loader and verifier as `envc verify` (checks type-check, are false
//      at the start, the solution replays and makes them true, no check is vacuous); the
//      diagnostics go back for repair, up to --rounds times.
// Kept scenarios become lines of a JSONL dataset that `envc verify SPEC FILE` accepts.
// Environments run concurrently; the dataset lists them in input order.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type { CheckedSpec } from "../compiler/pipeline.js";
import type { IEnv } from "../compiler/ir.js";
import { toJson, type Diagnostic } from "../compiler/diagnostics.js";
import { loadDataset } from "../compiler/dataset.js";
import { loadDefinition, loadScenarios } from "../compiler/load.js";
import { verifyScenarios, scenarioToJsonLine } from "../compiler/verify.js";
import { seedStates } from "../compiler/fuzz/seeds.js";
import { parseJsonOrdered, stringifyOrdered, type EnvDefinition } from "../runtime/index.js";
import { runItems, type ChatMessage, type LlmClient, type Progress } from "../llm/index.js";
import { scenarioChecksPrompt, scenarioRepairPrompt, scenarioStatePrompt, scenarioSystemPrompt, scenarioTaskPrompt } from "./prompts.js";
import type { ItemRecord } from "./report.js";
import { failedItem, validateState } from "./run.js";

export const StateSchema = z.object({
  idea: z.string(),
  state_json: z.string(),
});

export const TaskSchema = z.object({
  id: z.string(),
  task: z.string().min(1),
  persona: z.string().nullable(),
});

export const ChecksSchema = z.object({
  checks: z.array(z.object({ text: z.string().min(1), expr: z.string().min(1) })).min(1),
  solution: z.array(z.object({ name: z.string().min(1), arguments_json: z.string() })).min(1),
});

export interface ScenOptions {
  /** the dataset file (diagnostics name it; initial states are inline) */
  out: string;
  perEnv: number;
  /** repair rounds after the first answer, for the state and for the checks each */
  rounds: number;
  /** fewest solution steps */
  minSteps: number;
}

type Spec = CheckedSpec & { env: IEnv };

interface EnvContext {
  spec: Spec;
  def: EnvDefinition;
  system: string;
  llm: LlmClient;
}

/** Which check's expression a dataset diagnostic column falls in, shown with a caret. */
function locateInChecks(raw: string, column: number, checks: { expr: string }[]): string | undefined {
  const from = raw.indexOf('"checks"');
  let at = from;
  for (let i = 0; i < checks.length; i++) {
    const k = raw.indexOf('"expr":', at);
    if (k < 0) return undefined;
    const start = k + '"expr":'.length + 1; // 1-based column of the opening quote
    const end = start + JSON.stringify(checks[i]!.expr).length;
    if (column >= start && column < end) {
      const offset = Math.max(0, Math.min(checks[i]!.expr.length - 1, column - start - 1));
      return `in checks[${i}].expr:\n    ${checks[i]!.expr}\n    ${" ".repeat(offset)}^`;
    }
    at = k + 1;
  }
  return undefined;
}

function scenarioFeedback(ds: readonly Diagnostic[], raw?: string, checks?: { expr: string }[]): string {
  return ds
    .filter((d) => d.severity === "error")
    .slice(0, 12)
    .map((d) => {
      const where = raw && checks ? locateInChecks(raw, d.span.start.column, checks) : undefined;
      return `- ${d.code}: ${d.message}${d.fix ? `\n  fix: ${d.fix}` : ""}${where ? `\n  ${where}` : ""}`;
    })
    .join("\n");
}

function sanitizeId(id: string, k: number): string {
  const s = id.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 48);
  return /^[a-z]/.test(s) ? s : `scenario_${k}${s ? `_${s}` : ""}`;
}

const abbreviate = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 3)}...` : s).replace(/\s+/g, " ");

/** One scenario: state, task, checks and solution; kept with its dataset line, or dropped. */
async function writeOneScenario(ctx: EnvContext, k: number, options: ScenOptions, earlier: string[], used: Set<string>): Promise<{ record: ItemRecord; line?: string; task?: string }> {
  const envName = ctx.spec.env.name;
  let item = `${envName}/#${k}`;
  let rounds = 0;
  const history: string[] = [];
  const system: ChatMessage = { role: "system", content: ctx.system };
  try {
    // 1. the initial state
    const stateBase: ChatMessage[] = [system, { role: "user", content: scenarioStatePrompt(k, options.perEnv, earlier) }];
    let messages = stateBase;
    let state: unknown;
    let stateContent = "";
    for (let round = 0; ; round++) {
      const a = await ctx.llm.json({ messages, name: "initial_state", schema: StateSchema });
      stateContent = a.content;
      const judged = validateState(a.value.state_json, ctx.def);
      if ("state" in judged) {
        state = judged.state;
        break;
      }
      const summary = `state_json ${judged.summary}`;
      history.push(`state round ${round}: ${summary}`);
      if (round >= options.rounds)
        return { record: { stage: "scenario", item, fate: "dropped", reason: "invalid_state", detail: summary, rounds, history, ...(judged.problems ? { diagnostics: judged.problems } : {}) } };
      rounds++;
      messages = [...stateBase, { role: "assistant", content: a.content }, { role: "user", content: scenarioRepairPrompt("initial state", `state_json ${judged.details}`, round + 1, options.rounds) }];
    }

    // 2. the task
    const taskBase: ChatMessage[] = [system, stateBase[1]!, { role: "assistant", content: stateContent }, { role: "user", content: scenarioTaskPrompt() }];
    const t = await ctx.llm.json({ messages: taskBase, name: "task", schema: TaskSchema });
    let id = sanitizeId(t.value.id, k);
    for (let n = 2; used.has(id); n++) id = `${sanitizeId(t.value.id, k)}_${n}`;
    item = `${envName}/${id}`;

    // 3. checks and solution, verified
    const checksBase: ChatMessage[] = [...taskBase, { role: "assistant", content: t.content }, { role: "user", content: scenarioChecksPrompt(options.minSteps) }];
    messages = checksBase;
    for (let round = 0; ; round++) {
      const a = await ctx.llm.json({ messages, name: "checks_and_solution", schema: ChecksSchema });
      const judged = judgeChecks(ctx, a.value, { id, state, task: t.value.task, persona: t.value.persona }, options);
      if ("line" in judged) {
        used.add(id);
        return { record: { stage: "scenario", item, fate: "kept", rounds, ...(history.length ? { history } : {}), output: options.out }, line: judged.line, task: t.value.task };
      }
      history.push(`checks round ${round}: ${judged.reason}: ${judged.summary}`);
      if (round >= options.rounds)
        return { record: { stage: "scenario", item, fate: "dropped", reason: judged.reason, detail: judged.summary, rounds, history, ...(judged.diagnostics ? { diagnostics: judged.diagnostics } : {}) } };
      rounds++;
      messages = [...checksBase, { role: "assistant", content: a.content }, { role: "user", content: scenarioRepairPrompt("checks and solution", judged.feedback, round + 1, options.rounds) }];
    }
  } catch (err) {
    return { record: failedItem("scenario", item, err, rounds, history) };
  }
}

type ChecksAnswer = z.infer<typeof ChecksSchema>;

function judgeChecks(
  ctx: EnvContext,
  a: ChecksAnswer,
  s: { id: string; state: unknown; task: string; persona: string | null },
  options: ScenOptions,
): { line: string } | { reason: string; summary: string; feedback: string; diagnostics?: unknown[] } {
  const solution: { name: string; arguments: unknown }[] = [];
  for (const [i, step] of a.solution.entries()) {
    let args: unknown;
    try {
      args = step.arguments_json.trim() ? JSON.parse(step.arguments_json) : {};
    } catch (err) {
      return { reason: "checks_do_not_compile", summary: `solution[${i}].arguments_json is not JSON`, feedback: `solution[${i}].arguments_json is not valid JSON: ${(err as Error).message}` };
    }
    if (!args || typeof args !== "object" || Array.isArray(args))
      return { reason: "checks_do_not_compile", summary: `solution[${i}].arguments_json is not an object`, feedback: `solution[${i}].arguments_json must be a JSON object of arguments, like {"order_id": "O1"}` };
    solution.push({ name: step.name, arguments: args });
  }
  if (solution.length < options.minSteps)
    return { reason: "too_few_steps", summary: `${solution.length} solution step${solution.length === 1 ? "" : "s"}, at least ${options.minSteps} wanted`, feedback: `The task needs at least ${options.minSteps} tool calls; the solution has ${solution.length}. Make the task and the solution multi-step.` };
  const line = { env: ctx.spec.env.name, id: s.id, initial: s.state, task: s.task, ...(s.persona ? { persona: s.persona } : {}), checks: a.checks, solution };
  const raw = stringifyOrdered(line);
  const loaded = loadDataset(raw, options.out, [ctx.spec]);
  const loadErrors = loaded.diagnostics.filter((d) => d.severity === "error");
  if (loadErrors.length || loaded.scenarios.length !== 1)
    return {
      reason: "checks_do_not_compile",
      summary: loadErrors.slice(0, 3).map((d) => `${d.code} ${d.message.split("\n")[0]}`).join("; "),
      feedback: `The checks or the solution do not compile against the spec:\n${scenarioFeedback(loadErrors, raw, a.checks)}`,
      diagnostics: loadErrors.map(toJson),
    };
  const scenario = loaded.scenarios[0]!.scenario;
  const verdict = verifyScenarios(ctx.def, [scenario], loadScenarios(ctx.spec.env, [scenario]))[0]!;
  if (!verdict.kept) {
    const errors = verdict.diagnostics.filter((d) => d.severity === "error");
    return {
      reason: "verify_failed",
      summary: errors.slice(0, 3).map((d) => `${d.code} ${d.message.split("\n")[0]}`).join("; "),
      feedback: `Verifying the scenario failed:\n${scenarioFeedback(errors)}`,
      diagnostics: errors.map(toJson),
    };
  }
  return { line: scenarioToJsonLine(ctx.spec.env.name, scenario, options.out) };
}

/** A sample state to show the model: state.json beside the spec, else a scenario's. */
function sampleStateText(spec: Spec): string | undefined {
  let state: unknown;
  const sample = path.join(path.dirname(spec.file), "state.json");
  try {
    state = parseJsonOrdered(readFileSync(sample, "utf8"));
  } catch {
    state = seedStates(spec.file, spec.env).states[0];
  }
  if (state === undefined) return undefined;
  const text = stringifyOrdered(state, 2);
  return text.length > 20_000 ? undefined : text;
}

export async function writeScenarios(
  specs: readonly Spec[],
  llm: LlmClient,
  options: ScenOptions,
  progress?: Progress,
): Promise<{ lines: string[]; records: ItemRecord[]; fatal?: Error }> {
  const perEnv = async (spec: Spec) => {
    const ctx: EnvContext = { spec, def: loadDefinition(spec.env), system: scenarioSystemPrompt(spec.env.name, spec.source, sampleStateText(spec)), llm };
    const records: ItemRecord[] = [];
    const lines: string[] = [];
    const earlier: string[] = [];
    const used = new Set<string>(spec.env.scenarios.map((s) => s.name));
    for (let k = 1; k <= options.perEnv; k++) {
      const r = await writeOneScenario(ctx, k, options, [...earlier], used);
      records.push(r.record);
      progress?.tick();
      if (r.line) {
        lines.push(r.line);
        earlier.push(abbreviate(r.task!));
      }
    }
    return { records, lines };
  };
  const { results, fatal } = await runItems(specs, perEnv);
  const done = results.filter((r): r is { records: ItemRecord[]; lines: string[] } => r !== undefined);
  return { lines: done.flatMap((r) => r.lines), records: done.flatMap((r) => r.records), ...(fatal ? { fatal } : {}) };
}
