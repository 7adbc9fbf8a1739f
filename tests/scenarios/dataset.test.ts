// JSONL scenario datasets: line-level validation (ENV5014), diagnostics inside expressions at
// the dataset's line and column, verification of dataset lines, and writing kept scenarios; the
// same scenario checks as in a spec (ids unique per environment, solution arguments typed).
import { describe, expect, it } from "vitest";
import { attachScenarioFiles, checkSource } from "../../compiler/pipeline.js";
import { loadDataset } from "../../compiler/dataset.js";
import { verifyAll, scenarioToJsonLine } from "../../compiler/verify.js";
import { SHELF, SHELF_STATE, RESTOCK } from "./shelf.js";

const spec = checkSource(SHELF, "shelf.env");

const good = {
  env: "Shelf",
  id: "restock",
  initial: SHELF_STATE,
  task: "Add three copies of Dune (B1) and a title Emma.",
  checks: [
    { text: "Does Dune have five copies?", expr: 'books["B1"].copies == 5' },
    { text: "Is Emma there?", expr: 'books.any(b => b.title == "Emma") and len(books) == len(initial.books) + 1' },
  ],
  solution: [
    { name: "add_copies", arguments: { book_id: "B1", amount: 1 } },
    { name: "add_copies", arguments: { book_id: "B1", amount: 2 } },
    { name: "add_book", arguments: { title: "Emma" } },
  ],
};
const line = (o: unknown) => JSON.stringify(o);

describe("loading a dataset", () => {
  it("turns each line into a checked scenario", () => {
    const d = loadDataset([line(good), "", line({ ...good, id: "restock2" })].join("\n"), "data.jsonl", [spec]);
    expect(d.diagnostics).toEqual([]);
    expect(d.lines).toBe(2);
    expect(d.scenarios.map((s) => s.scenario.name)).toEqual(["restock", "restock2"]);
    expect(d.scenarios[0]!.scenario.checks[0]!.exprText).toBe('books["B1"].copies == 5');
  });

  it.each([
    ["not JSON", "{nope", "ENV5014", 2],
    ["not an object", "[1, 2]", "ENV5014", 1],
    ["no id", line({ ...good, id: undefined }), "ENV5014", 1],
    ["checks not a list", line({ ...good, checks: "books == 1" }), "ENV5014", null],
    ["a check without expr", line({ ...good, checks: [{ text: "x" }] }), "ENV5014", null],
    ["an empty solution", line({ ...good, solution: [] }), "ENV5014", null],
    ["initial neither object nor path", line({ ...good, initial: 5 }), "ENV5014", null],
    ["an unknown environment", line({ ...good, env: "Shelff" }), "ENV5013", null],
    ["an unknown tool", line({ ...good, solution: [{ name: "add_copys", arguments: {} }] }), "ENV5004", null],
  ])("reports %s", (_what, text, code, column) => {
    const d = loadDataset(text, "data.jsonl", [spec]);
    expect(d.scenarios).toEqual([]);
    expect(d.diagnostics.map((x) => x.code)).toEqual([code]);
    expect(d.diagnostics[0]!.span.start.line).toBe(1);
    if (column !== null) expect(d.diagnostics[0]!.span.start.column).toBe(column);
  });

  it("reports a repeated id on its second line", () => {
    const d = loadDataset([line(good), line(good)].join("\n"), "data.jsonl", [spec]);
    expect(d.diagnostics.map((x) => [x.code, x.span.start.line])).toEqual([["ENV5003", 2]]);
  });

  it("points inside a check's expression: the dataset line and the column of the bad name", () => {
    const bad = { ...good, checks: [good.checks[0], { text: "Is Emma there?", expr: 'books.any(b => b.titl == "Emma")' }] };
    const text = line(bad);
    const d = loadDataset(`\n${text}`, "data.jsonl", [spec]);
    const diag = d.diagnostics.find((x) => x.code === "ENV2003")!;
    expect(diag.file).toBe("data.jsonl");
    expect(diag.span.start.line).toBe(2);
    expect(text.slice(diag.span.start.column - 1).startsWith("titl ")).toBe(true);
    expect(diag.fix).toBe("did you mean `title`?");
  });

  it("maps columns through escapes in the JSON string", () => {
    const expr = 'books["B1"].titel == "Dune"'; // quotes are escaped in the line
    const text = line({ ...good, checks: [{ text: "q", expr }] });
    const diag = loadDataset(text, "d.jsonl", [spec]).diagnostics[0]!;
    expect(diag.code).toBe("ENV2003");
    expect(text.slice(diag.span.start.column - 1).startsWith("titel")).toBe(true);
  });

  it("reports syntax errors inside an expression at their column", () => {
    const text = line({ ...good, checks: [{ text: "q", expr: "books[ == 1" }] });
    const diag = loadDataset(text, "d.jsonl", [spec]).diagnostics[0]!;
    expect(diag.code).toBe("ENV1001");
    expect(text.slice(diag.span.start.column - 1).startsWith("==")).toBe(true);
  });
});

describe("verifying a dataset", () => {
  it("verifies dataset scenarios with the spec, and faults in checks name the dataset line", () => {
    const lines = [
      line(good),
      line({ ...good, id: "already_true", checks: [{ text: "Is there a book?", expr: "len(books) > 0" }] }),
      line({ ...good, id: "vacuous", checks: [{ text: "More than two copies?", expr: 'books["B1"].copies > 2' }] }),
      line({ ...good, id: "fails", solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: -1 } }] }),
    ];
    const d = loadDataset(lines.join("\n"), "data.jsonl", [spec]);
    const [result] = verifyAll([spec], [d]);
    const byId = Object.fromEntries(result!.verdicts.map((v) => [v.id, v.diagnostics.map((x) => `${x.code}@${x.span.start.line}`)]));
    expect(byId).toEqual({ restock: [], already_true: ["ENV5008@2"], vacuous: ["ENV5012@3"], fails: ["ENV5009@4"] });
  });

  it("writes a kept scenario back as a dataset line that loads and verifies the same", () => {
    const d = loadDataset(line(good), "data.jsonl", [spec]);
    const [result] = verifyAll([spec], [d]);
    const back = scenarioToJsonLine("Shelf", result!.verdicts[0]!.scenario, "out/kept.jsonl");
    expect(JSON.parse(back)).toEqual(good);
    const again = loadDataset(back, "out/kept.jsonl", [spec]);
    expect(verifyAll([spec], [again])[0]!.verdicts[0]!.kept).toBe(true);
  });
});

describe("one scenario front end for specs and datasets", () => {
  // the spec with a `scenarios for` file holding scenario `restock`
  const withScenarios = () => {
    const own = checkSource(SHELF, "shelf.env");
    const file = checkSource(RESTOCK, "restock.env");
    attachScenarioFiles([own, file]);
    return own;
  };

  it("refuses a dataset id that a scenario of the spec already has (ENV5003), pointing at that scenario", () => {
    const own = withScenarios();
    const d = loadDataset([line({ ...good, id: "restock" }), line({ ...good, id: "other" })].join("\n"), "data.jsonl", [own]);
    expect(d.diagnostics.map((x) => [x.code, x.file, x.span.start.line, x.message])).toEqual([["ENV5003", "data.jsonl", 1, "Scenario 'restock' is declared twice"]]);
    expect(d.diagnostics[0]!.related).toEqual([expect.objectContaining({ file: "restock.env", message: "first declared here" })]);
    expect(d.scenarios.map((s) => s.scenario.name)).toEqual(["other"]);
    // loading the same dataset again is not a repeat of itself
    expect(loadDataset(line({ ...good, id: "other" }), "data.jsonl", [own]).diagnostics).toEqual([]);
  });

  it("refuses an id an earlier dataset used when the datasets share their names (as envc serve loads them)", () => {
    const names = new Map();
    expect(loadDataset(line(good), "a.jsonl", [spec], names).diagnostics).toEqual([]);
    const d = loadDataset(line(good), "b.jsonl", [spec], names);
    expect(d.diagnostics.map((x) => [x.code, x.file, x.related?.[0]?.file])).toEqual([["ENV5003", "b.jsonl", "a.jsonl"]]);
    expect(d.scenarios).toEqual([]);
  });

  // the same solution step written in a spec's scenario and as a dataset line gets the same diagnostics
  it.each([
    ["a string for an int", 'book_id: "B1", amount: "three"', { book_id: "B1", amount: "three" }],
    ["a fraction for an int", 'book_id: "B1", amount: 1.5', { book_id: "B1", amount: 1.5 }],
    ["null for a required string", "book_id: null, amount: 1", { book_id: null, amount: 1 }],
    ["an unknown parameter", 'book_id: "B1", amont: 3', { book_id: "B1", amont: 3 }],
    ["a missing argument", 'book_id: "B1"', { book_id: "B1" }],
    ["a list for a string", 'book_id: ["B1"], amount: 1', { book_id: ["B1"], amount: 1 }],
  ])("type-checks solution arguments when the line is checked, as in a spec: %s", (_what, written, args) => {
    const scenarioFile = `scenarios for Shelf
scenario s "A step" {
  init { books: {} }
  task "Do it."
  check "Done?": len(books) == 1
  solution {
    add_copies(${written})
  }
}
`;
    const own = checkSource(SHELF, "shelf.env");
    const file = checkSource(scenarioFile, "s.env");
    attachScenarioFiles([own, file]);
    const inSpec = file.diagnostics.map((x) => [x.code, x.message]).sort();
    expect(inSpec.length).toBeGreaterThan(0);
    const d = loadDataset(line({ ...good, solution: [{ name: "add_copies", arguments: args }] }), "data.jsonl", [spec]);
    expect(d.diagnostics.map((x) => [x.code, x.message]).sort()).toEqual(inSpec);
    expect(d.diagnostics.every((x) => x.span.start.line === 1)).toBe(true);
    expect(d.scenarios).toEqual([]);
  });

  it("refuses a helper (fn) as a solution step, as in a spec (ENV5004)", () => {
    const helperSpec = checkSource(SHELF.replace('action rename(', 'fn twice(n: int) -> int { return n * 2 }\n\naction rename('), "shelf.env");
    const d = loadDataset(line({ ...good, solution: [{ name: "twice", arguments: { n: 1 } }] }), "data.jsonl", [helperSpec]);
    expect(d.diagnostics.map((x) => [x.code, x.message])).toEqual([["ENV5004", "'twice' is a helper (fn); agents call only queries and actions"]]);
  });

  it("points an argument's diagnostic at its key in the line", () => {
    const text = line({ ...good, solution: [{ name: "add_copies", arguments: { book_id: "B1", amount: "three" } }] });
    const diag = loadDataset(text, "data.jsonl", [spec]).diagnostics[0]!;
    expect(diag.code).toBe("ENV3001");
    expect(text.slice(diag.span.start.column - 1).startsWith('"three"')).toBe(true);
  });
});
