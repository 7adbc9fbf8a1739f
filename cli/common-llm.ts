// What the LLM verbs (synth, scen, rollout) share: the LLM options (model, server, cache,
// retries, timeouts, prices, the report), the client made from them, the checks that refuse,
// before any request is sent, an output or cache path that cannot be written (a file where a
// folder is wanted, a path under a file), system errors while writing as one line, and the
// end of a synth run (each item's fate, the metrics, the report). Apart from cli/common.ts
// so that the verbs that never call a model do not load the OpenAI client.
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";
import { Option, type Command } from "commander";
import { OutputError } from "../util/output-files.js";
import { ConfigError, LlmClient, resolveLlmConfig, type LlmOptionValues, type StructuredMode } from "../llm/index.js";
import { evidenceLine, metricsOf, summaryLines, writeReport, type ItemRecord } from "../synth/report.js";
import { type Io, ExitError, usage, int, num } from "./common.js";

export function addLlmOptions(cmd: Command): Command {
  return cmd
    .option("--model <name>", "model name (default: $ENVC_MODEL)")
    .option("--base-url <url>", "OpenAI-compatible server, ending in /v1 (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)")
    .option("--api-key <key>", "API key (default: $OPENAI_API_KEY; not needed for a server on localhost)")
    .option("--temperature <t>", "sampling temperature (default: the server's)", num(0))
    .option("--max-tokens <n>", "most tokens per answer (default: the server's)", int(1))
    .option("--concurrency <n>", "most requests in flight", int(1), 4)
    .option("--cache <dir>", "cache folder: every answer is kept, a rerun sends nothing already answered", ".envc-cache")
    .option("--no-cache", "do not read or write the cache")
    .option("--timeout <seconds>", "per-request timeout", num(0.001), 120)
    .option("--retries <n>", "retries on 429, 5xx, timeouts and connection errors", int(0), 4)
    .option("--retry-base-ms <ms>", "first backoff; doubles each retry (a 429's Retry-After is honoured)", int(0), 1000)
    .addOption(new Option("--structured <mode>", "how JSON answers are requested; auto steps down json_schema -> json_object -> prompt when the server refuses").choices(["auto", "json_schema", "json_object", "prompt"]).default("auto"))
    .option("--embedding-model <name>", "model for /embeddings (default: --model)")
    .option("--price-in <usd>", "USD per 1,000 prompt tokens, for the cost in the metrics", num(0))
    .option("--price-out <usd>", "USD per 1,000 completion tokens", num(0))
    .option("--report <file>", "JSONL report: each item's fate, then the metrics");
}

export interface LlmCliOptions {
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  temperature?: number;
  maxTokens?: number;
  concurrency: number;
  cache: string | false;
  timeout: number;
  retries: number;
  retryBaseMs: number;
  structured: StructuredMode;
  embeddingModel?: string;
  priceIn?: number;
  priceOut?: number;
  report?: string;
}

/** The client for these options, or a usage error (exit 2) saying what to set. */
export function llmClient(io: Io, o: LlmCliOptions): LlmClient {
  const values: LlmOptionValues = {
    model: o.model, baseUrl: o.baseUrl, apiKey: o.apiKey, temperature: o.temperature, maxTokens: o.maxTokens,
    concurrency: o.concurrency, cache: o.cache, timeout: o.timeout, retries: o.retries, retryBaseMs: o.retryBaseMs,
    structured: o.structured, embeddingModel: o.embeddingModel, priceIn: o.priceIn, priceOut: o.priceOut,
  };
  try {
    // while the server is silent, say what is awaited (and for how long), even without a progress bar
    return new LlmClient(resolveLlmConfig(values), (message) => io.err(`envc: ${message}`));
  } catch (err) {
    if (err instanceof ConfigError) usage(io, err.message);
    throw err;
  }
}

/**
 * Refuse, before any request is sent, an output that cannot be written: a file where a folder
 * is wanted or the reverse, or a path whose nearest existing folder is a file or not
 * writable. Otherwise a run would spend its requests and then fail at the first write.
 */
export async function checkWritable(io: Io, target: string, kind: "file" | "folder", what: string): Promise<void> {
  const stat = async (p: string) => fs.stat(p).catch(() => undefined);
  const st = await stat(target);
  if (st && kind === "folder" && !st.isDirectory()) usage(io, `${what} ${target} is a file: name a folder (it is created when missing)`);
  if (st && kind === "file" && st.isDirectory()) usage(io, `${what} ${target} is a folder: name a file`);
  if (st && kind === "file" && !st.isFile()) usage(io, `${what} ${target} is not a regular file (a FIFO or a device): name a file`);
  let dir = st && kind === "folder" ? path.resolve(target) : path.dirname(path.resolve(target));
  for (;;) {
    const s = await stat(dir);
    if (s) {
      const shown = path.isAbsolute(target) ? dir : path.relative(process.cwd(), dir) || ".";
      if (!s.isDirectory()) usage(io, `cannot write ${what} ${target}: ${shown} is a file, not a folder`);
      await fs.access(dir, fsConstants.W_OK).catch(() => usage(io, `cannot write ${what} ${target}: no permission to write in ${shown}`));
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/** The cache folder and the report, checked as `checkWritable` does. */
export async function checkLlmOutputs(io: Io, o: LlmCliOptions, report: string): Promise<void> {
  if (o.cache !== false) await checkWritable(io, o.cache, "folder", "the cache folder");
  await checkWritable(io, report, "file", "the report");
}

/**
 * Before an LLM run that writes `out` (a file or a folder) and a report: the client from the
 * options (a bad option is a usage error), then every place it will write checked, so that a
 * run never fails at its end for want of a writable folder.
 */
export async function startLlmRun(io: Io, o: LlmCliOptions, out: string, kind: "file" | "folder", report: string): Promise<LlmClient> {
  const llm = llmClient(io, o);
  await checkWritable(io, out, kind, "--out");
  await checkLlmOutputs(io, o, report);
  return llm;
}

/**
 * A system error (disk full, permissions changed mid-run) while writing outputs or the cache:
 * one line naming the path (Node's message does), exit 1, not an internal error. Anything
 * else passes through.
 */
export async function reportIoErrors<T>(io: Io, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof OutputError || (typeof e?.code === "string" && typeof e.syscall === "string")) {
      io.err(`envc: ${e.message}`);
      throw new ExitError(1);
    }
    throw err;
  }
}

/**
 * End a run: print each item's fate and the metrics, write the report, and exit 1 when the
 * server failed (after saying that a rerun resumes from the cache) or nothing was kept.
 */
export async function finishRun(io: Io, o: LlmCliOptions, llm: LlmClient, records: ItemRecord[], started: number, reportFile: string, fatal?: Error): Promise<void> {
  for (const r of records) {
    if (r.fate === "kept") io.err(`kept ${r.stage} ${r.item}${r.output ? ` -> ${r.output}` : ""}${r.rounds ? ` (${r.rounds} repair round${r.rounds === 1 ? "" : "s"})` : ""}`);
    else io.err(`dropped ${r.stage} ${r.item} (${r.reason}): ${(r.detail ?? "").split("\n")[0]}`);
    if (r.fate === "kept" && r.evidence) io.err(`  evidence: ${evidenceLine(r.evidence)}`);
  }
  const metrics = metricsOf(records, llm.stats, performance.now() - started, fatal?.message);
  for (const l of summaryLines(metrics)) io.err(l);
  await writeReport(reportFile, records, metrics);
  io.err(`report: ${reportFile}`);
  if (fatal) {
    io.err(`envc: ${fatal.message}${o.cache !== false ? `; the answers received so far are cached in ${o.cache}: rerun to resume` : ""}`);
    throw new ExitError(1);
  }
  if (records.length && !records.some((r) => r.fate === "kept")) {
    io.err(`envc: nothing was kept: each item's reason and last diagnostics are in ${reportFile}`);
    throw new ExitError(1);
  }
}

/** `x.jsonl` -> `x.report.jsonl` */
export function reportBeside(file: string): string {
  return file.replace(/(\.jsonl)?$/, ".report.jsonl");
}
