// Golden files for emitted code: the docs' library example compiles to exactly the files in
// tests/golden/library-mini/. Set UPDATE_GOLDEN=1 to rewrite them after an intended change.
// Also drives a committed generated environment through its typed class (no in-memory load).
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { checkSource, attachScenarioFiles } from "../../compiler/pipeline.js";
import { emitEnv } from "../../compiler/emit.js";
import { LibraryEnv, scenarios as libraryScenarios, definition as libraryDefinition } from "../../generated/library/index.js";
import { Environment, verifyScenario, runEpisode, scoreEpisode } from "../../runtime/index.js";

const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const source = /```env\n([\s\S]*?)```/.exec(md)![1]!;
const scenarioSource = /```env-scenarios\n([\s\S]*?)```/.exec(md)![1]!;
const dir = new URL("./library-mini/", import.meta.url);

describe("golden emitted code", () => {
  it("matches env.ts, tools.json, scenarios.ts and index.ts", async () => {
    const r = checkSource(source, "docs/library-mini.env");
    attachScenarioFiles([r, checkSource(scenarioSource, "docs/library-mini-scenarios.env")]);
    expect(r.env!.scenarios.length).toBe(1);
    const files = await emitEnv(r.env!, { runtimeImport: "../../../runtime/index.js" });
    for (const f of files) {
      const target = new URL(f.path, dir);
      if (process.env.UPDATE_GOLDEN || !existsSync(target)) writeFileSync(target, f.text);
      expect(f.text, `${f.path} differs from the golden file (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(target, "utf8"));
    }
    expect(files.map((f) => f.path).sort()).toEqual(["env.ts", "index.ts", "scenarios.ts", "tools.json"]);
  });
});

describe("a committed generated environment", () => {
  it("runs through its typed class: calls, failures, fork and state", () => {
    const state = JSON.parse(readFileSync(new URL("../../specs/library/state.json", import.meta.url), "utf8"));
    const env = LibraryEnv.create(state);
    const before = JSON.stringify(env.state());
    const bad = env.call("no_such_tool", {});
    expect(bad).toMatchObject({ ok: false, kind: "unknown_tool" });
    const session = env.fork();
    const tools = env.def.toolSchemas as { function: { name: string } }[];
    expect(tools.map((t) => t.function.name)).toEqual(env.toolNames);
    expect(JSON.stringify(env.state())).toBe(before);
    expect(env.diff(session)).toEqual({ tables: {}, globals: {} });
  });
});

describe("committed generated scenarios", () => {
  it("verify and score with the emitted checkers (no in-memory compile)", () => {
    const state = JSON.parse(readFileSync(new URL("../../specs/library/state.json", import.meta.url), "utf8"));
    const initial = Environment.createFrom(libraryDefinition, state);
    expect(libraryScenarios.length).toBeGreaterThanOrEqual(5);
    for (const sc of libraryScenarios) {
      expect(sc.initialFile).toBe("state.json");
      expect(verifyScenario(sc, initial), sc.id).toEqual([]);
      const run = runEpisode(initial, sc.solution, "json");
      expect(scoreEpisode(sc.checks, run.final, initial, run.results).reward, sc.id).toBe(1);
      // doing nothing scores 0: every check is false at the start
      expect(scoreEpisode(sc.checks, initial, initial, []).reward, sc.id).toBe(0);
    }
  });
});

