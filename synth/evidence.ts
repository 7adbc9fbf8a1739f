// The evidence `synth specs` keeps for every environment it keeps, beside the spec and in the
// report: recorded examples (as `envc examples` records them, plus the rule probes that
// passed), the fuzz coverage of the kept candidate (per tool reached or not, the share of
// preconditions that failed at least once), and a mutation score over a seeded sample of
// mutants, killed by fuzzing or by the examples. All of it is deterministic for the same spec,
// state and seeds, so report lines stay the same on a rerun.
import * as path from "node:path";
import { checkSource } from "../compiler/pipeline.js";
import { hasErrors } from "../compiler/diagnostics.js";
import { writeAtomic } from "../compiler/project.js";
import { loadDefinition } from "../compiler/load.js";
import type { FuzzReport } from "../compiler/fuzz/engine.js";
import {
  findExamples, examplesToJsonl, defaultExamplesFile, expectationsFileOf, loadExamples, exampleKind, type LoadedExample,
} from "../compiler/fuzz/examples.js";
import { mutateSpec, BaselineError, type MutationSubject } from "../compiler/fuzz/mutate.js";
import { runEpisode } from "../runtime/index.js";
import type { IEnv } from "../compiler/ir.js";
import { probeExampleId, type Probe, type ProbeSet } from "./probes.js";

/** What `envc examples` uses by default (cli/examples.ts): the same search, the same files. */
const EXAMPLE_SEARCH = { runs: 6000, maxCalls: 6, perTool: 10, generated: true };
/** What `envc mutate` uses by default (cli/mutate.ts) per mutant. */
const MUTATE_FUZZ = { runs: 100, maxCalls: 20 };

export interface FuzzEvidence {
  runs: number;
  calls: number;
  /** tools with at least one successful call, of all tools */
  toolsReached: number;
  tools: number;
  /** preconditions (require, fail, let ... else) that failed at least once, of all */
  requiresFailed: number;
  requires: number;
  /** requiresFailed / requires, 0..1 (1 when there are none) */
  requiresFailedFraction: number;
  perTool: { tool: string; kind: string; calls: number; ok: number; reached: boolean; requiresFailed: string }[];
  /** tools that never succeeded, and preconditions that never failed (with their location) */
  notReached: string[];
  neverFailed: string[];
}

export interface MutationEvidence {
  /** mutants generated, before sampling */
  generated: number;
  sampled: number;
  killed: number;
  survived: number;
  stillborn: number;
  equivalent: number;
  /** killed / (killed + survived), 0..1 */
  score: number;
  /** how many were killed by fuzzing and by the examples */
  killedBy: Record<string, number>;
  survivors: { operator: string; description: string; location: string }[];
  /** what fuzzing the kept spec already finds, which the mutants were measured against (envc mutate's baseline) */
  known?: string[];
}

export interface ProbeEvidence {
  asked: number;
  passed: number;
  /** the passing probes' ids, as kept in examples.jsonl (`probe.<id>`) */
  kept: string[];
  malformed: { id: string; problem: string }[];
  /** probes the model named as wrong in a repair round (dropped), with its reason */
  withdrawn: { id: string; reason: string }[];
  error?: string;
}

export interface SpecEvidence {
  fuzz?: FuzzEvidence;
  examples?: { file: string; count: number; successes: number; preconditions: number; boundaries: number; probes: number; notReached: string[] } | { error: string };
  mutation?: MutationEvidence | { error: string };
  probes?: ProbeEvidence;
}

export interface EvidenceOptions {
  seed: number;
  /** mutants sampled for the score (0: no mutation score) */
  mutants: number;
}

/** Fuzz runs for a candidate: the flag's runs, raised to 20 per tool (0 stays 0: no fuzzing). */
export function fuzzBudget(fuzzRuns: number, env: IEnv): number {
  if (fuzzRuns <= 0) return 0;
  return Math.max(fuzzRuns, 20 * env.tools.filter((t) => t.kind !== "fn").length);
}

/**
 * The coverage of a fuzz report, with locations moved to the kept file: the candidate was
 * fuzzed as `judgedFile` without the header lines the kept file starts with.
 */
export function fuzzEvidence(report: FuzzReport, judgedFile: string, keptFile: string, headerLines: number): FuzzEvidence {
  const move = (loc: string) => {
    const m = /^(.*):(\d+):(\d+)$/.exec(loc);
    return m && m[1] === judgedFile ? `${keptFile}:${Number(m[2]) + headerLines}:${m[3]}` : loc;
  };
  const perTool = report.coverage.map((c) => ({
    tool: c.tool, kind: c.kind, calls: c.calls, ok: c.ok, reached: c.ok > 0,
    requiresFailed: `${c.requires.filter((r) => r.failures > 0).length}/${c.requires.length}`,
  }));
  const all = report.coverage.flatMap((c) => c.requires);
  const failed = all.filter((r) => r.failures > 0).length;
  return {
    runs: report.runs,
    calls: report.calls,
    toolsReached: perTool.filter((t) => t.reached).length,
    tools: perTool.length,
    requiresFailed: failed,
    requires: all.length,
    requiresFailedFraction: all.length ? Math.round((failed / all.length) * 1000) / 1000 : 1,
    perTool,
    notReached: report.coverage.filter((c) => c.ok === 0).map((c) => `${c.tool} never succeeded in ${c.calls} calls`),
    neverFailed: report.coverage.flatMap((c) => c.requires.filter((r) => r.failures === 0).map((r) => `${move(r.location)}: ${r.kind} "${r.message}" in ${c.tool}`)),
  };
}

/**
 * Record the examples of a kept spec beside it (examples.jsonl and examples.expect.jsonl,
 * written atomically, as `envc examples` writes them) with the passing probes after them, and
 * score a sample of its mutants against fuzzing and those examples.
 */
export async function keepEvidence(
  specFile: string, source: string, stateFile: string, state: unknown, passed: readonly Probe[], options: EvidenceOptions,
): Promise<Pick<SpecEvidence, "examples" | "mutation">> {
  const checked = checkSource(source, specFile);
  if (!checked.env || hasErrors(checked.diagnostics)) return { examples: { error: "the kept spec does not compile as written" } };
  const env = checked.env;
  const def = loadDefinition(env);
  const set = findExamples(env, def, [{ state, file: path.resolve(stateFile) }], { seed: options.seed, ...EXAMPLE_SEARCH });
  const start = set.starts.findIndex((s) => s.seed?.file === path.resolve(stateFile));
  const ids = new Set(set.examples.map((e) => e.id));
  let probeCount = 0;
  if (start >= 0)
    for (const p of passed) {
      const id = probeExampleId(p);
      if (ids.has(id)) continue;
      ids.add(id);
      // `included`: recording again with `envc examples` keeps them, as it keeps --include'd episodes
      set.examples.push({ id, goal: "included", start, calls: p.calls });
      probeCount++;
      const run = runEpisode(set.starts[start]!.env, p.calls, "json");
      run.results.forEach((r, i) => {
        if (r.ok) set.unreached = set.unreached.filter((u) => u !== `${p.calls[i]!.name} never succeeded`);
      });
    }
  const file = defaultExamplesFile(specFile);
  const { episodes, expectations } = examplesToJsonl(set, file);
  await writeAtomic(file, episodes);
  await writeAtomic(expectationsFileOf(file), expectations);
  const count = (k: ReturnType<typeof exampleKind>) => set.examples.filter((e) => exampleKind(e) === k).length;
  const examples = {
    file: file.split(path.sep).join("/"), count: set.examples.length, successes: count("ok"), preconditions: count("trip"), boundaries: count("edge"),
    probes: probeCount, notReached: set.unreached,
  };
  if (options.mutants <= 0) return { examples };
  return { examples, mutation: mutationEvidence({ file: specFile, source, env, scenarioFiles: [], seedStates: [state], examples: loadExamples(file) }, options) };
}

/**
 * The mutation score of a kept spec: the one place synth runs `envc mutate`'s engine, over a
 * seeded sample of mutants, each fuzzed and replayed against the recorded examples.
 */
function mutationEvidence(subject: MutationSubject & { examples: LoadedExample[] }, options: EvidenceOptions): MutationEvidence | { error: string } {
  let report;
  try {
    report = mutateSpec(subject, { seed: options.seed, ...MUTATE_FUZZ, maxMutants: options.mutants, generated: true });
  } catch (err) {
    if (err instanceof BaselineError) return { error: err.message };
    throw err;
  }
  const count = (s: string) => report.results.filter((r) => r.status === s).length;
  const killedBy: Record<string, number> = {};
  for (const r of report.results) if (r.killedBy) killedBy[r.killedBy.by] = (killedBy[r.killedBy.by] ?? 0) + 1;
  return {
    generated: report.generated,
    sampled: report.results.length,
    killed: report.killed,
    survived: count("survived"),
    stillborn: count("stillborn"),
    equivalent: count("equivalent"),
    score: Math.round(report.score * 1000) / 1000,
    killedBy,
    survivors: report.results.filter((r) => r.status === "survived").map((r) => ({ operator: r.operator, description: r.description, location: r.location })),
    ...(report.known ? { known: report.known.map((k) => k.message) } : {}),
  };
}

/** The probes part of the evidence. */
export function probeEvidence(set: ProbeSet, passed: readonly Probe[]): ProbeEvidence {
  return {
    asked: set.probes.length + set.malformed.length + set.withdrawn.length,
    passed: passed.length,
    kept: passed.map(probeExampleId),
    malformed: set.malformed,
    withdrawn: set.withdrawn,
    ...(set.error ? { error: set.error } : {}),
  };
}
