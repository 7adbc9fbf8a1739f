// Turns tau-bench retail's reference data (tasks.json and expected.jsonl, as described in
// ../shared/taubench/README.md) into the files `envc replay --episodes/--expect` reads:
//   episodes.jsonl  {id, calls: [{name, arguments}]}      one line per task
//   expect.jsonl    {id, outputs: [{text}|{json}|{skipped}], changed: {tables: {...}}}
// and the tasks as an envc scenario dataset, specs/taubench-retail/tasks.jsonl: the user's
// instruction as the task, the reference actions as the solution, each of the task's
// `outputs` as an answer check matched as tau-bench matches it (lower case, the reply's commas
// dropped), the database the reference actions leave as an outcome, and `reward "all"`: the
// reward tau-bench's calculate_reward gives (tests/taubench/ proves it on every trajectory).
// Ids are `<split>-<index>`. Run: node convert.mjs <folder with tasks.json and expected.jsonl>
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

const src = process.argv[2];
if (!src) {
  console.error("usage: node convert.mjs <folder with tasks.json and expected.jsonl>");
  process.exit(2);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const tasks = JSON.parse(readFileSync(path.join(src, "tasks.json"), "utf8"));
const expected = readFileSync(path.join(src, "expected.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
if (tasks.length !== expected.length) throw new Error(`${tasks.length} tasks but ${expected.length} expectations`);
/** A reference output that is tau-bench's error string. */
const failed = (out) => typeof out?.text === "string" && out.text.startsWith("Error:");
const episodes = [];
const expects = [];
const scenarios = [];
tasks.forEach((t, i) => {
  const e = expected[i];
  if (e.split !== t.split || e.index !== t.index) throw new Error(`line ${i + 1}: expected.jsonl is not in tasks.json's order`);
  const id = `${t.split}-${t.index}`;
  episodes.push(JSON.stringify({ id, calls: t.actions.map((a) => ({ name: a.name, arguments: a.kwargs })) }));
  expects.push(JSON.stringify({ id, outputs: e.outputs, changed: { tables: e.changed } }));
  scenarios.push(JSON.stringify({
    env: "Retail",
    id,
    initial: "db.json",
    task: t.instruction,
    checks: t.outputs.map((o) => ({
      text: `Does the agent tell the user ${JSON.stringify(o)}?`,
      expr: `contains(lower(replace(reply, ",", "")), ${JSON.stringify(o.toLowerCase())})`,
    })),
    // a reply that states every output (the reference reply verify proves the checks accept)
    ...(t.outputs.length ? { reply: `Here is what I found: ${t.outputs.join(" ; ")}.` } : {}),
    outcomes: [{ text: "Is the database as the reference actions leave it?" }],
    reward: "all",
    // reference actions that failed in tau-bench's own replay (an "Error: ..." output) change
    // nothing, so leaving them out keeps the reference state; verify requires every step to work
    solution: t.actions.flatMap((a, k) => (failed(e.outputs[k]) ? [] : [{ name: a.name, arguments: a.kwargs }])),
  }));
});
writeFileSync(path.join(here, "episodes.jsonl"), episodes.join("\n") + "\n");
writeFileSync(path.join(here, "expect.jsonl"), expects.join("\n") + "\n");
writeFileSync(path.join(here, "../../../specs/taubench-retail/tasks.jsonl"), scenarios.join("\n") + "\n");
console.log(`wrote ${episodes.length} episodes and expectations to ${here}`);
