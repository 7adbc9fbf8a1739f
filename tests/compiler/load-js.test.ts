// Loading a spec in memory emits plain JavaScript (compiler/emit-definition.ts), not the
// generated env.ts run through TypeScript. These tests hold the two to the same behaviour: for
// every bundled spec, the env.ts that `envc compile` writes, transpiled by TypeScript and
// evaluated, and the in-memory definition agree on tool schemas, tables and invariants, and
// give the same fuzz coverage, call for call, for the same seed.
import { describe, expect, it } from "vitest";
import ts from "typescript";
import { z } from "zod";
import * as runtime from "../../runtime/index.js";
import { checkInputs } from "../../compiler/project.js";
import { emitEnv } from "../../compiler/emit.js";
import { loadDefinition } from "../../compiler/load.js";
import { fuzzEnv } from "../../compiler/fuzz/engine.js";
import { seedStates } from "../../compiler/fuzz/seeds.js";

const root = new URL("../../", import.meta.url).pathname;

/** The definition exported by a generated env.ts, as a build of it would give. */
async function definitionOfEnvTs(env: Parameters<typeof emitEnv>[0]): Promise<runtime.EnvDefinition> {
  const [envTs] = await emitEnv(env, { runtimeImport: "envc-runtime" }, false);
  const js = ts.transpileModule(envTs!.text, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const modules: Record<string, unknown> = { zod: { z }, "envc-runtime": { ...runtime, __esModule: true } };
  const exports: Record<string, unknown> = {};
  new Function("exports", "require", js)(exports, (name: string) => modules[name]);
  return exports.definition as runtime.EnvDefinition;
}

const { specs } = await checkInputs([`${root}specs`]);
const envs = specs.filter((s) => s.env && !s.scenariosFor);

describe("in-memory JavaScript and the generated env.ts", () => {
  it("covers the bundled specs", () => {
    expect(envs.length).toBeGreaterThanOrEqual(9);
  });

  for (const spec of envs) {
    it(`${spec.env!.name}: same shape and the same fuzz run`, async () => {
      const env = spec.env!;
      const fromTs = await definitionOfEnvTs(env);
      const fromJs = loadDefinition(env);
      const shape = (d: runtime.EnvDefinition) => ({
        name: d.name, specFile: d.specFile, rules: d.rules, toolSchemas: d.toolSchemas,
        tables: d.tables.map((t) => [t.name, t.entity, t.key, !!t.externalKey, !!t.refs]),
        globals: d.globals.map((g) => [g.name, g.hasDefault, g.default]),
        tools: d.tools.map((t) => [t.name, t.kind, t.location]),
        invariants: d.invariants.map((i) => [i.name, i.location, i.reads, i.perRecord?.table]),
      });
      expect(shape(fromJs)).toEqual(shape(fromTs));
      const seeds = seedStates(spec.file, env).states;
      const run = (def: runtime.EnvDefinition) => {
        const r = fuzzEnv(env, def, seeds, { seed: 7, runs: 60, maxCalls: 15 });
        return { calls: r.calls, generated: r.generated, coverage: r.coverage, finding: r.finding?.message };
      };
      const js = run(fromJs);
      expect(js.coverage.some((c) => c.ok > 0)).toBe(true);
      expect(js).toEqual(run(fromTs));
    });
  }
});
