// Scenarios through the compiler and runtime: parsing and checking scenario blocks and
// `scenarios for` files, in-memory checkers, verification problems and episode rewards.
import { describe, expect, it } from "vitest";
import { checkSource, attachScenarioFiles } from "../../compiler/pipeline.js";
import { loadDefinition, loadScenarios } from "../../compiler/load.js";
import { verifyAll } from "../../compiler/verify.js";
import { parseSpec } from "../../grammar/parser.js";
import { Environment, verifyScenario, scoreEpisode, evaluateChecks, runEpisode } from "../../runtime/index.js";
import { SHELF, SHELF_STATE, RESTOCK } from "./shelf.js";

function withScenarios(scenarios: string) {
  const spec = checkSource(SHELF, "shelf.env");
  const file = checkSource(scenarios, "shelf-scenarios.env");
  attachScenarioFiles([spec, file]);
  return { spec, file };
}

function codes(scenarios: string): string[] {
  const { spec, file } = withScenarios(scenarios);
  if (file.diagnostics.some((d) => d.severity === "error")) return file.diagnostics.map((d) => d.code);
  return verifyAll([spec], [])[0]!.verdicts.flatMap((v) => v.diagnostics.map((d) => d.code));
}

const variant = (edit: (s: string) => string) => edit(RESTOCK);

describe("scenario syntax", () => {
  it("parses every item; task text loses the indentation of its continuation lines", () => {
    const { ast, errors } = parseSpec(RESTOCK, "s.env");
    expect(errors).toEqual([]);
    expect(ast.scenariosFor?.name).toBe("Shelf");
    const sc = ast.decls[0]!;
    expect(sc.kind).toBe("Scenario");
    if (sc.kind !== "Scenario") return;
    expect(sc.task!.text).toBe('Add three copies of Dune (B1), add the title Emma,\nthen rename Dune to "Dune (2nd ed.)".');
    expect(sc.checks.map((c) => c.text)).toEqual(["Does Dune have five copies?", "Is there one more title, Emma?", "Is Dune renamed?"]);
    expect(sc.solution!.steps).toHaveLength(3);
    expect(sc.init).toMatchObject({ value: SHELF_STATE });
  });

  it("inline initial states are JSON: quoted keys, nesting, negative numbers, true/false/null", () => {
    const { ast, errors } = parseSpec(`scenarios for X\nscenario s { init { "a-b": [1, -2.5, true, false, null, {c: "d"}] } }`, "s.env");
    expect(errors).toEqual([]);
    const sc = ast.decls[0]!;
    expect(sc.kind === "Scenario" && sc.init).toMatchObject({ value: { "a-b": [1, -2.5, true, false, null, { c: "d" }] } });
  });

  it("reports unknown and repeated items (ENV5001) and goes on", () => {
    const { errors } = parseSpec(`scenarios for X\nscenario s {\n  taks "a"\n  task "b"\n  task "c"\n}`, "s.env");
    expect(errors.map((e) => [e.code, e.span.start.line])).toEqual([["ENV5001", 3], ["ENV5001", 5]]);
  });

  it("scenario words stay usable as names in specs", () => {
    const r = checkSource(SHELF.replace("query get_book(book_id: string)", "query get_book(book_id: string, check: int = 0, task: string = \"\")"), "x.env");
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});

describe("checking scenarios", () => {
  it("a good scenario file checks clean and joins its environment", () => {
    const { spec, file } = withScenarios(RESTOCK);
    expect(file.diagnostics).toEqual([]);
    expect(spec.env!.scenarios.map((s) => s.name)).toEqual(["restock"]);
    expect(spec.scenarioFiles).toEqual(["shelf-scenarios.env"]);
    expect(spec.env!.scenarios[0]!.solution[0]).toMatchObject({ tool: "add_copies", args: { book_id: "B1", amount: 3 } });
  });

  it.each([
    ["a check that is not a bool", (s: string) => s.replace('books["B1"].copies == 5', 'books["B1"].copies'), "ENV3003"],
    ["a misspelt state field after initial", (s: string) => s.replace("len(initial.books)", "len(initial.bokks)"), "ENV2003"],
    ["a tool call in a check", (s: string) => s.replace('books["B1"].copies == 5', 'get_book(book_id: "B1").copies == 5'), "ENV5016"],
    ["`initial` on its own", (s: string) => s.replace("len(initial.books)", "len(initial)"), "ENV5015"],
    ["an unknown tool in the solution", (s: string) => s.replace("add_book(title", "add_bok(title"), "ENV5004"],
    ["an argument of the wrong type", (s: string) => s.replace("amount: 3", 'amount: "3"'), "ENV3001"],
    ["an unknown argument name", (s: string) => s.replace("amount: 3", "amout: 3"), "ENV2016"],
    ["a missing required argument", (s: string) => s.replace('add_copies(book_id: "B1", amount: 3)', 'add_copies(book_id: "B1")'), "ENV3008"],
    ["a computed argument", (s: string) => s.replace("amount: 3", "amount: len(books)"), "ENV5005"],
    ["a scenario without a solution", (s: string) => s.replace(/solution \{[\s\S]*?\n  \}/, ""), "ENV5002"],
  ])("reports %s", (_what, edit, code) => {
    expect(codes(variant(edit))).toContain(code);
  });

  it("names the environment it could not find, with a suggestion", () => {
    const file = checkSource(RESTOCK.replace("scenarios for Shelf", "scenarios for Shelff"), "s.env");
    attachScenarioFiles([checkSource(SHELF, "shelf.env"), file]);
    expect(file.diagnostics[0]).toMatchObject({ code: "ENV5013", fix: "did you mean `Shelf`?" });
  });
});

describe("verification", () => {
  it("passes a good scenario", () => {
    expect(codes(RESTOCK)).toEqual([]);
  });

  it.each([
    ["a check already true at the start", (s: string) => s.replace('books["B1"].copies == 5', 'books["B1"].copies >= 2'), "ENV5008"],
    ["a solution step failing its require", (s: string) => s.replace("amount: 3", "amount: -3"), "ENV5009"],
    ["a solution step faulting", (s: string) => s.replace('rename(book_id: "B1"', 'rename(book_id: "B7"'), "ENV5010"],
    ["a check false after the solution", (s: string) => s.replace('books["B1"].copies == 5', 'books["B1"].copies == 6'), "ENV5011"],
    ["a vacuous check", (s: string) => s.replace('books["B1"].copies == 5', 'books["B1"].copies > 2 or len(books) > 1 or books["B1"].title != "Dune"'), "ENV5012"],
    ["an initial state breaking an invariant", (s: string) => s.replace("copies: 2 }", "copies: -2 }"), "ENV5007"],
    ["an initial state with a bad field type", (s: string) => s.replace("copies: 2 }", 'copies: "two" }'), "ENV5007"],
    ["an unreadable initial state file", (s: string) => s.replace(/init \{.*\}/, 'init from "no-such-file.json"'), "ENV5006"],
  ])("rejects %s", (_what, edit, code) => {
    expect(codes(variant(edit))).toContain(code);
  });

  it("--allow-initially-true makes an initially true check a warning, and skips its vacuity", () => {
    const text = RESTOCK.replace('check "Is Dune renamed?"', 'check "Is the shelf non-empty?": len(books) > 0\n  check "Is Dune renamed?"');
    const { spec } = withScenarios(text);
    const strict = verifyAll([spec], [])[0]!.verdicts[0]!;
    expect(strict.kept).toBe(false);
    const lenient = verifyAll([spec], [], { allowInitiallyTrue: true })[0]!.verdicts[0]!;
    expect(lenient.kept).toBe(true);
    expect(lenient.diagnostics.map((d) => [d.code, d.severity])).toEqual([["ENV5008", "warning"]]);
  });

  it("points at the failing solution step in the scenario file", () => {
    const { spec } = withScenarios(variant((s) => s.replace("amount: 3", "amount: -3")));
    const d = verifyAll([spec], [])[0]!.verdicts[0]!.diagnostics[0]!;
    expect(d.file).toBe("shelf-scenarios.env");
    expect([d.span.start.line, d.span.start.column]).toEqual([11, 5]);
    expect(d.message).toContain('Solution step 1, add_copies(book_id: "B1", amount: -3), fails (precondition): The amount must be positive');
  });

  it("leaves the initial environment untouched and gives the same answer twice", () => {
    const { spec } = withScenarios(RESTOCK);
    const def = loadDefinition(spec.env!);
    const [sc] = loadScenarios(spec.env!);
    const initial = Environment.createFrom(def, SHELF_STATE);
    const before = JSON.stringify(initial.toJSON());
    expect(verifyScenario(sc!, initial)).toEqual([]);
    expect(verifyScenario(sc!, initial)).toEqual([]);
    expect(JSON.stringify(initial.toJSON())).toBe(before);
  });
});

describe("rewards", () => {
  const { spec } = withScenarios(RESTOCK);
  const def = loadDefinition(spec.env!);
  const [sc] = loadScenarios(spec.env!);
  const initial = Environment.createFrom(def, SHELF_STATE);

  it("the solution scores 1, with every check named", () => {
    const run = runEpisode(initial, sc!.solution, "json");
    const r = scoreEpisode(sc!.checks, run.final, initial, run.results);
    expect(r).toMatchObject({ reward: 1, passed: 3, total: 3, agentErrors: 0, envFaults: 0 });
    expect(r.checks.map((c) => c.check)).toEqual(sc!.checks.map((c) => c.text));
  });

  it("a partial episode scores the fraction of checks, and agent errors are counted", () => {
    const run = runEpisode(initial, [
      { name: "add_copies", arguments: { book_id: "B1", amount: 3 } },
      { name: "add_copies", arguments: { book_id: "B1", amount: 0 } }, // precondition
      { name: "nope", arguments: {} }, // unknown tool
      { name: "add_book", arguments: { title: 5 } }, // invalid args
    ], "json");
    const r = scoreEpisode(sc!.checks, run.final, initial, run.results);
    expect(r.reward).toBeCloseTo(1 / 3);
    expect(r.checks.map((c) => c.passed)).toEqual([true, false, false]);
    expect(r).toMatchObject({ agentErrors: 3, envFaults: 0, calls: 4 });
  });

  it("an environment fault is counted apart and the episode is not scored", () => {
    const run = runEpisode(initial, [...sc!.solution, { name: "rename", arguments: { book_id: "B9", title: "x" } }], "json");
    const r = scoreEpisode(sc!.checks, run.final, initial, run.results);
    expect(r.passed).toBe(3);
    expect(r.reward).toBeNull();
    expect(r).toMatchObject({ agentErrors: 0, envFaults: 1 });
    expect(r.faults[0]!.location).toMatch(/^shelf\.env:\d+:\d+$/);
  });

  it("a check that fails to evaluate counts as false and says why", () => {
    const broken = { ...sc!.checks[0]!, check: () => { throw new Error("boom"); } };
    expect(evaluateChecks([broken], initial, initial)).toEqual([{ check: sc!.checks[0]!.text, passed: false, error: "boom" }]);
  });
});
