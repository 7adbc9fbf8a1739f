// Golden files per phase for the fixture specs in tests/golden/specs/: the parse (the syntax
// tree printed by print-ast.ts, then the syntax errors), the check (every diagnostic as
// `envc check` prints it, with source and carets) and, for the specs that check clean, the
// emitted files, which are also run. A change to any phase's output shows as a diff of a
// small text file.
// UPDATE_GOLDEN=1 writes them after an intended change (and creates those of a new fixture);
// without it a missing golden file fails, so that a deleted one cannot pass unnoticed.
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseSpec } from "../../grammar/parser.js";
import { checkSource } from "../../compiler/pipeline.js";
import { renderPretty } from "../../compiler/diagnostics.js";
import { emitEnv } from "../../compiler/emit.js";
import { Environment, runEpisode, scoreEpisode, verifyScenario } from "../../runtime/index.js";
import { printAst } from "./print-ast.js";
import { definition as counterShop, scenarios as counterShopScenarios } from "./emit/counter-shop/index.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const specsDir = path.join(here, "specs");
const fixtures = readdirSync(specsDir).filter((f) => f.endsWith(".env")).map((f) => f.slice(0, -4)).sort();
const update = !!process.env.UPDATE_GOLDEN;

/** Compare `text` with the golden file (repository-relative in messages), or write it under UPDATE_GOLDEN=1. */
function golden(file: string, text: string): void {
  const rel = path.relative(root, file);
  if (update) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  expect(existsSync(file), `${rel} is missing (UPDATE_GOLDEN=1 npx vitest run tests/golden to create it)`).toBe(true);
  expect(text, `${rel} differs from the golden file (UPDATE_GOLDEN=1 to accept an intended change)`).toBe(readFileSync(file, "utf8"));
}

const specFile = (name: string) => `tests/golden/specs/${name}.env`;
const source = (name: string) => readFileSync(path.join(specsDir, `${name}.env`), "utf8");

describe("golden files per phase", () => {
  it("has fixtures: a clean spec, one with type errors, one with syntax errors", () => {
    expect(fixtures).toEqual(expect.arrayContaining(["counter-shop", "type-errors", "syntax-errors"]));
  });

  it.each(fixtures)("parse: %s", (name) => {
    const { ast, errors } = parseSpec(source(name), specFile(name));
    const lines = errors.map((e) => `error ${e.code} ${e.span.start.line}:${e.span.start.column}-${e.span.end.line}:${e.span.end.column} ${e.message}${e.fix ? ` (fix: ${e.fix})` : ""}`);
    golden(path.join(here, "parse", `${name}.txt`), printAst(ast) + (lines.length ? `\nsyntax errors:\n${lines.join("\n")}\n` : "\nno syntax errors\n"));
  });

  it.each(fixtures)("check: %s", (name) => {
    const text = source(name);
    const r = checkSource(text, specFile(name));
    const sources = new Map([[specFile(name), text]]);
    const shown = r.diagnostics.map((d) => renderPretty(d, sources)).join("\n\n");
    golden(path.join(here, "check", `${name}.txt`), r.diagnostics.length ? `${shown}\n` : "no diagnostics\n");
  });

  it.each(fixtures)("emit: %s (when it checks clean)", async (name) => {
    const r = checkSource(source(name), specFile(name));
    const dir = path.join(here, "emit", name);
    if (!r.env || r.diagnostics.some((d) => d.severity === "error")) {
      expect(existsSync(dir), `${path.relative(root, dir)} is left from when ${name} checked clean: delete it`).toBe(false);
      return;
    }
    // the emitted files import the runtime as generated/<env>/ does, from this folder
    const files = await emitEnv(r.env, { runtimeImport: path.relative(dir, path.join(root, "runtime/index.js")) });
    for (const f of files) golden(path.join(dir, f.path), f.text);
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.path).sort());
  });

  it("the emitted golden files run: counter-shop's scenario verifies and its solution scores 1", () => {
    for (const sc of counterShopScenarios) {
      const initial = Environment.createFrom(counterShop, sc.initial);
      expect(verifyScenario(sc, initial), sc.id).toEqual([]);
      const run = runEpisode(initial, sc.solution, "json");
      expect(scoreEpisode(sc.checks, run.final, initial, run.results).reward, sc.id).toBe(1);
    }
    expect(counterShopScenarios.map((sc) => sc.id)).toEqual(["return_then_sell"]);
  });

  it("keeps no golden file of a fixture that is gone", () => {
    for (const [phase, ext] of [["parse", ".txt"], ["check", ".txt"], ["emit", ""]] as const) {
      const dir = path.join(here, phase);
      const names = existsSync(dir) ? readdirSync(dir).map((f) => (ext ? f.slice(0, -ext.length) : f)) : [];
      for (const n of names) expect(fixtures, `tests/golden/${phase}/${n}${ext} has no fixture tests/golden/specs/${n}.env`).toContain(n);
    }
  });
});
