// tau-bench retail in .env: the spec's tools have tau-bench's names and parameters, and the
// reference actions of all 635 tasks, each replayed on a fresh copy of db.json and rendered
// tau-bench style, give exactly the reference's outputs and changed records.
// Data: tests/data/taubench-retail (Sierra, MIT), made by convert.mjs from ../shared/taubench.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { toolSchemas } from "../../compiler/emit.js";
import { Environment, parseJsonOrdered, runEpisode, compareEpisode, renderResult, type EpisodeExpectation } from "../../runtime/index.js";
import { runEnvc } from "../helpers.js";

const root = new URL("../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");
const jsonl = <T>(p: string): T[] => read(p).trim().split("\n").map((l) => JSON.parse(l) as T);

const SPEC = "specs/taubench-retail/retail.env";
const DATA = "tests/data/taubench-retail/";
const checked = checkSource(read(SPEC), SPEC);
const episodes = jsonl<{ id: string; calls: { name: string; arguments: unknown }[] }>(`${DATA}episodes.jsonl`);
const expected = new Map(jsonl<EpisodeExpectation>(`${DATA}expect.jsonl`).map((e) => [e.id, e]));

type Schema = { function: { name: string; parameters: { properties: Record<string, { type: string; items?: { type: string } }>; required?: string[] } } };

describe("tau-bench retail", () => {
  it("compiles with no diagnostics", () => {
    expect(checked.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });

  it("has tau-bench's 16 tools with the same parameters, types and required lists", () => {
    const theirs = JSON.parse(read(`${DATA}tools.json`)) as Schema[];
    const ours = toolSchemas(checked.env!) as Schema[];
    const shape = (s: Schema[]) =>
      Object.fromEntries(s.map((t) => [t.function.name, {
        params: Object.fromEntries(Object.entries(t.function.parameters.properties).map(([k, v]) => [k, v.type === "array" ? `array<${v.items?.type}>` : v.type])),
        required: [...(t.function.parameters.required ?? [])].sort(),
      }]));
    expect(ours).toHaveLength(16);
    expect(shape(ours)).toEqual(shape(theirs));
  });

  it("replays all 635 reference tasks identically: outputs and changed records", () => {
    const def = loadDefinition(checked.env!);
    const db = Environment.createFrom(def, parseJsonOrdered(read("specs/taubench-retail/db.json")));
    expect(episodes).toHaveLength(635);
    const mismatches: string[] = [];
    let calls = 0;
    for (const ep of episodes) {
      const run = runEpisode(db, ep.calls, "taubench"); // a fresh fork of db.json per episode
      calls += ep.calls.length;
      const exp = expected.get(ep.id);
      const problems = exp ? compareEpisode(run, db, exp) : ["no expectation"];
      if (problems.length) mismatches.push(`${ep.id}: ${problems.join("; ")}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(calls).toBeGreaterThan(1300);
  });

  it("the comparison is not blind: a changed expectation is reported with its first difference", () => {
    const def = loadDefinition(checked.env!);
    const db = Environment.createFrom(def, parseJsonOrdered(read("specs/taubench-retail/db.json")));
    const ep = episodes.find((e) => e.calls.some((c) => c.name === "cancel_pending_order"))!;
    const exp = structuredClone(expected.get(ep.id)!);
    const i = ep.calls.findIndex((c) => c.name === "cancel_pending_order");
    (exp.outputs![i] as { json: { status: string } }).json.status = "canceled";
    const problems = compareEpisode(runEpisode(db, ep.calls, "taubench"), db, exp);
    expect(problems.join("\n")).toContain('first difference: $.status: expected "canceled", got "cancelled"');
    const table = Object.keys(exp.changed!.tables!)[0]!;
    const key = Object.keys(exp.changed!.tables![table]!)[0]!;
    exp.changed!.tables![table]![key] = null;
    expect(compareEpisode(runEpisode(db, ep.calls, "taubench"), db, exp).join("\n")).toContain(`${table}[${JSON.stringify(key)}] differs`);
  });

  it("shows records with their keys in db.json's order, as Python's json.dumps does (numeric ids included)", () => {
    const def = loadDefinition(checked.env!);
    const raw = read("specs/taubench-retail/db.json");
    const db = Environment.createFrom(def, parseJsonOrdered(raw));
    const r = db.call("get_product_details", { product_id: "9832717871" });
    const text = renderResult(r, "taubench");
    const variantsInText = Object.keys(JSON.parse(text).variants); // JS would sort numeric keys...
    const shown = [...text.matchAll(/"(\d{10})":\{"item_id"/g)].map((m) => m[1]); // ...so read them off the text
    const inDb = [...raw.slice(raw.indexOf('"9832717871": {')).matchAll(/"(\d{10})": \{"item_id"/g)].slice(0, variantsInText.length).map((m) => m[1]);
    expect(shown).toEqual(inDb);
    expect(shown).not.toEqual([...shown].sort());
  });

    it("the CLI replays them too and ends with replay: 635/635 identical", async () => {
    const r = await runEnvc([
      "replay", SPEC, "--init", "specs/taubench-retail/db.json", "--episodes", `${DATA}episodes.jsonl`,
      "--expect", `${DATA}expect.jsonl`, "--renderer", "taubench",
    ]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n").at(-1)).toBe("replay: 635/635 identical");
  });
});
