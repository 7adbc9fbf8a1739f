// `envc scen`: argument parsing and printing for scenario writing (synth/scenarios.ts): for
// each spec given, N scenarios written by the model, verified as `envc verify` does and
// repaired from the diagnostics; the kept ones go to a JSONL dataset.
import type { Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import type { IEnv } from "../compiler/ir.js";
import type { CheckedSpec } from "../compiler/pipeline.js";
import { Progress } from "../llm/index.js";
import { writeScenarios } from "../synth/scenarios.js";
import { type Io, checkAllOrExit, usage, int } from "./common.js";
import { addLlmOptions, finishRun, reportBeside, reportIoErrors, startLlmRun, type LlmCliOptions } from "./common-llm.js";

interface ScenCli extends LlmCliOptions {
  out: string;
  perEnv: number;
  rounds: number;
  minSteps: number;
}

export function registerScen(program: Command, io: Io) {
  addLlmOptions(
    program
      .command("scen")
      .description("write verified scenarios for specs with an LLM: initial state, task, checks and a reference solution, repaired until `envc verify` passes")
      .argument("<inputs...>", "spec files or folders (e.g. the output folder of `envc synth specs`)")
      .requiredOption("--out <file>", "JSONL dataset of the kept scenarios (`envc verify SPECS FILE` accepts it)")
      .option("--per-env <n>", "scenarios to write per environment", int(1), 5)
      .option("--rounds <n>", "repair rounds after the first answer, for the state and for the checks", int(0), 3)
      .option("--min-steps <n>", "fewest tool calls in a reference solution", int(1), 2),
  ).action(async (inputs: string[], o: ScenCli) => {
    if (!o.out.endsWith(".jsonl")) usage(io, `--out ${o.out}: name the dataset *.jsonl, so that \`envc verify\` reads it as one`);
    const { specs } = await checkAllOrExit(io, inputs);
    const envs = specs.filter((s): s is CheckedSpec & { env: IEnv } => !!s.env && !s.scenariosFor);
    const names = new Map<string, string>();
    for (const s of envs) {
      if (names.has(s.env.name)) usage(io, `${s.file} and ${names.get(s.env.name)} both define env ${s.env.name}; dataset lines name environments, so give them different names`);
      names.set(s.env.name, s.file);
    }
    if (envs.length === 0) usage(io, `no environment specs in ${inputs.join(" ")} (only scenario files): name the specs`);
    const reportFile = o.report ?? reportBeside(o.out);
    const llm = await startLlmRun(io, o, o.out, "file", reportFile);
    await reportIoErrors(io, async () => {
      const started = performance.now();
      const progress = new Progress("scenarios", envs.length * o.perEnv);
      const { lines, records, fatal } = await writeScenarios(envs, llm, { out: o.out, perEnv: o.perEnv, rounds: o.rounds, minSteps: o.minSteps }, progress);
      progress.stop();
      if (!fatal) {
        await writeAtomic(o.out, lines.map((l) => l + "\n").join(""));
        io.err(`wrote ${lines.length} scenario${lines.length === 1 ? "" : "s"} to ${o.out} (check: envc verify ${inputs.join(" ")} ${o.out})`);
      }
      await finishRun(io, o, llm, records, started, reportFile, fatal);
    });
  });
}
