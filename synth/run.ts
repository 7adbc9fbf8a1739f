// What every synth pipeline shares: running items concurrently while keeping their results in
// input order (so outputs do not depend on which answer came first), stopping at the first
// fatal LLM failure, turning per-item failures into dropped records, and input errors that
// name the file and line.
import { LlmError, OutputError } from "./llm/client.js";
import type { ItemRecord, Stage } from "./report.js";
import type { Progress } from "./llm/progress.js";

/** Bad input (a JSONL line, a missing field): the message names the file and line. */
export class InputError extends Error {}

/**
 * Run `fn` on every item (the LLM client limits how many requests are in flight). Results come
 * back in input order; a fatal LlmError (the server is down, the key is refused) is returned
 * as `fatal`, with the results of the items that finished before or despite it.
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

/**
 * The record of an item that failed on an LLM error that is not fatal: an answer that never
 * became valid JSON, or a request the server rejected (too long, say). Fatal errors rethrow.
 */
export function failedItem(stage: Stage, item: string, err: unknown, rounds: number, history: string[] = []): ItemRecord {
  if (err instanceof OutputError)
    return { stage, item, fate: "dropped", reason: "invalid_output", detail: err.message, rounds, ...(history.length ? { history } : {}) };
  if (err instanceof LlmError && !err.fatal)
    return { stage, item, fate: "dropped", reason: "request_rejected", detail: err.message, rounds, ...(history.length ? { history } : {}) };
  throw err;
}

/** "hotel-booking" from any text: lowercase words of letters and digits joined by hyphens. */
export function slug(text: string, maxWords = 5): string {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents, split off by NFKD
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, maxWords)
    .join("-")
    .slice(0, 48)
    .replace(/-+$/, "");
}

/** "HotelBooking" from "hotel-booking": the env name of a spec. */
export function pascal(name: string): string {
  const p = name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z]/.test(p) ? p : `Env${p}`;
}
