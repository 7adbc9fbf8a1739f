// `envc synth topics|specs|env`: argument parsing and printing for the LLM synthesis
// pipelines in synth/. The LLM options, the client and the end of a run are shared with the
// other LLM verbs through cli/common-llm.ts.
import * as path from "node:path";
import { Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { Progress } from "../llm/index.js";
import { InputError, slug } from "../synth/run.js";
import { descriptionLine, mineTopics, parseDescriptions, parseTasks, type EnvDescription } from "../synth/topics.js";
import { writeSpecs } from "../synth/specs.js";
import { DEFAULT_EXAMPLES } from "../synth/prompts.js";
import { checkSource } from "../compiler/pipeline.js";
import { hasErrors } from "../compiler/diagnostics.js";
import { type Io, usage, int, num, readInput } from "./common.js";
import { addLlmOptions, finishRun, reportBeside, reportIoErrors, startLlmRun, type LlmCliOptions } from "./common-llm.js";

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
