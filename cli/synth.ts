// `envc synth topics|specs|env`: argument parsing and printing for the LLM synthesis
// pipelines in synth/. Also the LLM options every LLM verb shares (`addLlmOptions`,
// `llmClient`, `finishRun`): model, server, cache, retries, timeouts, prices, the report and
// the metrics, and the checks that refuse, before any request is sent, an output or cache
// path that cannot be written (a file where a folder is wanted, a path under a file).
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { OutputError } from "../compiler/output-files.js";
import { LlmClient, type LlmStats, type StructuredMode } from "../synth/llm/client.js";
import { ConfigError, resolveLlmConfig, type LlmOptionValues } from "../synth/llm/config.js";
import { Progress } from "../synth/llm/progress.js";
import { metricsOf, summaryLines, writeReport, type ItemRecord } from "../synth/report.js";
import { InputError, slug } from "../synth/run.js";
import { descriptionLine, mineTopics, parseDescriptions, parseTasks, type EnvDescription } from "../synth/topics.js";
import { writeSpecs } from "../synth/specs.js";
import { DEFAULT_EXAMPLES } from "../synth/prompts.js";
import { evidenceLine } from "../synth/evidence.js";
import { checkSource } from "../compiler/pipeline.js";
import { hasErrors } from "../compiler/diagnostics.js";
import { type Io, ExitError, usage, int, readInput } from "./common.js";

/** A commander parser for a number of at least `min`. */
export const num = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}, got '${v}'`);
  return n;
};

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

/** Read and parse an input file; unreadable or malformed input is a usage error naming the line. */
export async function readItems<T>(io: Io, file: string, what: string, parse: (text: string, file: string) => T): Promise<T> {
  const text = await readInput(io, file, what);
  try {
    return parse(text, file);
  } catch (err) {
    if (err instanceof InputError) usage(io, err.message);
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

export type { LlmStats };

interface TopicsCli extends LlmCliOptions {
  tasks: string;
  out: string;
  dedup: "lexical" | "embeddings";
  threshold?: number;
  minScore: number;
}

interface SpecsCli extends LlmCliOptions {
  descriptions?: string;
  out: string;
  rounds: number;
  fuzzRuns: number;
  fuzzSeed: number;
  fuzzTime?: number;
  example?: string[];
  name?: string;
  probes: number | false;
  mutants: number;
}

export function registerSynth(program: Command, io: Io) {
  const synth = program
    .command("synth")
    .description("write environments with an LLM: mine topics from tasks, write and repair specs");

  addLlmOptions(
    synth
      .command("topics")
      .description("task texts -> does each need a stateful environment? -> environment descriptions, de-duplicated (JSONL)")
      .requiredOption("--tasks <file>", "JSONL of tasks: {\"id\": ..., \"task\": \"...\"} per line (sample: synth/data/task-sample.jsonl)")
      .requiredOption("--out <file>", "JSONL of environment descriptions to write")
      .addOption(new Option("--dedup <how>", "near-duplicate detection: lexical (word overlap) or embeddings (from the server)").choices(["lexical", "embeddings"]).default("lexical"))
      .option("--threshold <x>", "similarity from which two descriptions are duplicates (default 0.6 lexical, 0.9 embeddings)", num(0))
      .option("--min-score <n>", "drop descriptions whose usefulness or modelability (1-5) is below this", int(1), 3),
  ).action(async (o: TopicsCli) => {
    const tasks = await readItems(io, o.tasks, "the tasks file", parseTasks);
    if (tasks.length === 0) usage(io, `${o.tasks} holds no tasks`);
    const reportFile = o.report ?? reportBeside(o.out);
    const llm = await startLlmRun(io, o, o.out, "file", reportFile);
    await reportIoErrors(io, async () => {
      const started = performance.now();
      const progress = new Progress("topics", tasks.length);
      const { descriptions, records, fatal } = await mineTopics(tasks, llm, { dedup: o.dedup, threshold: o.threshold, minScore: o.minScore }, progress);
      progress.stop();
      if (!fatal) {
        await writeAtomic(o.out, descriptions.map((d) => descriptionLine(d) + "\n").join(""));
        io.err(`wrote ${descriptions.length} description${descriptions.length === 1 ? "" : "s"} to ${o.out}`);
      }
      await finishRun(io, o, llm, records, started, reportFile, fatal);
    });
  });

  const specOptions = (cmd: Command) =>
    cmd
      .option("--rounds <n>", "repair rounds after the first answer", int(0), 3)
      .option("--fuzz-runs <n>", "fuzz runs per candidate spec, raised to 20 per tool (0: do not fuzz)", int(0), 100)
      .option("--fuzz-seed <n>", "fuzz seed (same seed, same runs)", int(0), 1)
      .option("--fuzz-time <seconds>", "fuzz time budget per candidate (fuzzing blocks the process, so keep it well under --timeout)", num(0.001), 20)
      .option("--probes <n>", "rule probes asked for per environment (written from the description, tools and sample state; replayed on the spec)", int(1), 8)
      .option("--no-probes", "do not ask for rule probes")
      .option("--mutants <n>", "mutants sampled for each kept spec's mutation score (0: no score)", int(0), 40)
      .option("--example <file...>", `example specs for the prompt (default: ${DEFAULT_EXAMPLES.join(", ")})`);

  const runSpecs = async (descriptions: EnvDescription[], o: SpecsCli) => {
    // an example is copied into every prompt: it must be readable and a sound spec
    for (const e of o.example ?? []) {
      const checked = checkSource(await readInput(io, e, "the example spec"), e);
      if (!checked.env || hasErrors(checked.diagnostics)) usage(io, `the example spec ${e} is not a spec that compiles (see envc check ${e}); the model learns from it, so give a sound one`);
    }
    const reportFile = o.report ?? path.join(o.out, "synth-report.jsonl");
    const llm = await startLlmRun(io, o, o.out, "folder", reportFile);
    await reportIoErrors(io, async () => {
      const started = performance.now();
      const progress = new Progress("specs", descriptions.length);
      const { records, fatal } = await writeSpecs(descriptions, llm, {
        out: o.out, rounds: o.rounds, fuzzRuns: o.fuzzRuns, fuzzSeed: o.fuzzSeed, probes: o.probes === false ? 0 : o.probes, mutants: o.mutants,
        ...(o.fuzzTime ? { fuzzTimeMs: o.fuzzTime * 1000 } : {}),
        examples: o.example?.length ? o.example.map((e) => path.resolve(e)) : DEFAULT_EXAMPLES,
      }, progress);
      progress.stop();
      await finishRun(io, o, llm, records, started, reportFile, fatal);
    });
  };

  addLlmOptions(specOptions(
    synth
      .command("specs")
      .description("environment descriptions -> .env specs with sample states, compiled, fuzzed and repaired; kept ones go to <out>/<name>/")
      .requiredOption("--descriptions <file>", "JSONL of descriptions ({name, summary, introduction}), as `synth topics` writes")
      .requiredOption("--out <dir>", "folder for the kept environments"),
  )).action(async (o: SpecsCli) => {
    const descriptions = await readItems(io, o.descriptions!, "the descriptions file", parseDescriptions);
    if (descriptions.length === 0) usage(io, `${o.descriptions} holds no descriptions`);
    await runSpecs(descriptions, o);
  });

  addLlmOptions(specOptions(
    synth
      .command("env")
      .description("one environment from a description on the command line, e.g. envc synth env \"a hotel booking system\" --out envs/")
      .argument("<description>", "what the environment is, in a sentence or a paragraph")
      .requiredOption("--out <dir>", "folder for the environment (written to <out>/<name>/)")
      .option("--name <name>", "folder and env name, e.g. hotel-booking (default: from the description's words)"),
  )).action(async (text: string, o: SpecsCli) => {
    if (!text.trim()) usage(io, "the description is empty");
    const name = slug(o.name ?? text.replace(/^\s*(an?|the)\s+/i, ""), o.name ? 8 : 4);
    if (!name) usage(io, "cannot make a name from the description: pass --name, e.g. --name hotel-booking");
    await runSpecs([{ name, summary: text.trim().split("\n")[0]!, introduction: text.trim(), usefulness: 0, modelability: 0, tasks: [] }], o);
  });
}
