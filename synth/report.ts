// The fate of every item a synth run attempted (kept, or dropped with a reason and the last
// diagnostics), the run's metrics (attempted, kept, dropped by reason, repair rounds of kept
// items, requests, tokens, cache hits, cost, wall time), the summary printed at the end, and
// the JSONL report: one line per item in input order, then one line of metrics; and the line
// printed for each kept spec's evidence.
// Items are deterministic for the same inputs and cache; the metrics line is not (it counts
// what this run sent and how long it took).
import { writeAtomic } from "../compiler/project.js";
import { stringifyOrdered } from "../runtime/index.js";
import { usageLine, usageMetrics, type LlmStats, type UsageMetrics } from "../llm/index.js";
import type { SpecEvidence } from "./evidence.js";

export type Stage = "topic" | "spec" | "scenario";

export interface ItemRecord {
  stage: Stage;
  /** what the item is: a task id, an environment name, env/scenario */
  item: string;
  fate: "kept" | "dropped";
  /** why it was dropped (a short code: compile_errors, fuzz_finding, duplicate, ...) */
  reason?: string;
  /** one line for people */
  detail?: string;
  /** repair rounds used: answers sent back with what was wrong, beyond the first */
  rounds: number;
  /** for each round that failed: what was wrong, in one line */
  history?: string[];
  /** the last diagnostics (JSON) of a dropped item */
  diagnostics?: unknown[];
  /** where a kept item was written */
  output?: string;
  /** for a spec: its rule probes, fuzz coverage, recorded examples and mutation score */
  evidence?: SpecEvidence;
}

export interface StageMetrics {
  attempted: number;
  kept: number;
  dropped: number;
  droppedBy: Record<string, number>;
  /** number of kept items by repair rounds used: {"0": 3, "1": 1} */
  keptByRounds: Record<string, number>;
  meanRoundsKept: number | null;
  /** for specs: the evidence of the kept ones, summed */
  evidence?: EvidenceTotals;
}

export interface EvidenceTotals {
  probes: { asked: number; passed: number; withdrawn: number; malformed: number; unusableAnswers: number };
  examples: number;
  toolsReached: number;
  tools: number;
  requiresFailed: number;
  requires: number;
  /** the mean of the kept specs' mutation scores (null: none scored) */
  meanMutationScore: number | null;
}

function evidenceTotals(kept: readonly ItemRecord[]): EvidenceTotals | undefined {
  const es = kept.flatMap((i) => (i.evidence ? [i.evidence] : []));
  if (!es.length) return undefined;
  const sum = (f: (e: SpecEvidence) => number | undefined) => es.reduce((n, e) => n + (f(e) ?? 0), 0);
  const scores = es.flatMap((e) => (e.mutation && "score" in e.mutation ? [e.mutation.score] : []));
  return {
    probes: {
      asked: sum((e) => e.probes?.asked), passed: sum((e) => e.probes?.passed), withdrawn: sum((e) => e.probes?.withdrawn.length),
      malformed: sum((e) => e.probes?.malformed.length), unusableAnswers: sum((e) => (e.probes?.error ? 1 : 0)),
    },
    examples: sum((e) => (e.examples && "count" in e.examples ? e.examples.count : 0)),
    toolsReached: sum((e) => e.fuzz?.toolsReached),
    tools: sum((e) => e.fuzz?.tools),
    requiresFailed: sum((e) => e.fuzz?.requiresFailed),
    requires: sum((e) => e.fuzz?.requires),
    meanMutationScore: scores.length ? Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 1000) / 1000 : null,
  };
}

/** A synth run's metrics: each stage's items, then what the run cost (llm/usage.ts). */
export interface Metrics extends UsageMetrics {
  stages: Partial<Record<Stage, StageMetrics>>;
}

export function stageMetrics(items: readonly ItemRecord[]): StageMetrics {
  const kept = items.filter((i) => i.fate === "kept");
  const droppedBy: Record<string, number> = {};
  for (const i of items) if (i.fate === "dropped") droppedBy[i.reason ?? "unknown"] = (droppedBy[i.reason ?? "unknown"] ?? 0) + 1;
  const keptByRounds: Record<string, number> = {};
  for (const i of kept) keptByRounds[String(i.rounds)] = (keptByRounds[String(i.rounds)] ?? 0) + 1;
  const evidence = evidenceTotals(kept);
  return {
    attempted: items.length,
    kept: kept.length,
    dropped: items.length - kept.length,
    droppedBy: sortedRecord(droppedBy),
    keptByRounds: Object.fromEntries(Object.entries(keptByRounds).sort((a, b) => Number(a[0]) - Number(b[0]))),
    meanRoundsKept: kept.length ? Math.round((kept.reduce((n, i) => n + i.rounds, 0) / kept.length) * 100) / 100 : null,
    ...(evidence ? { evidence } : {}),
  };
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function metricsOf(items: readonly ItemRecord[], stats: LlmStats, wallMs: number, aborted?: string): Metrics {
  const stages: Metrics["stages"] = {};
  for (const stage of ["topic", "spec", "scenario"] as Stage[]) {
    const of = items.filter((i) => i.stage === stage);
    if (of.length) stages[stage] = stageMetrics(of);
  }
  // stages first: the report's metrics line has always listed them before the usage
  return { stages, ...usageMetrics(stats, wallMs, aborted) };
}

const STAGE_NOUN: Record<Stage, string> = { topic: "tasks", spec: "environments", scenario: "scenarios" };

/** The lines printed at the end of every run. */
export function summaryLines(m: Metrics): string[] {
  const out: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  for (const [stage, s] of Object.entries(m.stages) as [Stage, StageMetrics][]) {
    const reasons = Object.entries(s.droppedBy).map(([r, c]) => `${r} ${c}`).join(", ");
    out.push(`${STAGE_NOUN[stage]}: ${s.attempted} attempted, ${s.kept} kept, ${s.dropped} dropped${reasons ? ` (${reasons})` : ""}`);
    if (s.kept) {
      const rounds = Object.entries(s.keptByRounds).map(([r, c]) => `${c} after ${r} round${r === "1" ? "" : "s"}`).join(", ");
      out.push(`  repair rounds of kept ${STAGE_NOUN[stage]}: ${rounds} (mean ${s.meanRoundsKept})`);
    }
    const e = s.evidence;
    if (e) {
      const p = e.probes;
      const probeNotes = [p.withdrawn ? `${p.withdrawn} withdrawn` : "", p.malformed ? `${p.malformed} malformed` : "", p.unusableAnswers ? `${p.unusableAnswers} answer${p.unusableAnswers === 1 ? "" : "s"} unusable` : ""].filter(Boolean).join(", ");
      out.push(
        `  evidence of kept ${STAGE_NOUN[stage]}: ${n(e.examples)} examples; rule probes ${p.passed}/${p.asked} passed${probeNotes ? ` (${probeNotes})` : ""}; ` +
          `fuzz ${e.toolsReached}/${e.tools} tools reached, ${e.requiresFailed}/${e.requires} requires failed; ` +
          `mean mutation score ${e.meanMutationScore === null ? "-" : `${Math.round(e.meanMutationScore * 100)}%`}`,
      );
    }
  }
  out.push(usageLine(m));
  return out;
}

/** One line for people: `44 examples (3 probes), fuzz 4/4 tools reached, ...`. */
export function evidenceLine(e: SpecEvidence): string {
  const parts: string[] = [];
  if (e.examples) parts.push("error" in e.examples ? `examples: ${e.examples.error}` : `${e.examples.count} examples${e.examples.probes ? ` (${e.examples.probes} from probes)` : ""}`);
  if (e.probes) parts.push(e.probes.error ? `probes: ${e.probes.error.split("\n")[0]}` : `probes ${e.probes.passed}/${e.probes.asked} passed`);
  if (e.fuzz) parts.push(`fuzz ${e.fuzz.runs} runs: ${e.fuzz.toolsReached}/${e.fuzz.tools} tools reached, ${e.fuzz.requiresFailed}/${e.fuzz.requires} requires failed`);
  if (e.mutation) parts.push("error" in e.mutation ? `mutation: ${e.mutation.error.split("\n")[0]}` : `mutation score ${Math.round(e.mutation.score * 100)}% (${e.mutation.killed}/${e.mutation.killed + e.mutation.survived})`);
  return parts.join("; ");
}

export async function writeReport(file: string, items: readonly ItemRecord[], metrics: Metrics): Promise<void> {
  const lines = items.map((i) => stringifyOrdered({ kind: "item", ...i }));
  lines.push(stringifyOrdered({ kind: "metrics", ...metrics }));
  await writeAtomic(file, lines.join("\n") + "\n");
}
