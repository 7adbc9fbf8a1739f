// Every example in docs/language.md compiles: `env` blocks alone, `env-fragment` blocks joined,
// and `env-scenarios` blocks against the first complete example, where they also pass verify.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkSource, attachScenarioFiles } from "../../compiler/pipeline.js";
import { verifyAll } from "../../compiler/verify.js";

const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const blocks = [...md.matchAll(/```(env|env-fragment|env-scenarios)\n([\s\S]*?)```/g)];

describe("docs/language.md examples", () => {
  const full = blocks.filter((b) => b[1] === "env").map((b) => b[2]!);
  const fragments = blocks.filter((b) => b[1] === "env-fragment").map((b) => b[2]!);

  it("has examples of both kinds", () => {
    expect(full.length).toBeGreaterThanOrEqual(1);
    expect(fragments.length).toBeGreaterThanOrEqual(3);
  });

  full.forEach((src, i) =>
    it(`complete example ${i + 1} compiles without errors or warnings`, () => {
      const r = checkSource(src, `docs-example-${i + 1}.env`);
      expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(r.env?.tools.length).toBeGreaterThan(0);
    }),
  );

  const scenarioBlocks = blocks.filter((b) => b[1] === "env-scenarios").map((b) => b[2]!);
  it("has a scenario example", () => expect(scenarioBlocks.length).toBeGreaterThanOrEqual(1));
  scenarioBlocks.forEach((src, i) =>
    it(`scenario example ${i + 1} checks against the first spec and passes verify`, () => {
      const spec = checkSource(full[0]!, "docs-example-1.env");
      const scen = checkSource(src, `docs-scenarios-${i + 1}.env`);
      attachScenarioFiles([spec, scen]);
      expect(scen.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(spec.env!.scenarios.length).toBeGreaterThan(0);
      const [result] = verifyAll([spec], []);
      expect(result!.verdicts.flatMap((v) => v.diagnostics.map((d) => `${d.code} ${d.message}`))).toEqual([]);
      expect(result!.verdicts.every((v) => v.kept)).toBe(true);
    }),
  );

  it("the fragments, joined in order, compile without errors or warnings", () => {
    const r = checkSource(fragments.join("\n"), "docs-fragments.env");
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});
