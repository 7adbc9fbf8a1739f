// The batch runner every LLM pipeline shares (topic mining, spec and scenario writing,
// rollouts): run one async job per item, all at once, while the client's concurrency limit
// decides how many requests are really in flight. Results keep input order, so outputs do not
// depend on which answer came first; a fatal LlmError (the server is down, the key is refused)
// ends the batch as `fatal` instead of every in-flight item rediscovering it.
// Assumes jobs throw LlmError for LLM failures; anything else is a bug and rethrows.
import { LlmError } from "./client.js";
import type { Progress } from "./progress.js";

/**
 * Run `fn` on every item (the LLM client limits how many requests are in flight). Results come
 * back in input order; a fatal LlmError is returned as `fatal`, with the results of the items
 * that finished before or despite it (undefined for the items it ended).
 */
export async function runItems<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, progress?: Progress): Promise<{ results: (R | undefined)[]; fatal?: LlmError }> {
  const settled = await Promise.allSettled(items.map(async (item, i) => {
    const r = await fn(item, i);
    progress?.tick();
    return r;
  }));
  let fatal: LlmError | undefined;
  const results = settled.map((s) => {
    if (s.status === "fulfilled") return s.value;
    if (s.reason instanceof LlmError && s.reason.fatal) {
      fatal ??= s.reason;
      return undefined;
    }
    throw s.reason;
  });
  return { results, ...(fatal ? { fatal } : {}) };
}
