// What a run cost in requests, tokens, money and time, from the clients' accounting
// (LlmStats): the metrics object that reports write (synth's and rollout's) and the one line
// printed at the end of every LLM run. Pipelines add their own metrics around it (synth its
// stages, rollout its episodes); the keys and their order here are part of the report format.
import type { LlmStats } from "./client.js";

export interface UsageMetrics {
  requests: number;
  failedAttempts: number;
  cacheHits: number;
  jsonRepairs: number;
  tokens: { prompt: number; completion: number; estimated: number };
  costUsd: number | null;
  structured: string;
  wallSeconds: number;
  /** set when the run stopped early (the server failed); items after the failure are missing */
  aborted?: string;
}

/** The usage metrics of a run that took `wallMs` and, when it stopped early, why. */
export function usageMetrics(stats: LlmStats, wallMs: number, aborted?: string): UsageMetrics {
  return {
    requests: stats.requests,
    failedAttempts: stats.failedAttempts,
    cacheHits: stats.cacheHits,
    jsonRepairs: stats.jsonRepairs,
    tokens: { prompt: stats.promptTokens, completion: stats.completionTokens, estimated: stats.estimatedUsage },
    costUsd: stats.costUsd === null ? null : Math.round(stats.costUsd * 1e6) / 1e6,
    structured: stats.structured,
    wallSeconds: Math.round(wallMs / 100) / 10,
    ...(aborted ? { aborted } : {}),
  };
}

/** "requests: 12 sent, 3 cache hits; tokens: 1,200 in, 300 out; 4.2 s": the last line of every LLM run. */
export function usageLine(m: UsageMetrics): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const cost = m.costUsd === null ? "" : `, cost $${m.costUsd.toFixed(4)}`;
  const failed = m.failedAttempts ? ` (${n(m.failedAttempts)} failed)` : "";
  const est = m.tokens.estimated ? ` (${m.tokens.estimated} answers without usage, estimated)` : "";
  return `requests: ${n(m.requests)} sent${failed}, ${n(m.cacheHits)} cache hits; tokens: ${n(m.tokens.prompt)} in, ${n(m.tokens.completion)} out${est}${cost}; ${m.wallSeconds.toFixed(1)} s`;
}

/** Two clients' accounting added up (an agent and its simulated user, say). */
export function sumStats(a: LlmStats, b?: LlmStats): LlmStats {
  if (!b || a === b) return a;
  return {
    requests: a.requests + b.requests,
    failedAttempts: a.failedAttempts + b.failedAttempts,
    cacheHits: a.cacheHits + b.cacheHits,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    estimatedUsage: a.estimatedUsage + b.estimatedUsage,
    jsonRepairs: a.jsonRepairs + b.jsonRepairs,
    costUsd: a.costUsd === null && b.costUsd === null ? null : (a.costUsd ?? 0) + (b.costUsd ?? 0),
    structured: a.structured,
  };
}
