// Differential test of rewards: envc's reward for tau-bench retail's tasks, run as the scenario
// dataset specs/taubench-retail/tasks.jsonl (answer checks, a whole-database outcome, reward
// "all"), equals tau-bench's own calculate_reward on every trajectory in
// tests/data/taubench-retail/trajectories.jsonl: each task's reference trajectory and perturbed
// ones (a call dropped, duplicated or swapped, an argument changed, an output left out of the
// reply or reworded), with the reward the Python reference gave each (made by rewards.py).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition, loadScenarios } from "../../compiler/load.js";
import { loadDataset } from "../../compiler/dataset.js";
import { verifyAll } from "../../compiler/verify.js";
import { Environment, parseJsonOrdered, scoreEpisode, type CallResult } from "../../runtime/index.js";

const root = new URL("../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");

const SPEC = "specs/taubench-retail/retail.env";
const DATASET = "specs/taubench-retail/tasks.jsonl";
const TRAJECTORIES = "tests/data/taubench-retail/trajectories.jsonl";

interface Trajectory {
  id: string;
  task: string;
  perturbed: string[];
  /** tool calls, and what the agent said (tau-bench's respond action, `chat_with_user`) */
  actions: ({ name: string; content: string } | { name: string; arguments: Record<string, unknown> })[];
  /** tau-bench's calculate_reward */
  reward: number;
  r_actions: number | boolean | null;
}

describe("tau-bench retail rewards: envc against tau-bench's calculate_reward", () => {
  const spec = checkSource(read(SPEC), SPEC);
  const dataset = loadDataset(read(DATASET), DATASET, [spec]);
  const trajectories = read(TRAJECTORIES).trim().split("\n").map((l) => JSON.parse(l) as Trajectory);

  it("the dataset holds all 635 tasks, checks clean and passes verify", () => {
    expect(dataset.diagnostics).toEqual([]);
    expect(dataset.scenarios).toHaveLength(635);
    const [verdicts] = verifyAll([spec], [dataset]);
    const problems = verdicts!.verdicts.filter((v) => v.diagnostics.length).map((v) => `${v.scenario.name}: ${v.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
    expect(problems).toEqual([]);
    expect(verdicts!.verdicts).toHaveLength(635 + spec.env!.scenarios.length);
  }, 60_000);

  it("gives tau-bench's reward on every trajectory, reference and perturbed", () => {
    const def = loadDefinition(spec.env!);
    const scenarios = new Map(loadScenarios(spec.env!, dataset.scenarios.map((s) => s.scenario)).map((s) => [s.id, s]));
    const db = Environment.createFrom(def, parseJsonOrdered(read("specs/taubench-retail/db.json")));
    const mismatches: string[] = [];
    const counts = { reference: 0, perturbed: 0, rewardOne: 0, rewardZero: 0 };
    for (const t of trajectories) {
      const sc = scenarios.get(t.task)!;
      expect(sc, t.task).toBeDefined();
      const env = db.fork();
      const results: CallResult[] = [];
      const said: string[] = [];
      for (const a of t.actions) {
        if ("content" in a) said.push(a.content);
        else if ("arguments" in a) results.push(env.call(a.name, a.arguments));
      }
      const r = scoreEpisode(sc, env, db, results, said.join("\n"));
      if (r.envFaults) mismatches.push(`${t.id} (${t.task}): environment fault ${r.faults[0]!.error}`);
      else if (r.reward !== t.reward)
        mismatches.push(`${t.id} (${t.task}, ${t.perturbed.join("+") || "reference"}): envc ${r.reward}, tau-bench ${t.reward}; failed parts: ${r.checks.filter((c) => !c.passed).map((c) => c.check).join("; ")}`);
      counts[t.perturbed.length ? "perturbed" : "reference"]++;
      counts[t.reward === 1 ? "rewardOne" : "rewardZero"]++;
    }
    expect(mismatches).toEqual([]);
    // every task's reference trajectory, and perturbed ones with both rewards well represented
    expect(counts.reference).toBe(635);
    expect(counts.perturbed).toBeGreaterThanOrEqual(Number(process.env.ENVC_TAUBENCH_MIN_PERTURBED ?? 2000));
    expect(counts.rewardZero).toBeGreaterThan(counts.perturbed / 4);
  }, 120_000);
});
