// envc examples: recorded call sequences per tool (successes with different results, and one per
// precondition tripped), shrunk, deterministic, replayable by envc replay; a spec that changes
// behaviour fails `--check`; envc mutate counts a mutant whose examples replay differently as
// killed; and every bundled spec still replays its committed examples as recorded.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkFile, findSpecFiles } from "../../compiler/project.js";
import { attachScenarioFiles } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { seedStateSources, seedStates } from "../../compiler/fuzz/seeds.js";
import {
  findExamples, examplesToJsonl, loadExamples, firstExampleMismatch, expectationsFileOf, defaultExamplesFile, exampleKind,
} from "../../compiler/fuzz/examples.js";
import { mutateSpec, generateMutants, applyMutant, type MutationSubject } from "../../compiler/fuzz/mutate.js";
import { runEnvc } from "../helpers.js";

const SPEC = `env Till "A shop till"

entity Item key item_id "A product" {
  item_id: string
  qty: int
  price: number
}

state {
  items: table Item
  takings: number = 0
}

invariant stock_not_negative "Stock is never negative": all i in items: i.qty >= 0

query price_of(item_id: string, n: int = 1) -> number "What n units cost, rounded to cents." {
  let it = items[item_id] else "No item \${item_id}"
  require n >= 1 and n <= 50 else "Ask for 1 to 50 units"
  return round(it.price * n, 2)
}

action sell(item_id: string, n: int = 1) -> Item "Sell n units." {
  let it = items[item_id] else "No item \${item_id}"
  require n > 0 else "Sell at least one"
  require it.qty >= n else "Only \${it.qty} left"
  it.qty -= n
  takings = round(takings + it.price * n, 2)
  return it
}
`;

const STATE = { items: { A: { item_id: "A", qty: 3, price: 2.5 }, B: { item_id: "B", qty: 0, price: 10 } } };
const OPTIONS = { seed: 3, runs: 800, maxCalls: 4, perTool: 3 };

let dir: string;
let specFile: string;

async function load(file = specFile) {
  const spec = await checkFile(file);
  attachScenarioFiles([spec]);
  return spec;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-examples-"));
  specFile = path.join(dir, "till.env");
  writeFileSync(specFile, SPEC);
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(STATE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("envc examples", () => {
  it("finds successes and trips every precondition, each sequence shrunk to what it needs", async () => {
    const spec = await load();
    const def = loadDefinition(spec.env!);
    const set = findExamples(spec.env!, def, seedStateSources(spec.file, spec.env!).seeds, OPTIONS);
    expect(set.unreached).toEqual([]);
    const ids = set.examples.map((e) => e.id);
    expect(ids.filter((i) => i.startsWith("sell.ok.")).length).toBeGreaterThanOrEqual(2);
    expect(ids.filter((i) => i.startsWith("price_of.ok.")).length).toBeGreaterThanOrEqual(2);
    // each precondition of the spec, by the line it is on
    const line = (text: string) => SPEC.split("\n").findIndex((l) => l.includes(text)) + 1;
    for (const [tool, text] of [["price_of", "let it = items"], ["price_of", "require n >= 1"], ["sell", "require n > 0"], ["sell", "require it.qty >= n"]])
      expect(ids, `${tool} ${text}`).toContain(`${tool}.fails.L${line(text!)}`);
    // a failing example ends with the call that trips it; shrinking leaves nothing before a
    // call that needs no set-up (every precondition here trips on the sample state itself)
    for (const e of set.examples.filter((x) => exampleKind(x) === "trip")) expect(e.calls).toHaveLength(1);
  });

  it("writes the same files for the same seed, and they replay clean", async () => {
    const spec = await load();
    const def = loadDefinition(spec.env!);
    const { seeds } = seedStateSources(spec.file, spec.env!);
    const file = path.join(dir, "examples.jsonl");
    const a = examplesToJsonl(findExamples(spec.env!, def, seeds, OPTIONS), file);
    const b = examplesToJsonl(findExamples(spec.env!, def, seeds, OPTIONS), file);
    expect(a).toEqual(b);
    // sample-state examples name the file rather than copying the state
    expect(a.episodes).toContain('"initial":"state.json"');
    // the same bytes whether the spec was named by an absolute or a cwd-relative path: a
    // tripped precondition is located relative to the examples file
    const relative = await load(path.relative(process.cwd(), specFile));
    expect(examplesToJsonl(findExamples(relative.env!, loadDefinition(relative.env!), seedStateSources(relative.file, relative.env!).seeds, OPTIONS), file)).toEqual(a);
    expect(a.episodes).toMatch(/"goal":"till\.env:\d+:\d+"/);
    writeFileSync(file, a.episodes);
    writeFileSync(expectationsFileOf(file), a.expectations);
    const loaded = loadExamples(file);
    expect(loaded.length).toBe(a.episodes.trim().split("\n").length);
    expect(firstExampleMismatch(def, loaded)).toBeUndefined();
  });

  it("replays with envc replay, and --check fails once the spec behaves differently", async () => {
    const sub = path.join(dir, "cli");
    const file = path.join(sub, "till.env");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(sub, { recursive: true });
    writeFileSync(file, SPEC);
    writeFileSync(path.join(sub, "state.json"), JSON.stringify(STATE));
    const rec = await runEnvc(["examples", file, "--runs", "800", "--max-calls", "4", "--seed", "3"]);
    expect(rec.code, rec.err).toBe(0);
    expect(rec.out).toMatch(/examples \(\d+ successes, 5 preconditions tripped, \d+ comparison boundaries\)/);
    const episodes = defaultExamplesFile(file);
    expect(existsSync(expectationsFileOf(episodes))).toBe(true);
    const replay = await runEnvc(["replay", file, "--episodes", episodes, "--expect", expectationsFileOf(episodes)]);
    expect(replay.code, replay.out + replay.err).toBe(0);
    expect(replay.out).toMatch(/replay: (\d+)\/\1 identical/);
    const ok = await runEnvc(["examples", file, "--check"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/examples replay as recorded/);
    // a change of behaviour: the price is no longer rounded to cents
    writeFileSync(file, SPEC.replace("round(it.price * n, 2)", "round(it.price * n, 0)"));
    const bad = await runEnvc(["examples", file, "--check"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/example price_of\.ok\.\d+ .* differs: call 1 output differs/);
    expect(bad.err).toContain("re-record: envc examples");
    // a broken examples file is named with its line, not a stack trace
    writeFileSync(file, SPEC);
    writeFileSync(episodes, readFileSync(episodes, "utf8") + "{not json\n");
    const broken = await runEnvc(["examples", file, "--check"]);
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/examples\.jsonl:\d+:\d+: /);
  });

  it("includes given episodes, keeps them when recording again, and names a bad one", async () => {
    const sub = path.join(dir, "include");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(sub, { recursive: true });
    const file = path.join(sub, "till.env");
    writeFileSync(file, SPEC);
    writeFileSync(path.join(sub, "state.json"), JSON.stringify(STATE));
    const mine = path.join(sub, "mine.jsonl");
    writeFileSync(mine, JSON.stringify({ id: "sell-all-of-A", calls: [{ name: "sell", arguments: { item_id: "A", n: 3 } }, { name: "sell", arguments: { item_id: "A" } }] }) + "\n");
    const args = ["examples", file, "--runs", "300", "--max-calls", "3"];
    const noInit = await runEnvc([...args, "--include", mine]);
    expect(noInit.code).toBe(2);
    expect(noInit.err).toMatch(/mine\.jsonl:1: the episode names no initial state/);
    const first = await runEnvc([...args, "--include", mine, "--init", path.join(sub, "state.json")]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/, 1 included\)/);
    const recorded = loadExamples(defaultExamplesFile(file)).find((e) => e.id === "sell-all-of-A")!;
    expect(recorded.expected.outputs?.[1]).toMatch(/Only 0 left/);
    // recording again without --include keeps it; including it once more adds nothing
    const again = await runEnvc(args);
    expect(again.out).toMatch(/, 1 included\)/);
    const twice = await runEnvc([...args, "--include", mine, "--init", path.join(sub, "state.json")]);
    expect(twice.out).toMatch(/, 1 included\)/);
    // another episode under a taken id is refused
    writeFileSync(mine, JSON.stringify({ id: "sell-all-of-A", calls: [{ name: "sell", arguments: { item_id: "A" } }] }) + "\n");
    const clash = await runEnvc([...args, "--include", mine, "--init", path.join(sub, "state.json")]);
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(/example id 'sell-all-of-A' is already taken/);
  });

  it("kills in envc mutate a mutant that fuzzing alone leaves alive", async () => {
    const spec = await load();
    const def = loadDefinition(spec.env!);
    const file = path.join(dir, "examples.jsonl");
    const set = findExamples(spec.env!, def, seedStateSources(spec.file, spec.env!).seeds, OPTIONS);
    const { episodes, expectations } = examplesToJsonl(set, file);
    writeFileSync(file, episodes);
    writeFileSync(expectationsFileOf(file), expectations);
    // dropping `require n > 0` lets sell(n: 0) succeed: no invariant or ensure minds
    const mutant = generateMutants(spec.source, spec.file, spec.env!).find((m) => m.operator === "drop-require" && m.description.includes("n > 0"))!;
    expect(mutant).toBeDefined();
    const base: MutationSubject = { file: spec.file, source: spec.source, env: spec.env!, scenarioFiles: [], seedStates: seedStates(spec.file, spec.env!).states };
    const opts = { seed: 1, runs: 40, maxCalls: 6, operators: ["drop-require" as const] };
    const without = mutateSpec(base, opts).results.find((r) => r.index === mutant.index)!;
    expect(without.status).toBe("survived");
    const withExamples = mutateSpec({ ...base, examples: loadExamples(file) }, opts).results.find((r) => r.index === mutant.index)!;
    expect(withExamples.status).toBe("killed");
    expect(withExamples.killedBy).toMatchObject({ by: "example", example: expect.stringMatching(/^sell\.fails\.L\d+$/) });
    expect(applyMutant(spec.source, mutant)).not.toContain("require n > 0");
  });

  it("every bundled spec replays its committed examples as recorded", async () => {
    const found = await findSpecFiles([path.resolve("specs")]);
    const checked = await Promise.all(found.files.map((f) => checkFile(f)));
    attachScenarioFiles(checked);
    let specs = 0;
    for (const c of checked) {
      if (!c.env || c.scenariosFor) continue;
      const file = defaultExamplesFile(c.file);
      expect(existsSync(file), `${c.file} has no examples.jsonl: run envc examples ${c.file}`).toBe(true);
      const examples = loadExamples(file);
      expect(examples.length).toBeGreaterThan(20);
      expect(firstExampleMismatch(loadDefinition(c.env), examples), c.file).toBeUndefined();
      specs++;
    }
    expect(specs).toBe(9);
  });
});
