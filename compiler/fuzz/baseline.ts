// `envc mutate` on a spec whose original already fails fuzzing (a real bug in the spec, kept or
// not yet fixed). Refusing would leave such a spec without a score, and counting every mutant
// whose fuzzing fails as killed would count the original's bug for each of them. Instead the
// original's findings become the baseline: fuzzing the original is repeated with each finding
// found so far marked as known (the fuzzer counts a call that shows it again and goes on, see
// FuzzOptions.known) until it finds nothing new, up to MAX_KNOWN findings. A mutant is then
// killed by fuzzing when its own fuzzing (with the same findings known) finds anything else, or
// when the counterexample of a known finding replays differently on it (another result for a
// call, another final state: the mutant changed what the bug does, or removed it). The report
// lists the known findings, so nobody mistakes the score for a clean bill.
import { Environment, StateError, diffIsEmpty, stringifyOrdered, type CallResult, type EnvDefinition } from "../../runtime/index.js";
import type { IEnv } from "../ir.js";
import { findingKey, fuzzEnv, type Finding, type FuzzCall, type FuzzOptions } from "./engine.js";

/** More distinct findings than this and the original is too broken to measure against. */
export const MAX_KNOWN = 3;

export interface KnownFinding {
  key: string;
  finding: Finding;
  /** the tools its counterexample calls */
  tools: Set<string>;
  /** what the original did on the counterexample: each call's result (shown), and the final state */
  results: string[];
  final: Environment;
}

/** A call's result as compared on the counterexample: success and value, or kind and message. */
function shown(r: CallResult): string {
  return stringifyOrdered(r.ok ? { ok: true, value: r.value } : { ok: false, kind: r.kind, error: r.error });
}

function replay(start: Environment, calls: readonly FuzzCall[]): { results: string[]; final: Environment } {
  const live = start.fork();
  return { results: calls.map((c) => shown(live.call(c.name, c.arguments))), final: live };
}

/**
 * The original's fuzz findings, each new one found with the earlier ones known; `problem` when
 * there are too many, or one that is no bug of the spec's (a run that does not replay the same).
 */
export function knownFindings(
  env: IEnv, def: EnvDefinition, states: readonly unknown[], options: FuzzOptions,
): { known: KnownFinding[] } | { problem: string; finding: Finding } {
  const known: KnownFinding[] = [];
  for (;;) {
    const report = fuzzEnv(env, def, states, { ...options, known: new Set(known.map((k) => k.key)) });
    const f = report.finding;
    if (!f) return { known };
    if (f.property === "nondeterministic") return { problem: "a fuzz run of the original does not replay the same", finding: f };
    if (known.length >= MAX_KNOWN) return { problem: `fuzzing the original finds more than ${MAX_KNOWN} different problems`, finding: f };
    const start = Environment.createFrom(def, f.initial);
    known.push({ key: findingKey(f), finding: f, tools: new Set(f.calls.map((c) => c.name)), ...replay(start, f.calls) });
  }
}

/** Why the counterexample of `k` comes out differently on `def` (a mutant's), or undefined. */
export function replaysDifferently(k: KnownFinding, def: EnvDefinition): string | undefined {
  let start: Environment;
  try {
    start = Environment.createFrom(def, k.finding.initial);
  } catch (err) {
    if (err instanceof StateError) return "its initial state is not valid on the mutant";
    throw err;
  }
  const run = replay(start, k.finding.calls);
  const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 197)}...` : s);
  for (let i = 0; i < run.results.length; i++)
    if (run.results[i] !== k.results[i])
      return `call ${i + 1} (${k.finding.calls[i]!.name}) gave ${clip(run.results[i]!)} where the original gave ${clip(k.results[i]!)}`;
  if (!diffIsEmpty(k.final.diff(run.final))) return "the calls leave another state than on the original";
  return undefined;
}
