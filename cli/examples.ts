// `envc examples`: record, for each spec, short call sequences that pin down its tools (a few
// successes per tool, one call per precondition that trips it, calls on and next to the
// boundary of each comparison the tools evaluate) as an `envc replay` episodes
// file and its expectations. `--check` replays the recorded files instead and fails when the
// spec no longer behaves as recorded (a regression suite; `envc mutate` replays them too).
import * as path from "node:path";
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { loadDefinition } from "../compiler/load.js";
import { seedStateSources } from "../compiler/fuzz/seeds.js";
import {
  findExamples, examplesToJsonl, includeEpisodes, expectationsFileOf, defaultExamplesFile, loadExamples, firstExampleMismatch, exampleKind, ExamplesError,
} from "../compiler/fuzz/examples.js";
import { type Io, ExitError, checkAllOrExit, usage, int } from "./common.js";

interface ExamplesCliOptions {
  seed: number;
  runs: number;
  maxCalls: number;
  perTool: number;
  generated: boolean;
  deepen: boolean;
  out?: string;
  check?: boolean;
  include: string[];
  init?: string;
}

export function registerExamples(program: Command, io: Io) {
  program
    .command("examples")
    .description("record short call sequences that pin down each tool (successes, each precondition tripped, each comparison on and next to its boundary) as replayable episodes with expectations; --check replays them")
    .argument("<inputs...>", "spec files or folders")
    .option("--out <file>", "episodes file (one spec only; default examples.jsonl beside each spec; expectations go to <name>.expect.jsonl)")
    .option("--check", "do not record: replay the recorded examples and fail on any difference")
    .option("--seed <n>", "seed of the search (same seed, same examples)", int(0), 1)
    .option("--runs <n>", "call sequences tried per spec", int(1), 6000)
    .option("--max-calls <n>", "longest call sequence tried", int(1), 6)
    .option("--per-tool <n>", "successful examples per tool, each with a different result", int(1), 10)
    .option("--no-generated", "start only from the sample and scenario states, not from generated ones")
    .option("--no-deepen", "keep only what the random search finds: no local search around its examples (changed states, an action run first)")
    .option("--include <episodes>", "also record these episodes (an envc replay episodes file; repeatable), after the examples found", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--init <state>", "the initial state of included episodes that name none")
    .addHelpText("after", "\nExamples start from the spec's state.json and scenario states (named by path) or from generated\nstates (written inline). Check them with: envc examples SPEC --check, or\nenvc replay SPEC --episodes examples.jsonl --expect examples.expect.jsonl")
    .action(async (inputs: string[], opts: ExamplesCliOptions) => {
      const { specs } = await checkAllOrExit(io, inputs);
      const envSpecs = specs.filter((s) => s.env && !s.scenariosFor);
      if (opts.out && envSpecs.length !== 1) usage(io, `--out names one file, but ${envSpecs.length} specs were given`);
      let failed = 0;
      for (const spec of envSpecs) {
        const env = spec.env!;
        const file = opts.out ?? defaultExamplesFile(spec.file);
        const def = loadDefinition(env);
        if (opts.check) {
          if (!existsSync(file)) {
            io.out(`${spec.file}: no examples (${file})`);
            continue;
          }
          let mismatch;
          try {
            const examples = loadExamples(file);
            mismatch = firstExampleMismatch(def, examples);
            if (!mismatch) io.out(`${spec.file}: ${examples.length} examples replay as recorded`);
          } catch (err) {
            if (!(err instanceof ExamplesError)) throw err;
            io.err(`envc examples: ${err.message}`);
            throw new ExitError(2);
          }
          if (mismatch) {
            failed++;
            io.err(`${spec.file}: example ${mismatch.id} (${file}) differs: ${mismatch.message}`);
            io.err(`  if the change is intended, re-record: envc examples ${spec.file}`);
          }
          continue;
        }
        const { seeds, skipped } = seedStateSources(spec.file, env);
        for (const sk of skipped) io.err(`skipped as a seed state: ${sk}`);
        const set = findExamples(env, def, seeds, {
          seed: opts.seed, runs: opts.runs, maxCalls: opts.maxCalls, perTool: opts.perTool, generated: opts.generated, deepen: opts.deepen,
        });
        let included = 0;
        try {
          // episodes included by an earlier recording stay; found examples are searched afresh
          if (existsSync(file)) included += includeEpisodes(set, def, file, undefined, true);
          for (const inc of opts.include) included += includeEpisodes(set, def, inc, opts.init);
        } catch (err) {
          if (!(err instanceof ExamplesError)) throw err;
          io.err(`envc examples: ${err.message}`);
          throw new ExitError(2);
        }
        const { episodes, expectations } = examplesToJsonl(set, file);
        await writeAtomic(file, episodes);
        await writeAtomic(expectationsFileOf(file), expectations);
        const count = (k: ReturnType<typeof exampleKind>) => set.examples.filter((e) => exampleKind(e) === k).length;
        const shown = path.relative(process.cwd(), file);
        io.out(
          `${spec.file} -> ${shown.startsWith("..") ? file : shown}: ${set.examples.length} examples (${count("ok")} successes, ` +
            `${count("trip")} preconditions tripped, ${count("edge")} comparison boundaries${included ? `, ${included} included` : ""})`,
        );
        for (const u of set.unreached) io.out(`  not reached: ${u}`);
      }
      if (failed) throw new ExitError(1);
    });
}
