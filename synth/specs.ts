// Spec writing (`envc synth specs`, `envc synth env`): a description -> a `.env` spec and a
// sample state, written by the model and repaired from exact feedback, up to N rounds:
//   1. the answer must hold a ```env block and a ```json block;
//   2. the spec is compiled in memory: its diagnostics go back as JSON with the source lines
//      around each one; the header must be the `env Name` asked for;
//   3. the sample state must be valid JSON that fits the schema, references and invariants,
//      with at least one record in every table (scenarios start from it);
//   4. every tool is fuzzed from that state with a budget that grows with the number of tools:
//      a finding (an environment fault, a failed call that changed state, a wrong result type,
//      ...) goes back as a counterexample;
//   5. rule probes (synth/probes.ts), written once per environment from the description, the
//      tools and the sample state (never the spec), are replayed: a probe that comes out
//      otherwise goes back, and the model fixes the spec or names the probe as wrong.
// An environment that passes all five is kept: `<out>/<name>/<name>.env` and `state.json`,
// written atomically, with its evidence (synth/evidence.ts): examples.jsonl (passing probes
// included), and in the report its fuzz coverage and mutation score. Otherwise it is dropped
// with the reason and its last diagnostics.
// A spec is plain text in fenced blocks rather than a JSON string: a 200-line program escaped
// into JSON costs tokens and invites escaping mistakes that have nothing to do with the spec.
import * as path from "node:path";
import { checkSource } from "../compiler/pipeline.js";
import { hasErrors, toJson, type Diagnostic } from "../compiler/diagnostics.js";
import { writeAtomic } from "../compiler/project.js";
import { loadDefinition } from "../compiler/load.js";
import { fuzzEnv, type Finding, type FuzzReport } from "../compiler/fuzz/engine.js";
import { stringifyOrdered, type EnvDefinition } from "../runtime/index.js";
import { runItems, type ChatMessage, type LlmClient, type Progress } from "../llm/index.js";
import { specRepairPrompt, specRequestPrompt, specSystemPrompt } from "./prompts.js";
import type { ItemRecord } from "./report.js";
import { askProbes, mismatchFeedback, parseWrongProbes, replayProbes, PROBE_REPAIR_CLOSING, type ProbeMismatch, type ProbeSet } from "./probes.js";
import { fuzzBudget, fuzzEvidence, keepEvidence, probeEvidence, type SpecEvidence } from "./evidence.js";
import type { EnvDescription } from "./topics.js";
import { failedItem, pascal, validateState } from "./run.js";

export interface SpecOptions {
  /** output folder: kept environments go to <out>/<name>/ */
  out: string;
  /** repair rounds after the first answer */
  rounds: number;
  /** fuzz runs per candidate, raised to 20 per tool (0: no fuzzing) */
  fuzzRuns: number;
  fuzzSeed: number;
  /** stop fuzzing one candidate after this long */
  fuzzTimeMs?: number;
  /** example specs for the prompt (paths relative to the package root) */
  examples: readonly string[];
  /** rule probes asked for per environment (0: none) */
  probes?: number;
  /** mutants sampled for a kept spec's mutation score (0: none) */
  mutants?: number;
}

/** The spec and the sample state found in an answer, or what is missing. */
export function parseSpecAnswer(content: string): { spec: string; state: string } | { problem: string } {
  const blocks: { lang: string; text: string }[] = [];
  const re = /```([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)```/g;
  for (let m; (m = re.exec(content)); ) blocks.push({ lang: m[1]!.toLowerCase(), text: m[2]! });
  const spec = blocks.find((b) => b.lang === "env") ?? blocks.find((b) => /^\s*(\/\/[^\n]*\n\s*)*env\s+[A-Za-z_]/.test(b.text));
  const state = blocks.find((b) => b.lang === "json") ?? blocks.find((b) => b !== spec && b.text.trim().startsWith("{"));
  if (!spec && !state) return { problem: "the answer holds no fenced block: write the spec in a ```env block and the sample state in a ```json block" };
  if (!spec) return { problem: "the answer holds no ```env block with the spec" };
  if (!state) return { problem: "the answer holds no ```json block with the sample state" };
  return { spec: spec.text.trimEnd() + "\n", state: state.text };
}

/** Source lines around a position, numbered, with carets under the span's first line. */
export function sourceContext(source: string, line: number, column: number, endColumn = column, around = 2): string {
  const lines = source.split("\n");
  const from = Math.max(1, line - around);
  const to = Math.min(lines.length, line + around);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${n === line ? ">" : " "} ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`);
    if (n === line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, column - 1))}${"^".repeat(Math.max(1, endColumn - column + 1))}`);
  }
  return out.join("\n");
}

/** Diagnostics as the model sees them: compact JSON with the source lines around each. */
export function diagnosticsForModel(ds: readonly Diagnostic[], source: string, limit = 12): string {
  const errors = [...ds.filter((d) => d.severity === "error"), ...ds.filter((d) => d.severity !== "error")].slice(0, limit);
  const items = errors.map((d) => ({
    code: d.code,
    severity: d.severity,
    message: d.message,
    line: d.span.start.line,
    column: d.span.start.column,
    ...(d.fix ? { fix: d.fix } : {}),
    ...(d.related?.length ? { related: d.related.map((r) => ({ message: r.message, line: r.span.start.line, column: r.span.start.column })) } : {}),
    source: sourceContext(source, d.span.start.line, d.span.start.column, d.span.end.line === d.span.start.line ? d.span.end.column : d.span.start.column),
  }));
  const more = ds.length > limit ? `\n(${ds.length - limit} more not shown: fix these first)` : "";
  return JSON.stringify(items, null, 2) + more;
}

type Verdict =
  | { ok: true; spec: string; state: unknown; envName: string; def: EnvDefinition; fuzzRuns: number; fuzz?: FuzzReport }
  | { ok: false; reason: string; summary: string; feedback: string; diagnostics?: unknown[] };

/** Judge one answer: parse, compile, check the header, the sample state, then fuzz. */
export function judgeSpec(content: string, file: string, envName: string, options: Pick<SpecOptions, "fuzzRuns" | "fuzzSeed" | "fuzzTimeMs">): Verdict {
  const parsed = parseSpecAnswer(content);
  if ("problem" in parsed) return { ok: false, reason: "invalid_output", summary: parsed.problem, feedback: `Your answer could not be used: ${parsed.problem}.` };
  const { spec } = parsed;
  const checked = checkSource(spec, file);
  if (!checked.env || hasErrors(checked.diagnostics)) {
    const errors = checked.diagnostics.filter((d) => d.severity === "error");
    return {
      ok: false, reason: "compile_errors",
      summary: `${errors.length} compile error${errors.length === 1 ? "" : "s"}: ${errors.slice(0, 3).map((d) => `${d.code} at ${d.span.start.line}:${d.span.start.column} ${d.message.split("\n")[0]}`).join("; ")}`,
      feedback: `The spec does not compile. The compiler's diagnostics (JSON; \`source\` shows the lines around each, > marks the line):\n\n${diagnosticsForModel(checked.diagnostics, spec)}`,
      diagnostics: checked.diagnostics.map(toJson),
    };
  }
  const env = checked.env;
  if (env.name !== envName)
    return { ok: false, reason: "wrong_name", summary: `the header names env ${env.name}, not ${envName}`, feedback: `The header must be \`env ${envName} "..."\` (it is \`env ${env.name}\`): keep everything else.` };

  const def = loadDefinition(env);
  const sample = validateState(parsed.state, def);
  if (!("state" in sample))
    return {
      ok: false, reason: "invalid_state", summary: `the sample state ${sample.summary}`,
      feedback: `The sample state ${sample.details}${sample.problems ? "\n\nFix the state (or the spec, if the spec is what is wrong)." : ""}`,
      ...(sample.problems ? { diagnostics: sample.problems } : {}),
    };
  const { state } = sample;
  const empty = def.tables.filter((t) => {
    const v = (state as Record<string, unknown>)[t.name];
    return !v || typeof v !== "object" || Object.keys(v).length === 0;
  });
  if (empty.length)
    return { ok: false, reason: "invalid_state", summary: `empty tables in the sample state: ${empty.map((t) => t.name).join(", ")}`, feedback: `The sample state has no records in ${empty.map((t) => t.name).join(", ")}: give every table 2 to 6 records (scenarios start from this state, and fuzzing needs records to work on).` };

  const runs = fuzzBudget(options.fuzzRuns, env);
  let report: FuzzReport | undefined;
  if (runs > 0) {
    report = fuzzEnv(env, def, [state], { seed: options.fuzzSeed, runs, maxCalls: 12, ...(options.fuzzTimeMs ? { timeMs: options.fuzzTimeMs } : {}) });
    if (report.finding) {
      const f = report.finding;
      return {
        ok: false, reason: "fuzz_finding",
        summary: `fuzzing found ${f.property} in ${f.tool}: ${f.message.split("\n")[0]}`,
        feedback: findingFeedback(f, spec, file),
        diagnostics: [{ property: f.property, tool: f.tool, message: f.message, ...(f.location ? { location: f.location } : {}), calls: f.calls }],
      };
    }
  }
  return { ok: true, spec, state, envName: env.name, def, fuzzRuns: runs, ...(report ? { fuzz: report } : {}) };
}

function findingFeedback(f: Finding, spec: string, file: string): string {
  const lines = [
    `Fuzzing the tools found a bug in the spec: ${f.message} (property: ${f.property}).`,
    "",
    "What each property means: env_fault: a tool hit a missing key without `else`, a failed `ensure`, a broken invariant or reference, or a division by zero (guard it with `require` or `let ... else`); failed_call_changed_state / query_changed_state: state changed where it must not; result_type: a tool returned a value that is not its declared type; nondeterministic: the same calls gave different results.",
  ];
  const at = f.location && new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)`).exec(f.location);
  if (at) lines.push("", `At line ${at[1]}:`, sourceContext(spec, Number(at[1]), Number(at[2])));
  lines.push("", "The calls, from the initial state below (the last one fails):");
  f.calls.forEach((c, i) => lines.push(`  ${i + 1}. ${c.name}(${stringifyOrdered(c.arguments)})`));
  let initial = stringifyOrdered(f.initial);
  if (initial.length > 4000) initial = `${initial.slice(0, 4000)} ... (cut)`;
  lines.push("", `Initial state: ${initial}`);
  return lines.join("\n");
}

export interface SpecOutcome {
  record: ItemRecord;
  /** where the spec was written, when kept */
  specFile?: string;
}

/** Write, judge and repair one environment; keep it (with its evidence) or drop it. */
export async function writeOneSpec(d: EnvDescription, llm: LlmClient, options: SpecOptions, system: string): Promise<SpecOutcome> {
  const envName = pascal(d.name);
  const file = `${d.name}.env`;
  const base: ChatMessage[] = [{ role: "system", content: system }, { role: "user", content: specRequestPrompt(d, envName) }];
  let messages = base;
  const history: string[] = [];
  let last: Extract<Verdict, { ok: false }> | undefined;
  // asked once, the first time a candidate passes everything else; cached like every request
  let probes: ProbeSet | undefined;
  // the mismatches the latest repair prompt showed: the ones the model may name as wrong
  let shown: ProbeMismatch[] = [];
  for (let round = 0; round <= options.rounds; round++) {
    let content: string;
    try {
      const answer = await llm.chat({ messages });
      content = answer.message.content ?? "";
      if (answer.finishReason === "length") content += "\n(the answer was cut off at the token limit)";
    } catch (err) {
      return { record: failedItem("spec", d.name, err, round, history) };
    }
    if (probes && shown.length) withdrawProbes(probes, shown, content);
    shown = [];
    let verdict = judgeSpec(content, file, envName, options);
    let closing: string | undefined;
    let passed: ProbeSet["probes"] = [];
    if (verdict.ok && (options.probes ?? 0) > 0) {
      probes ??= await askProbes(llm, d, verdict.def, verdict.state, options.probes!);
      const replay = replayProbes(verdict.def, verdict.state, probes.probes);
      passed = replay.passed;
      if (replay.mismatches.length) {
        shown = replay.mismatches;
        closing = PROBE_REPAIR_CLOSING;
        verdict = probeVerdict(replay.mismatches, probes.probes.length);
      }
    }
    if (verdict.ok) {
      const folder = path.join(options.out, d.name);
      const specFile = path.join(folder, file);
      const stateFile = path.join(folder, "state.json");
      const shownFile = specFile.split(path.sep).join("/");
      const runs = verdict.fuzzRuns;
      const header = `// ${d.name}: ${d.summary.replace(/\s+/g, " ").slice(0, 200)}\n// Written by envc synth (${llm.config.model}); compiled, state checked${runs ? `, fuzzed (${runs} runs)` : ""}${probes ? `, ${passed.length} rule probes passed` : ""}.\n`;
      const source = header + verdict.spec;
      await writeAtomic(specFile, source);
      await writeAtomic(stateFile, stringifyOrdered(verdict.state, 2) + "\n");
      const evidence: SpecEvidence = {};
      if (probes) evidence.probes = probeEvidence(probes, passed);
      if (verdict.fuzz) evidence.fuzz = fuzzEvidence(verdict.fuzz, file, shownFile, header.split("\n").length - 1);
      Object.assign(evidence, await keepEvidence(specFile, source, stateFile, verdict.state, passed, { seed: options.fuzzSeed, mutants: options.mutants ?? 40 }));
      return { record: { stage: "spec", item: d.name, fate: "kept", rounds: round, ...(history.length ? { history } : {}), output: shownFile, evidence }, specFile };
    }
    last = verdict;
    history.push(`round ${round}: ${verdict.reason}: ${verdict.summary}`);
    // only the latest attempt goes back: the prompt stays the same size whatever the round
    messages = [...base, { role: "assistant", content }, { role: "user", content: specRepairPrompt(verdict.reason.replace(/_/g, " "), verdict.feedback, round + 1, options.rounds, closing) }];
  }
  return {
    record: {
      stage: "spec", item: d.name, fate: "dropped", reason: last!.reason, detail: last!.summary, rounds: options.rounds, history,
      ...(last!.diagnostics ? { diagnostics: last!.diagnostics } : {}),
      ...(probes ? { evidence: { probes: probeEvidence(probes, []) } } : {}),
    },
  };
}

/** A candidate that passed everything but some rule probes: the repair round's verdict. */
function probeVerdict(ms: readonly ProbeMismatch[], of: number): Extract<Verdict, { ok: false }> {
  const first = ms[0]!;
  return {
    ok: false,
    reason: "probe_mismatch",
    summary: `${ms.length} of ${of} rule probe${of === 1 ? "" : "s"} disagree${ms.length === 1 ? "s" : ""} with the spec: ${first.probe.id}: expected ${first.expected}; ${first.actual.split("\n")[0]}`,
    feedback: mismatchFeedback(ms),
    diagnostics: ms.map((m) => ({ probe: m.probe.id, rule: m.probe.rule, calls: m.probe.calls, expected: m.expected, actual: m.actual })),
  };
}

/** Drop the shown probes that the answer names as wrong (a ```wrong-probes block), keeping its reasons. */
function withdrawProbes(set: ProbeSet, shown: readonly ProbeMismatch[], content: string): void {
  const open = new Set(shown.map((m) => m.probe.id));
  for (const w of parseWrongProbes(content)) {
    if (!open.has(w.id)) continue;
    open.delete(w.id);
    set.probes = set.probes.filter((p) => p.id !== w.id);
    set.withdrawn.push(w);
  }
}

export async function writeSpecs(
  descriptions: readonly EnvDescription[],
  llm: LlmClient,
  options: SpecOptions,
  progress?: Progress,
): Promise<{ records: ItemRecord[]; specFiles: string[]; fatal?: Error }> {
  const system = specSystemPrompt(options.examples);
  const { results, fatal } = await runItems(descriptions, (d) => writeOneSpec(d, llm, options, system), progress);
  const done = results.filter((r): r is SpecOutcome => r !== undefined);
  return { records: done.map((r) => r.record), specFiles: done.flatMap((r) => (r.specFile ? [r.specFile] : [])), ...(fatal ? { fatal } : {}) };
}
