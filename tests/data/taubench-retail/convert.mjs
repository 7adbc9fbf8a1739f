// Turns tau-bench retail's reference data (tasks.json and expected.jsonl, as described in
// ../shared/taubench/README.md) into the files `envc replay --episodes/--expect` reads:
//   episodes.jsonl  {id, calls: [{name, arguments}]}      one line per task
//   expect.jsonl    {id, outputs: [{text}|{json}|{skipped}], changed: {tables: {...}}}
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
const episodes = [];
const expects = [];
tasks.forEach((t, i) => {
  const e = expected[i];
  if (e.split !== t.split || e.index !== t.index) throw new Error(`line ${i + 1}: expected.jsonl is not in tasks.json's order`);
  const id = `${t.split}-${t.index}`;
  episodes.push(JSON.stringify({ id, calls: t.actions.map((a) => ({ name: a.name, arguments: a.kwargs })) }));
  expects.push(JSON.stringify({ id, outputs: e.outputs, changed: { tables: e.changed } }));
});
writeFileSync(path.join(here, "episodes.jsonl"), episodes.join("\n") + "\n");
writeFileSync(path.join(here, "expect.jsonl"), expects.join("\n") + "\n");
console.log(`wrote ${episodes.length} episodes and expectations to ${here}`);
