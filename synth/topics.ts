// Topic mining (`envc synth topics`): task texts -> does each need a stateful environment
// (with reasons) -> an environment description (name, summary, introduction, usefulness and
// modelability scores) -> low scores and near-duplicates dropped -> descriptions as JSONL.
// Duplicates are found lexically by default (Jaccard similarity of the stemmed words of name
// and summary) or with embeddings from the server (cosine); the first in input order is kept
// and gathers the task ids of its duplicates.
import { z } from "zod";
import { stringifyOrdered, parseJsonLines, JsonLinesError } from "../runtime/index.js";
import { runItems, type LlmClient, type Progress } from "../llm/index.js";
import { TOPIC_SYSTEM, topicClassifyPrompt, topicDescribePrompt } from "./prompts.js";
import type { ItemRecord } from "./report.js";
import { InputError, failedItem, slug } from "./run.js";

export interface TaskText {
  id: string;
  task: string;
}

export interface EnvDescription {
  name: string;
  summary: string;
  introduction: string;
  usefulness: number;
  modelability: number;
  /** ids of the tasks that led to it (the first, then its duplicates) */
  tasks: string[];
}

export const ClassifySchema = z.object({
  stateful: z.boolean(),
  reasons: z.string(),
});

const score = z.number().int().min(1).max(5);
export const DescribeSchema = z.object({
  name: z.string().min(1),
  summary: z.string().min(1),
  introduction: z.string().min(1),
  usefulness: score,
  modelability: score,
});

export interface TopicOptions {
  dedup: "lexical" | "embeddings";
  /** similarity at or above which two descriptions are duplicates (default 0.6 lexical, 0.9 embeddings) */
  threshold?: number;
  /** drop descriptions whose usefulness or modelability is below this (default 3) */
  minScore: number;
}

/** JSONL objects; a bad line is an InputError naming the file and line. */
function parseJsonl(text: string, file: string): { line: number; value: Record<string, unknown> }[] {
  try {
    return parseJsonLines(text, file);
  } catch (err) {
    if (!(err instanceof JsonLinesError)) throw err;
    throw new InputError(`${file}:${err.line}: ${err.syntax !== undefined ? `not valid JSON (${err.syntax})` : "expected a JSON object"}`);
  }
}

/** Task texts from JSONL: `{"id": "t1", "task": "..."}` per line (`text` is accepted for `task`; the id defaults to the line number). */
export function parseTasks(text: string, file: string): TaskText[] {
  const seen = new Set<string>();
  return parseJsonl(text, file).map(({ line, value }) => {
    const task = value.task ?? value.text;
    if (typeof task !== "string" || !task.trim()) throw new InputError(`${file}:${line}: expected {"id": "...", "task": "the task text"}`);
    const id = value.id === undefined ? `line-${line}` : String(value.id);
    if (seen.has(id)) throw new InputError(`${file}:${line}: task id '${id}' appears twice`);
    seen.add(id);
    return { id, task: task.trim() };
  });
}

/** Descriptions from JSONL (what `synth topics` writes; tasks, scores and introduction optional). */
export function parseDescriptions(text: string, file: string): EnvDescription[] {
  const seen = new Set<string>();
  return parseJsonl(text, file).map(({ line, value }) => {
    if (typeof value.name !== "string" || typeof value.summary !== "string")
      throw new InputError(`${file}:${line}: expected {"name": "hotel-booking", "summary": "...", "introduction": "..."}`);
    const name = slug(value.name, 8);
    if (!name) throw new InputError(`${file}:${line}: the name '${value.name}' has no letters or digits`);
    if (seen.has(name)) throw new InputError(`${file}:${line}: the name '${name}' appears twice (each environment is written to its own folder)`);
    seen.add(name);
    const num = (v: unknown) => (typeof v === "number" ? v : 0);
    return {
      name,
      summary: value.summary,
      introduction: typeof value.introduction === "string" ? value.introduction : value.summary,
      usefulness: num(value.usefulness),
      modelability: num(value.modelability),
      tasks: Array.isArray(value.tasks) ? value.tasks.map(String) : [],
    };
  });
}

export function descriptionLine(d: EnvDescription): string {
  return stringifyOrdered({ name: d.name, summary: d.summary, introduction: d.introduction, usefulness: d.usefulness, modelability: d.modelability, tasks: d.tasks });
}

const STOP = new Set("a an and are as at be by for from has have in into is it its of on or that the their them they this to with who whom which where what when can do does".split(" "));

/** Stemmed content words: lowercase, stop words out, a plural or -ing ending dropped. */
export function words(text: string): Set<string> {
  const out = new Set<string>();
  for (let w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (w.length < 2 || STOP.has(w)) continue;
    if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
    else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
    out.add(w);
  }
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size && !b.size) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * (b[i] ?? 0);
    na += a[i]! * a[i]!;
    nb += (b[i] ?? 0) * (b[i] ?? 0);
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

const textOf = (d: { name: string; summary: string }) => `${d.name.replace(/-/g, " ")}: ${d.summary}`;

type Mined = { record: ItemRecord; description?: Omit<EnvDescription, "tasks"> };

async function mineOne(t: TaskText, llm: LlmClient): Promise<Mined> {
  let rounds = 0;
  try {
    const system = { role: "system" as const, content: TOPIC_SYSTEM };
    const c = await llm.json({ name: "stateful", schema: ClassifySchema, messages: [system, { role: "user", content: topicClassifyPrompt(t.task) }] });
    rounds += repairTurns(c.messages);
    if (!c.value.stateful) return { record: { stage: "topic", item: t.id, fate: "dropped", reason: "not_stateful", detail: c.value.reasons, rounds } };
    const d = await llm.json({ name: "environment", schema: DescribeSchema, messages: [system, { role: "user", content: topicDescribePrompt(t.task) }] });
    rounds += repairTurns(d.messages);
    const name = slug(d.value.name) || `env-${slug(t.id)}`;
    return {
      record: { stage: "topic", item: t.id, fate: "kept", detail: c.value.reasons, rounds },
      description: { name, summary: d.value.summary.trim(), introduction: d.value.introduction.trim(), usefulness: d.value.usefulness, modelability: d.value.modelability },
    };
  } catch (err) {
    return { record: failedItem("topic", t.id, err, rounds) };
  }
}

/** Repair turns in a JSON conversation: assistant answers before the accepted one. */
function repairTurns(messages: { role: string }[]): number {
  return messages.filter((m) => m.role === "assistant").length - 1;
}

export async function mineTopics(
  tasks: readonly TaskText[],
  llm: LlmClient,
  options: TopicOptions,
  progress?: Progress,
): Promise<{ descriptions: EnvDescription[]; records: ItemRecord[]; fatal?: Error }> {
  const { results, fatal } = await runItems(tasks, (t) => mineOne(t, llm), progress);
  const mined = results.filter((r): r is Mined => r !== undefined);
  const records = mined.map((m) => m.record);
  if (fatal) return { descriptions: [], records, fatal };

  // scores, then duplicates, in input order: the first of a group is kept
  const candidates = mined.filter((m) => m.description);
  let vectors: number[][] | undefined;
  if (options.dedup === "embeddings") {
    try {
      vectors = await llm.embed(candidates.map((m) => textOf(m.description!)));
    } catch (err) {
      return { descriptions: [], records, fatal: err as Error };
    }
  }
  const threshold = options.threshold ?? (options.dedup === "embeddings" ? 0.9 : 0.6);
  const kept: { d: EnvDescription; words: Set<string>; vector?: number[] }[] = [];
  const names = new Set<string>();
  candidates.forEach((m, i) => {
    const d = m.description!;
    const r = m.record;
    if (Math.min(d.usefulness, d.modelability) < options.minScore) {
      Object.assign(r, { fate: "dropped", reason: "low_score", detail: `usefulness ${d.usefulness}, modelability ${d.modelability} (below --min-score ${options.minScore})` });
      return;
    }
    const w = words(textOf(d));
    let best: { k: (typeof kept)[number]; sim: number } | undefined;
    for (const k of kept) {
      const sim = vectors ? cosine(vectors[i]!, k.vector!) : jaccard(w, k.words);
      if (sim >= threshold && (!best || sim > best.sim)) best = { k, sim };
    }
    if (best) {
      best.k.d.tasks.push(r.item);
      Object.assign(r, { fate: "dropped", reason: "duplicate", detail: `duplicate of ${best.k.d.name} (similarity ${best.sim.toFixed(2)})` });
      return;
    }
    let name = d.name;
    for (let n = 2; names.has(name); n++) name = `${d.name}-${n}`;
    names.add(name);
    const desc: EnvDescription = { ...d, name, tasks: [r.item] };
    kept.push({ d: desc, words: w, ...(vectors ? { vector: vectors[i]! } : {}) });
    r.output = name;
  });
  return { descriptions: kept.map((k) => k.d), records };
}
