// Every example in docs/language.md compiles: `env` blocks alone, `env-fragment` blocks joined.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";

const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const blocks = [...md.matchAll(/```(env|env-fragment)\n([\s\S]*?)```/g)];

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

  it("the fragments, joined in order, compile without errors or warnings", () => {
    const r = checkSource(fragments.join("\n"), "docs-fragments.env");
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});
