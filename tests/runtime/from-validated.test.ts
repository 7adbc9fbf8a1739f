// Environment.fromValidated rebuilds an environment from a state createFrom accepted before, as
// its toJSON() gave it through the order-keeping JSON (what the CLI's cache of validated states
// keeps), without checking it again. It must give the same environment: the same state, key
// order included, and the same results for every recorded example of every bundled spec and
// for the 635 tau-bench retail episodes.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkInputs } from "../../compiler/project.js";
import { loadDefinition } from "../../compiler/load.js";
import { loadExamples } from "../../compiler/fuzz/examples.js";
import {
  Environment, parseJsonOrdered, runEpisode, compareEpisode, changedRecords, stringifyOrdered, type EpisodeExpectation,
} from "../../runtime/index.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const { specs } = await checkInputs([path.join(root, "specs")]);

/** createFrom's environment and the one rebuilt from its JSON, as the cache does. */
function both(def: ReturnType<typeof loadDefinition>, state: unknown) {
  const checked = Environment.createFrom(def, state);
  const rebuilt = Environment.fromValidated(def, parseJsonOrdered(stringifyOrdered(checked.toJSON())) as Record<string, unknown>);
  return { checked, rebuilt };
}

describe("Environment.fromValidated", () => {
  for (const spec of specs.filter((s) => s.env && !s.scenariosFor)) {
    it(`${spec.env!.name}: the same state and the same results for every recorded example`, () => {
      const def = loadDefinition(spec.env!);
      const examples = loadExamples(path.join(path.dirname(spec.file), "examples.jsonl"));
      expect(examples.length).toBeGreaterThan(0);
      const pairs = new Map<unknown, ReturnType<typeof both>>();
      for (const ex of examples) {
        let pair = pairs.get(ex.initial);
        if (!pair) {
          pairs.set(ex.initial, (pair = both(def, ex.initial)));
          expect(stringifyOrdered(pair.rebuilt.toJSON())).toBe(stringifyOrdered(pair.checked.toJSON()));
        }
        const a = runEpisode(pair.checked, ex.calls, "json");
        const b = runEpisode(pair.rebuilt, ex.calls, "json");
        expect(b.outputs, ex.id).toEqual(a.outputs);
        expect(stringifyOrdered(changedRecords(pair.rebuilt, b.final)), ex.id).toBe(stringifyOrdered(changedRecords(pair.checked, a.final)));
        expect(compareEpisode(b, pair.rebuilt, ex.expected), ex.id).toEqual([]);
      }
    });
  }

  it("tau-bench retail: the 635 reference episodes give the expected outputs and changes on the rebuilt database", () => {
    const retail = specs.find((s) => s.env?.name === "Retail")!;
    const def = loadDefinition(retail.env!);
    const { rebuilt } = both(def, parseJsonOrdered(readFileSync(path.join(root, "specs/taubench-retail/db.json"), "utf8")));
    const data = path.join(root, "tests/data/taubench-retail");
    const lines = (f: string) => readFileSync(path.join(data, f), "utf8").trim().split("\n").map((l) => parseJsonOrdered(l) as Record<string, unknown>);
    const expected = new Map(lines("expect.jsonl").map((e) => [e.id, e as unknown as EpisodeExpectation]));
    const bad = lines("episodes.jsonl").filter((ep) => compareEpisode(runEpisode(rebuilt, ep.calls as never, "taubench"), rebuilt, expected.get(ep.id)!).length);
    expect(bad.map((ep) => ep.id)).toEqual([]);
  });

  it("takes options as createFrom does", () => {
    const library = specs.find((s) => s.env?.name === "Library")!;
    const def = loadDefinition(library.env!);
    const state = parseJsonOrdered(readFileSync(path.join(root, "specs/library/state.json"), "utf8"));
    const a = Environment.createFrom(def, state, { checks: false, seed: 7 });
    const b = Environment.fromValidated(def, a.toJSON(), { checks: false, seed: 7 });
    expect(b.checks).toBe(false);
    const call = (e: Environment) => e.call("place_hold", { member_id: "M001", isbn: "9780593135204" });
    expect(call(b)).toEqual(call(a));
  });
});
