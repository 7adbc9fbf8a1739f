// What the synth pipelines share beyond the LLM layer (whose batch runner, llm/batch.ts, runs
// their items): turning per-item LLM failures into dropped records, input errors that name
// the file and line, names made from descriptions, and the check of a state the model wrote
// (a spec's sample state, a scenario's initial state).
import { Environment, JsonSyntaxError, StateError, parseJsonOrdered, type EnvDefinition } from "../runtime/index.js";
import { LlmError, OutputError } from "../llm/index.js";
import type { ItemRecord, Stage } from "./report.js";

/** Bad input (a JSONL line, a missing field): the message names the file and line. */
export class InputError extends Error {}

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

/** What is wrong with a state the model wrote: a few words for people, the details for the model. */
export interface StateProblem {
  /** "is not valid JSON at line 3, column 5", "does not fit the spec (2 problems: $.a: ...)" */
  summary: string;
  /** the same with every problem (at most 15) on its own line with its JSON path */
  details: string;
  /** the runtime's problems, for the report */
  problems?: unknown[];
}

/** Parse a state (JSON text) and validate it against the schema, references and invariants. */
export function validateState(text: string, def: EnvDefinition): { state: unknown } | StateProblem {
  let state: unknown;
  try {
    state = parseJsonOrdered(text);
  } catch (err) {
    const where = err instanceof JsonSyntaxError ? ` at line ${err.line}, column ${err.column}` : "";
    return { summary: `is not valid JSON${where}`, details: `is not valid JSON${where}: ${(err as Error).message}` };
  }
  try {
    Environment.createFrom(def, state);
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    const n = err.problems.length;
    const shown = err.problems.slice(0, 15).map((p) => `  ${p.path}: ${p.message}`);
    if (n > 15) shown.push(`  ... and ${n - 15} more`);
    return {
      summary: `does not fit the spec (${n} problem${n === 1 ? "" : "s"}: ${err.problems[0]!.path}: ${err.problems[0]!.message})`,
      details: `does not fit the spec. Each problem with its JSON path:\n${shown.join("\n")}`,
      problems: err.problems,
    };
  }
  return { state };
}
