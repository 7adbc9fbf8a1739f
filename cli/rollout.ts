// `envc rollout`: options and printing for running an agent model against scenarios (the work
// is in agent/rollout.ts). Loads specs and datasets as `envc serve` does, selects scenarios,
// runs `--samples K` episodes each through the LLM options every LLM verb shares
// (cli/common-llm.ts: cache, concurrency, retries), writes the trajectories as JSONL
// (atomically, in input order), a report beside them, and prints the metrics.
import * as path from "node:path";
import { Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { RENDERERS, stringifyOrdered, type RendererName } from "../runtime/index.js";
import { Progress, sumStats, usageLine, usageMetrics } from "../llm/index.js";
import {
  episodesOf, rollout, rolloutMetrics, rolloutSummaryLines, selectScenarios, SelectionError,
  type RolloutMode, type RolloutTrajectory,
} from "../agent/rollout.js";
import { STOP_MARKER } from "../agent/user-sim.js";
import { type Io, ExitError, int, loadOrExit, num, usage } from "./common.js";
import { addLlmOptions, checkLlmOutputs, checkWritable, llmClient, reportBeside, reportIoErrors, type LlmCliOptions } from "./common-llm.js";

interface RolloutCli extends LlmCliOptions {
  out: string;
  scenario?: string[];
  env?: string[];
  dataset?: string[];
  samples: number;
  maxSteps: number;
  mode?: RolloutMode;
  userModel?: string;
  userTemperature: number;
  seed: number;
  renderer: RendererName;
  checks: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerRollout(program: Command, io: Io) {
  addLlmOptions(
    program
      .command("rollout")
      .description("run an agent model (chat completions with the compiled tools) against scenarios; write trajectories (JSONL) with rewards")
      .argument("<inputs...>", "spec files or folders (with their scenarios), and JSONL scenario datasets (*.jsonl)")
      .requiredOption("--out <file>", "trajectories JSONL to write (the format: docs/serving.md#trajectories-and-export)")
      .option("--scenario <id>", "roll out only this scenario (repeat for more)", collect)
      .option("--env <name>", "only this environment's scenarios (repeat for more)", collect)
      .option("--dataset <file>", "only the scenarios of this JSONL dataset (repeat for more)", collect)
      .option("--samples <k>", "rollouts per scenario (sample k sends seed + k, so samples differ and cache apart)", int(1), 1)
      .option("--max-steps <n>", "most agent turns (model answers) per episode", int(1), 30)
      .addOption(new Option("--mode <mode>", "task: the task is the user message; conversation: a simulated user holds it as a hidden goal (default: task, or conversation with --user-model)").choices(["task", "conversation"]))
      .option("--user-model <name>", "conversation mode: the simulated user's model (default: --model)")
      .option("--user-temperature <t>", "the simulated user's temperature", num(0), 0)
      .option("--seed <n>", "seed sent with every request: the agent's sample k uses seed + k, the simulated user seed", int(0), 0)
      .addOption(new Option("--renderer <name>", "how tool results are shown to the agent").choices([...RENDERERS]).default("json"))
      .option("--no-checks", "do not check ensure, invariants and references after actions"),
  )
    .addHelpText("after", `
Modes: in task mode an episode ends when the agent answers in plain text or after --max-steps
turns. In conversation mode the simulated user speaks first and ends the dialogue by writing
${STOP_MARKER}; --max-steps bounds the agent's turns over the whole conversation.
Tool errors go back to the agent as observations; environment faults are recorded in the
trajectory (its reward is then null) and the episode goes on.

Examples:
  envc rollout specs/library --out runs/library.jsonl --model gpt-4.1-mini --samples 4 --temperature 0.7
  envc rollout specs/ --scenario marcus_settles_up --mode conversation --out runs/marcus.jsonl \\
      --base-url http://localhost:11434/v1 --model qwen2.5:14b
Docs: docs/cli.md#envc-rollout-inputs, docs/serving.md#trajectories-and-export`)
    .action(async (inputs: string[], o: RolloutCli) => {
      if (!o.out.endsWith(".jsonl")) usage(io, `--out ${o.out}: name the trajectories file *.jsonl`);
      if (o.mode === "task" && o.userModel) usage(io, "--user-model is for --mode conversation (the simulated user); task mode has no user model");
      for (const d of o.dataset ?? []) if (!d.endsWith(".jsonl")) usage(io, `--dataset ${d}: a dataset is a JSONL file of scenarios (*.jsonl)`);
      const mode: RolloutMode = o.mode ?? (o.userModel ? "conversation" : "task");
      const reportFile = o.report ?? reportBeside(o.out);
      if (path.resolve(reportFile) === path.resolve(o.out)) usage(io, `--report ${reportFile} is the --out file: name another file for the report`);
      // a dataset named as an input too, however spelled, is loaded once (twice would be duplicate ids)
      const given = new Set(inputs.map((i) => path.resolve(i)));
      const all = [...inputs, ...[...new Set(o.dataset ?? [])].filter((d) => !given.has(path.resolve(d)))];
      const { envs, skipped } = await loadOrExit(io, all, "rollout", `envc verify ${all.join(" ")}`);
      for (const s of skipped) io.err(`warning: scenario ${s.env}/${s.scenario} is left out: ${s.diagnostic.message.split("\n")[0]}`);
      let scenarios;
      try {
        scenarios = selectScenarios(envs, { scenarios: o.scenario, envs: o.env, datasets: o.dataset });
      } catch (err) {
        if (err instanceof SelectionError) usage(io, err.message);
        throw err;
      }
      const agent = llmClient(io, o);
      const userModel = o.userModel ?? agent.config.model;
      // the user's temperature and seed go with each of its requests, so one client serves
      // both roles unless the user has its own model
      const user = mode === "conversation" && userModel !== agent.config.model ? llmClient(io, { ...o, model: userModel }) : undefined;
      const items = episodesOf(scenarios, o.samples);
      // refuse outputs that cannot be written before any request is sent
      await checkWritable(io, o.out, "file", "--out");
      await checkLlmOutputs(io, o, reportFile);
      await reportIoErrors(io, async () => {
        const started = performance.now();
        const progress = new Progress("rollouts", items.length);
        let result;
        try {
          result = await rollout(items, agent, user, {
            mode, samples: o.samples, maxSteps: o.maxSteps, seed: o.seed, userTemperature: o.userTemperature, renderer: o.renderer, checks: o.checks,
          }, progress);
        } finally {
          progress.stop(); // a bar left running would garble the error printed after it
        }
        const { trajectories, fatal } = result;

        const done = trajectories.filter((t): t is RolloutTrajectory => t !== undefined);
        for (const t of done) if (t.ended === "error") io.err(`episode ${t.env}/${t.scenario} sample ${t.sample} ended early: ${t.error}`);
        if (!fatal) {
          await writeAtomic(o.out, done.map((t) => JSON.stringify(t) + "\n").join(""));
          io.err(`wrote ${done.length} trajector${done.length === 1 ? "y" : "ies"} to ${o.out} (${mode} mode, ${scenarios.length} scenario${scenarios.length === 1 ? "" : "s"} x ${o.samples} sample${o.samples === 1 ? "" : "s"})`);
        }
        const episodes = rolloutMetrics(done);
        const spent = usageMetrics(sumStats(agent.stats, user?.stats), performance.now() - started, fatal?.message);
        for (const l of [...rolloutSummaryLines(episodes), usageLine(spent)]) io.err(l);
        const lines = done.map((t) => stringifyOrdered({
          kind: "episode", env: t.env, scenario: t.scenario, sample: t.sample, reward: t.reward.reward, passed: t.reward.passed, total: t.reward.total,
          steps: t.steps, ended: t.ended, faults: t.faults.length, agentErrors: t.reward.agentErrors, ...(t.error ? { error: t.error } : {}),
        }));
        const { jsonRepairs: _j, structured: _s, ...requests } = spent;
        lines.push(stringifyOrdered({ kind: "metrics", mode, ...episodes, ...requests }));
        await writeAtomic(reportFile, lines.join("\n") + "\n");
        io.err(`report: ${reportFile}`);
        if (fatal) {
          io.err(`envc: ${fatal.message}${o.cache !== false ? `; the answers received so far are cached in ${o.cache}: rerun to resume` : ""}; nothing written to ${o.out}`);
          throw new ExitError(1);
        }
        if (done.length && done.every((t) => t.ended === "error")) {
          io.err(`envc: every episode ended with an error (the first: ${done[0]!.error}); the trajectories are in ${o.out}`);
          throw new ExitError(1);
        }
      });
    });
}
