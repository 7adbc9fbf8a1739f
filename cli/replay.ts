// `envc replay`: one episode (a state and calls, or a scenario's solution, with its reward) or
// a batch of episodes compared with expected outputs and changed records. The spec (and a
// --dataset's scenarios) come from the cache of compiled specs when unchanged.
import * as path from "node:path";
import { Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { InitialStates } from "../compiler/initial-states.js";
import type { LoadedScenario } from "../compiler/instantiate.js";
import { renderPretty } from "../compiler/diagnostics.js";
import {
  Environment, RENDERERS, JsonLinesError, parseJsonLines, stringifyOrdered, runEpisode, scoreEpisode,
  compareEpisode, expectationOf, changedState, stateChangesOf, type RendererName, type EnvDefinition, type EpisodeCall, type EpisodeExpectation,
  type Reward, type CallResult,
} from "../runtime/index.js";
import {
  type Io, type StateCache, ExitError, loadCompiledSpec, noCacheOption, usage, formatDiff, int, readInput, createEnvironment, stateEnvironment,
} from "./common.js";
import type { LoadedEnv } from "../compiler/instantiate.js";

interface ReplayOptions {
  init?: string;
  calls?: string;
  reply?: string;
  scenario?: string;
  dataset?: string;
  episodes?: string;
  expect?: string;
  record?: string;
  renderer: RendererName;
  format: "pretty" | "json";
  checks: boolean;
  seed?: number;
  cache: boolean;
}

export function registerReplay(program: Command, io: Io) {
  program
    .command("replay")
    .description("replay tool calls on a spec: one episode (with --scenario, its reward) or a batch compared with expectations")
    .argument("<spec>", "a .env file, or a folder holding one (scenario files beside it are loaded too)")
    .option("--init <file>", "initial state JSON (default: the scenario's, else state.json next to the spec)")
    .option("--calls <file>", "JSONL, one call per line: {\"name\": tool, \"arguments\": {...}} (default: the scenario's solution)")
    .option("--reply <text>", "what the agent told the user, for the scenario's answer checks (default: the scenario's reference reply when its solution is replayed, else none)")
    .option("--scenario <id>", "score the episode with this scenario's checks")
    .option("--dataset <file>", "a JSONL dataset holding the --scenario")
    .option("--episodes <file>", "batch: JSONL, one episode per line: {id, initial?, set?, calls: [{name, arguments}]} (set: changes made to the initial state first, [{path, value}])")
    .option("--expect <file>", "batch: JSONL, per episode id: {id, outputs: [...], changed: {tables, globals}}")
    .option("--record <file>", "batch: write what each episode gives as an --expect file")
    .addOption(new Option("--renderer <name>", "how results are shown to the agent").choices([...RENDERERS]).default("json"))
    .addOption(new Option("--format <format>", "human text or one JSON document").choices(["pretty", "json"]).default("pretty"))
    .option("--no-checks", "do not check ensure, invariants and references after actions")
    .option("--seed <n>", "seed for new_id counters", int(0))
    .addOption(noCacheOption())
    .action(async (specArg: string, opts: ReplayOptions) => {
      if (opts.episodes) return batch(io, specArg, opts);
      if (opts.expect || opts.record) usage(io, "--expect and --record go with --episodes");
      return single(io, specArg, opts);
    });
}

/** JSONL lines as values; a bad line stops with file:line:col. */
function parseJsonl(io: Io, text: string, file: string): { line: number; value: Record<string, unknown> }[] {
  try {
    return parseJsonLines(text, file);
  } catch (err) {
    if (!(err instanceof JsonLinesError)) throw err;
    io.err(err.message);
    throw new ExitError(2);
  }
}

/** An environment from a state file: read, parsed and validated (or known valid: the cache), each failure a clear error. */
async function stateFromFile(io: Io, loaded: LoadedEnv, file: string, what: string, opts: ReplayOptions, states: StateCache | undefined): Promise<Environment> {
  return stateEnvironment(io, loaded, await readInput(io, file, what), file, { checks: opts.checks, seed: opts.seed }, states);
}

function toCalls(io: Io, value: unknown, where: string): EpisodeCall[] {
  if (!Array.isArray(value)) {
    io.err(`${where}: "calls" must be a list of {"name": tool, "arguments": {...}}`);
    throw new ExitError(2);
  }
  return value.map((c, i) => {
    if (c === null || typeof c !== "object" || typeof (c as { name?: unknown }).name !== "string") {
      io.err(`${where}: call ${i + 1} must be {"name": tool, "arguments": {...}}`);
      throw new ExitError(2);
    }
    return { name: (c as { name: string }).name, arguments: (c as { arguments?: unknown }).arguments ?? {} };
  });
}

async function single(io: Io, specArg: string, opts: ReplayOptions) {
  // a dataset's scenarios are compiled (and cached) with the spec: read it first, for the key
  const dataset = opts.scenario && opts.dataset ? { file: opts.dataset, text: await readInput(io, opts.dataset, "dataset") } : undefined;
  const { loaded, states } = await loadCompiledSpec(io, specArg, "pretty", {
    cache: opts.cache,
    ...(dataset
      ? {
          extraFiles: [[dataset.file, dataset.text]],
          extraScenarios: async (spec) => {
            const { loadDataset } = await import("../compiler/dataset.js");
            const d = loadDataset(dataset.text, dataset.file, [spec]);
            const errors = d.diagnostics.filter((x) => x.severity === "error");
            for (const diag of errors) io.err(renderPretty(diag, new Map([[dataset.file, dataset.text]]), false));
            // errors are printed on each run: such a result is not cached
            return { scenarios: d.scenarios.map((s) => s.scenario), keep: errors.length === 0 };
          },
        }
      : {}),
  });
  const def = loaded.def;
  let scenario: LoadedScenario | undefined;
  if (opts.scenario) {
    const pool = loaded.scenarios;
    scenario = pool.find((s) => s.def.id === opts.scenario);
    if (!scenario) usage(io, `no scenario '${opts.scenario}' in ${loaded.file}${opts.dataset ? ` or ${opts.dataset}` : ""}${pool.length ? ` (there are: ${pool.map((s) => s.def.id).join(", ")})` : ""}`);
  } else if (opts.dataset) usage(io, "--dataset goes with --scenario");

  let initial: Environment;
  if (opts.init) initial = await stateFromFile(io, loaded, opts.init, "the state file", opts, states);
  else if (scenario) {
    const got = new InitialStates(def).get(scenario.start);
    if ("diagnostic" in got) {
      io.err(renderPretty(got.diagnostic(scenario.start), new Map(), false));
      throw new ExitError(1);
    }
    initial = got.env.fork({ checks: opts.checks, seed: opts.seed });
  } else {
    const statePath = path.join(path.dirname(loaded.file), "state.json");
    initial = await stateFromFile(io, loaded, statePath, "the state file (pass --init FILE)", opts, states);
  }

  let calls: EpisodeCall[];
  if (opts.calls) {
    const lines = parseJsonl(io, await readInput(io, opts.calls, "calls file"), opts.calls);
    calls = lines.flatMap(({ line, value }) => toCalls(io, [value], `${opts.calls}:${line}`));
  } else if (scenario) calls = scenario.def.solution.map((s) => ({ name: s.name, arguments: s.arguments }));
  else usage(io, "give the calls (--calls FILE.jsonl) or a scenario (--scenario ID) whose solution to replay");

  const run = runEpisode(initial, calls, opts.renderer);
  const diff = initial.diff(run.final);
  let reward: Reward | undefined;
  // the reply answer checks read: --reply, else the scenario's reference reply when its own solution is replayed
  if (scenario) reward = scoreEpisode(scenario.def, run.final, initial, run.results, opts.reply ?? (opts.calls ? "" : (scenario.def.reply ?? "")));
  if (opts.format === "json") {
    io.out(stringifyOrdered({
      calls: calls.map((c, i) => ({ name: c.name, arguments: c.arguments ?? {}, result: run.results[i], output: run.outputs[i] })),
      diff,
      ...(reward ? { scenario: scenario!.def.id, reward } : {}),
    }, 2));
    return exitOnFaults(io, run.results);
  }
  calls.forEach((c, i) => {
    io.out(`[${i + 1}] ${c.name}(${stringifyOrdered(c.arguments ?? {})})`);
    io.out(`    ${run.outputs[i]!.split("\n").join("\n    ")}`);
    const r = run.results[i]!;
    if (!r.ok) io.out(`    (${r.kind}${r.location ? ` at ${r.location}` : ""})`);
  });
  io.out(formatDiff(diff));
  if (reward) {
    io.out(`reward: ${reward.reward === null ? "not scored (environment fault)" : fmt(reward.reward)} (${reward.passed}/${reward.total} checks; ${reward.agentErrors} agent error${reward.agentErrors === 1 ? "" : "s"}, ${reward.envFaults} environment fault${reward.envFaults === 1 ? "" : "s"})`);
    for (const c of reward.checks) io.out(`  ${c.passed ? "PASS" : "FAIL"}  ${c.check}${c.error ? ` (${c.error})` : ""}`);
    for (const f of reward.faults) io.out(`  FAULT in call ${f.call + 1}: ${f.error}${f.location ? ` (at ${f.location})` : ""}`);
  }
  exitOnFaults(io, run.results);
}

/** An environment fault is a bug in the spec: say so and exit 1 (agent errors are fine). */
function exitOnFaults(io: Io, results: readonly CallResult[], what = "call"): void {
  const faults = results.flatMap((r, i) => (!r.ok && r.kind === "env_fault" ? [{ i, r }] : []));
  if (!faults.length) return;
  const { i, r } = faults[0]!;
  io.err(`replay: ${faults.length} environment fault${faults.length === 1 ? "" : "s"} (a bug in the spec); the first, in ${what} ${i + 1}: ${r.ok ? "" : r.error}${!r.ok && r.location ? ` at ${r.location}` : ""}`);
  throw new ExitError(1);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, "");
}

async function batch(io: Io, specArg: string, opts: ReplayOptions) {
  if (opts.calls || opts.scenario) usage(io, "--episodes replays many episodes; --calls and --scenario are for one");
  const { loaded, states } = await loadCompiledSpec(io, specArg, "pretty", { cache: opts.cache });
  const def = loaded.def;
  const spec = { file: loaded.file };
  const episodesFile = opts.episodes!;
  const episodes = parseJsonl(io, await readInput(io, episodesFile, "episodes file"), episodesFile);
  const expected = new Map<string, EpisodeExpectation>();
  if (opts.expect) {
    for (const { line, value } of parseJsonl(io, await readInput(io, opts.expect, "expectations file"), opts.expect)) {
      if (typeof value.id !== "string") {
        io.err(`${opts.expect}:${line}: an expectation needs a string "id"`);
        throw new ExitError(2);
      }
      expected.set(value.id, value as unknown as EpisodeExpectation);
    }
  }
  // initial states: the default (--init or state.json) and each path named by episodes, built once
  const cache = new Map<string, Environment>();
  const fromFile = async (file: string) => {
    let env = cache.get(file);
    if (!env) cache.set(file, (env = await stateFromFile(io, loaded, file, "the state file", opts, states)));
    return env;
  };
  const defaultInit = opts.init ?? path.join(path.dirname(spec.file), "state.json");
  const recorded: string[] = [];
  let identical = 0;
  const mismatches: { id: string; problems: string[] }[] = [];
  const seen = new Set<string>();
  const faulted: { id: string; call: number; result: CallResult }[] = [];
  for (const { line, value } of episodes) {
    const where = `${episodesFile}:${line}`;
    const id = typeof value.id === "string" ? value.id : String(line);
    if (seen.has(id)) {
      io.err(`${where}: episode id '${id}' appears twice`);
      throw new ExitError(2);
    }
    seen.add(id);
    let initial: Environment;
    if (value.initial === undefined || value.initial === null) initial = await fromFile(defaultInit);
    else if (typeof value.initial === "string") initial = await fromFile(path.resolve(path.dirname(episodesFile), value.initial));
    else initial = createEnvironment(io, def, value.initial, where, spec.file, { checks: opts.checks, seed: opts.seed });
    if (value.set !== undefined) {
      // changes made to the initial state before the calls (envc examples writes them)
      const changes = stateChangesOf(value.set);
      let changed: unknown;
      try {
        if (typeof changes === "string") throw new Error(changes);
        changed = changedState(initial.toJSON(), changes);
      } catch (err) {
        io.err(`${where}: ${(err as Error).message}`);
        throw new ExitError(2);
      }
      initial = createEnvironment(io, def, changed, where, spec.file, { checks: opts.checks, seed: opts.seed });
    }
    const run = runEpisode(initial, toCalls(io, value.calls, where), opts.renderer);
    const fault = run.results.findIndex((r) => !r.ok && r.kind === "env_fault");
    if (fault >= 0) faulted.push({ id, call: fault, result: run.results[fault]! });
    if (opts.record) recorded.push(stringifyOrdered(expectationOf(id, run, initial)));
    if (!opts.expect) continue;
    const exp = expected.get(id);
    const problems = exp ? compareEpisode(run, initial, exp) : [`no expectation for episode '${id}' in ${opts.expect}`];
    if (problems.length === 0) identical++;
    else mismatches.push({ id, problems });
  }
  if (opts.record) await writeAtomic(opts.record, recorded.map((l) => l + "\n").join(""));
  if (opts.format === "json") {
    io.out(JSON.stringify({ episodes: episodes.length, identical: opts.expect ? identical : null, mismatches, ...(opts.record ? { recorded: opts.record } : {}) }, null, 2));
  } else {
    for (const m of mismatches) io.out(`episode ${m.id}:\n  ${m.problems.join("\n  ")}`);
    if (opts.record) io.err(`recorded ${recorded.length} expectation${recorded.length === 1 ? "" : "s"} to ${opts.record}`);
    if (opts.expect) io.out(`replay: ${identical}/${episodes.length} identical`);
    else io.out(`replay: ${episodes.length} episode${episodes.length === 1 ? "" : "s"} run (pass --expect FILE to compare)`);
  }
  if (opts.expect && identical < episodes.length) throw new ExitError(1);
  // with --expect the expected outputs decide; without, an environment fault is a finding
  if (!opts.expect && faulted.length) {
    const f = faulted[0]!;
    io.err(`replay: ${faulted.length} episode${faulted.length === 1 ? "" : "s"} hit an environment fault (a bug in the spec); the first, ${f.id}, in call ${f.call + 1}: ${f.result.ok ? "" : f.result.error}`);
    throw new ExitError(1);
  }
}
