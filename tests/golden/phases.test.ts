// Golden files per phase for the fixture specs: the docs' library example (library-mini, whose
// emitted files are golden.test.ts's) and the specs in tests/golden/specs/ (a clean one, one
// with type errors, one with syntax errors). For each: the parse (the syntax tree printed by
// print-ast.ts, then the syntax errors) and the check (every diagnostic as `envc check` prints
// it, with source and carets). A change to a phase's output shows as a diff of a small text
// file. The emit phase's goldens are library-mini/ and generated/ (CI compiles specs/ with
// --verify); here a clean fixture's emitted code is also loaded and its scenarios run.
// UPDATE_GOLDEN=1 writes the files after an intended change (and those of a new fixture);
// without it a missing golden file fails, so that a deleted one cannot pass unnoticed.
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseSpec } from "../../grammar/parser.js";
import { checkSource } from "../../compiler/pipeline.js";
import { renderPretty } from "../../compiler/diagnostics.js";
import { loadDefinition, loadScenarios } from "../../compiler/load.js";
import { Environment, runEpisode, scoreEpisode, verifyScenario } from "../../runtime/index.js";
import { printAst } from "./print-ast.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const update = !!process.env.UPDATE_GOLDEN;

interface Fixture {
  name: string;
  /** the file name diagnostics and the tree show */
  file: string;
  source: string;
}

const md = readFileSync(path.join(root, "docs/language.md"), "utf8");
const fixtures: Fixture[] = [
  // the same source golden.test.ts emits into library-mini/: one fixture with goldens for all three phases
  { name: "library-mini", file: "docs/library-mini.env", source: /```env\n([\s\S]*?)```/.exec(md)![1]! },
  ...readdirSync(path.join(here, "specs"))
    .filter((f) => f.endsWith(".env"))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), file: `tests/golden/specs/${f}`, source: readFileSync(path.join(here, "specs", f), "utf8") })),
];
const byName = new Map(fixtures.map((f) => [f.name, f]));
const names = fixtures.map((f) => f.name);

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

describe("golden files per phase", () => {
  it("has fixtures: the docs' example, a clean spec, one with type errors, one with syntax errors", () => {
    expect(names).toEqual(expect.arrayContaining(["library-mini", "counter-shop", "type-errors", "syntax-errors"]));
  });

  it.each(names)("parse: %s", (name) => {
    const { file, source } = byName.get(name)!;
    const { ast, errors } = parseSpec(source, file);
    const lines = errors.map((e) => `error ${e.code} ${e.span.start.line}:${e.span.start.column}-${e.span.end.line}:${e.span.end.column} ${e.message}${e.fix ? ` (fix: ${e.fix})` : ""}`);
    golden(path.join(here, "parse", `${name}.txt`), printAst(ast) + (lines.length ? `\nsyntax errors:\n${lines.join("\n")}\n` : "\nno syntax errors\n"));
  });

  it.each(names)("check: %s", (name) => {
    const { file, source } = byName.get(name)!;
    const r = checkSource(source, file);
    const shown = r.diagnostics.map((d) => renderPretty(d, new Map([[file, source]]))).join("\n\n");
    golden(path.join(here, "check", `${name}.txt`), r.diagnostics.length ? `${shown}\n` : "no diagnostics\n");
  });

  it("emit: counter-shop's emitted code loads, its scenario verifies and its solution scores 1", () => {
    const { file, source } = byName.get("counter-shop")!;
    const env = checkSource(source, file).env!;
    const def = loadDefinition(env);
    const scenarios = loadScenarios(env);
    expect(scenarios.map((sc) => sc.id)).toEqual(["return_then_sell"]);
    for (const sc of scenarios) {
      const initial = Environment.createFrom(def, sc.initial);
      expect(verifyScenario(sc, initial), sc.id).toEqual([]);
      const run = runEpisode(initial, sc.solution, "json");
      expect(scoreEpisode(sc.checks, run.final, initial, run.results).reward, sc.id).toBe(1);
    }
  });

  it("keeps no golden file of a fixture that is gone", () => {
    for (const phase of ["parse", "check"]) {
      for (const f of readdirSync(path.join(here, phase))) expect(names, `tests/golden/${phase}/${f} has no fixture`).toContain(f.replace(/\.txt$/, ""));
    }
  });
});
