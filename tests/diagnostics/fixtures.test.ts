// One fixture per diagnostic code: tests/diagnostics/fixtures/ENVxxxx.env is a small spec with
// exactly one deliberate problem, marked by a `// expect: ENVxxxx [at COL]` comment on the line
// above it. Each fixture must report its code there and no error of any other code. Also checks
// the fix suggestions, the three renderings and `explain` for every code.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as path from "node:path";
import { checkSource, attachScenarioFiles, type CheckedSpec } from "../../compiler/pipeline.js";
import { verifyAll } from "../../compiler/verify.js";
import { checkFile } from "../../compiler/project.js";
import { CODES, explain, renderPretty, renderShort, toJson, hasErrors, type Diagnostic } from "../../compiler/diagnostics.js";

const FIXTURE_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));

/**
 * Codes without a fixture: the internal error, unreadable input (tested with checkFile below)
 * and malformed dataset lines (JSONL, tested in tests/scenarios/dataset.test.ts).
 */
const EXEMPT = new Set(["ENV0000", "ENV1006", "ENV5014"]);

/** Fixtures the checker does not pass yet, with what happens instead (none at present). */
const KNOWN_FAILING: Record<string, string> = {};

interface Expectation {
  code: string;
  line: number; // 1-based line of the offending code (the line after the comment)
  column?: number; // 1-based column where the span starts
}

interface Fixture {
  name: string; // e.g. ENV2001.env
  code: string; // the code the file is named after
  file: string; // path given to the checker
  text: string;
  expectations: Expectation[];
}

const EXPECT_RE = /^\s*\/\/\s*expect:\s*(ENV\d{4})(?:\s+at\s+(\d+))?\s*$/;

function parseExpectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  text.split("\n").forEach((line, i) => {
    const m = EXPECT_RE.exec(line);
    if (m) out.push({ code: m[1]!, line: i + 2, ...(m[2] ? { column: Number(m[2]) } : {}) });
  });
  return out;
}

function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((n) => n.endsWith(".env"))
    .sort()
    .map((name) => {
      const text = readFileSync(path.join(FIXTURE_DIR, name), "utf8");
      return {
        name,
        code: path.basename(name, ".env"),
        file: `tests/diagnostics/fixtures/${name}`,
        text,
        expectations: parseExpectations(text),
      };
    });
}

const fixtures = loadFixtures();
const byCode = new Map(fixtures.map((f) => [f.code, f]));

function describeAll(ds: readonly Diagnostic[]): string {
  return ds.length ? ds.map((d) => `    ${renderShort(d)}`).join("\n") : "    (no diagnostics)";
}

/** Check a fixture; one with scenarios and no errors is also verified (the ENV50xx codes). */
function run(f: Fixture): CheckedSpec {
  const r = checkSource(f.text, f.file);
  // a `scenarios for` fixture names the fixture holding its environment: `// spec: ENVxxxx.env`
  const companion = /^\/\/ spec: (\S+)/m.exec(f.text)?.[1];
  const spec = companion ? checkSource(readFileSync(path.join(FIXTURE_DIR, companion), "utf8"), `tests/diagnostics/fixtures/${companion}`) : undefined;
  attachScenarioFiles(spec ? [spec, r] : [r]);
  if (r.env?.scenarios.length && !hasErrors(r.diagnostics)) {
    const [result] = verifyAll([r], []);
    r.diagnostics = [...r.diagnostics, ...(result?.verdicts.flatMap((v) => v.diagnostics) ?? [])];
  }
  return r;
}

/** The diagnostic a fixture expects (its code at the marked line and column), or undefined. */
function findExpected(f: Fixture, r: CheckedSpec): Diagnostic | undefined {
  const exp = f.expectations[0]!;
  return r.diagnostics.find(
    (d) => d.code === exp.code && d.span.start.line === exp.line && (exp.column === undefined || d.span.start.column === exp.column),
  );
}

/** Check a fixture; returns the matched diagnostic. Throws with a readable message otherwise. */
function checkFixture(f: Fixture): Diagnostic {
  expect(f.expectations.length, `${f.name}: needs exactly one '// expect: ${f.code} [at COL]' line`).toBe(1);
  const exp = f.expectations[0]!;
  expect(exp.code, `${f.name}: the expect comment names ${exp.code}, but the file is named after ${f.code}`).toBe(f.code);
  const r = run(f);
  const where = `line ${exp.line}${exp.column !== undefined ? `, column ${exp.column}` : ""}`;
  const found = findExpected(f, r);
  expect(found, `${f.name}: expected ${exp.code} at ${where}; the checker reported:\n${describeAll(r.diagnostics)}`).toBeDefined();
  expect(found!.severity, `${f.name}: ${exp.code} should have the severity registered in CODES`).toBe(CODES[exp.code as keyof typeof CODES].severity);
  expect(found!.file).toBe(f.file);
  const others = r.diagnostics.filter((d) => d.severity === "error" && d.code !== exp.code);
  expect(others, `${f.name}: errors of other codes besides ${exp.code} (the fixture should isolate its code):\n${describeAll(others)}`).toEqual([]);
  return found!;
}

describe("diagnostic fixtures", () => {
  it("there is a fixture for every code except the exempt ones, and none for unknown codes", () => {
    const wanted = Object.keys(CODES).filter((c) => !EXEMPT.has(c)).sort();
    const have = [...byCode.keys()].sort();
    const missing = wanted.filter((c) => !byCode.has(c));
    const unknown = have.filter((c) => !(c in CODES) || EXEMPT.has(c));
    expect(missing, `codes without a fixture in ${FIXTURE_DIR}`).toEqual([]);
    expect(unknown, "fixtures for codes that are not in CODES (or are exempt)").toEqual([]);
    expect(have).toEqual(wanted);
  });

  it("every fixture carries exactly one expect comment naming its own code", () => {
    for (const f of fixtures) {
      expect(f.expectations.map((e) => e.code), f.name).toEqual([f.code]);
    }
  });

  for (const f of fixtures) {
    const known = KNOWN_FAILING[f.code];
    if (known) it.fails(`${f.name} [known checker problem: ${known}]`, () => void checkFixture(f));
    else it(`${f.name} reports ${f.code} at the marked place and no other error`, () => void checkFixture(f));
  }

  it("known-failing entries all name existing fixtures", () => {
    for (const code of Object.keys(KNOWN_FAILING)) expect(byCode.has(code), code).toBe(true);
  });
});

describe("fix suggestions", () => {
  const fixOf = (code: string): string | undefined => {
    const f = byCode.get(code)!;
    return findExpected(f, run(f))?.fix;
  };

  it.each([
    ["ENV2001", "did you mean `amount`?"], // amout
    ["ENV2002", "did you mean `string`?"], // strng
    ["ENV2003", "did you mean `copies`?"], // b.copis
    ["ENV2009", "did you mean `upper`?"], // uper(...)
    ["ENV2010", 'did you mean "active"?'], // "activ"
    ["ENV2011", "did you mean `Member`?"], // ref Membr
    ["ENV2012", "add `isbn: string`"], // key isbn, no close field
    ["ENV2016", "did you mean `amount`?"], // amout: 1
    ["ENV2015", "merge the fields into the first state block"],
    ["ENV3011", "declare `book_id: string`"],
    ["ENV4016", "add `authors: table Author` to the state block"],
  ])("%s suggests %j", (code, fix) => {
    expect(fixOf(code)).toBe(fix);
  });

  it("an unknown name with nothing close gives no 'did you mean'", () => {
    const f = byCode.get("ENV2014")!; // string has no method 'size': nothing within edit distance
    expect(findExpected(f, run(f))?.fix).toBeUndefined();
  });
});

describe("renderings", () => {
  const diagOf = (code: string) => {
    const f = byCode.get(code)!;
    const r = run(f);
    return { f, r, d: findExpected(f, r)! };
  };

  it("renderShort is file:line:col: severity CODE: message, with the fix in parentheses", () => {
    const { f, d } = diagOf("ENV2005"); // no fix
    expect(d.fix).toBeUndefined();
    expect(renderShort(d)).toBe(`${f.file}:${d.span.start.line}:${d.span.start.column}: error ENV2005: ${d.message}`);
    expect(renderShort(d)).toBe(`${f.file}:10:3: error ENV2005: Duplicate field 'title'`);

    const withFix = diagOf("ENV2001");
    expect(renderShort(withFix.d)).toBe(`${withFix.f.file}:33:11: error ENV2001: Unknown name 'amout' (did you mean \`amount\`?)`);

    const warn = diagOf("ENV4015");
    expect(renderShort(warn.d)).toMatch(new RegExp(`^${warn.f.file.replace(/[.]/g, "\\.")}:\\d+:7: warning ENV4015: 'before' is never used`));
  });

  it("renderPretty shows the header, the location, the source line and carets under the span", () => {
    const { f, r, d } = diagOf("ENV2001");
    const out = renderPretty(d, new Map([[f.file, r.source]]));
    const lines = out.split("\n");
    expect(lines[0]).toBe("error ENV2001: Unknown name 'amout'");
    expect(lines[1]).toBe(`  --> ${f.file}:33:11`);
    const src = f.text.split("\n")[32]!;
    expect(lines).toContain(`33 | ${src}`);
    const caretLine = lines.find((l) => /^\s+\|\s*\^/.test(l));
    expect(caretLine, out).toBeDefined();
    // the carets sit exactly under `amout`
    const srcLine = lines.find((l) => l.startsWith("33 | "))!;
    const caretStart = caretLine!.indexOf("^");
    const carets = caretLine!.slice(caretStart).trimEnd();
    expect(srcLine.slice(caretStart, caretStart + carets.length)).toBe("amout");
    expect(carets).toBe("^^^^^");
    expect(out).toContain("help: did you mean `amount`?");
    expect(out).not.toContain("\x1b["); // no colour unless asked
  });

  it("renderPretty shows related locations (ENV2004 points at the first declaration)", () => {
    const { f, r, d } = diagOf("ENV2004");
    expect(d.related?.length).toBe(1);
    const out = renderPretty(d, new Map([[f.file, r.source]]));
    const first = d.related![0]!;
    expect(out).toContain(`note: first declared here at ${f.file}:${first.span.start.line}:${first.span.start.column}`);
    expect(out).toContain(`${first.span.start.line} | query find_book(book_id: string)`);
    expect(out.match(/\^+/g)!.length).toBe(2); // carets under both the duplicate and the original
  });

  it("renderPretty with colour paints the severity, and works without the source", () => {
    const { f, r, d } = diagOf("ENV2001");
    expect(renderPretty(d, new Map([[f.file, r.source]]), true)).toContain("\x1b[31;1merror\x1b[0m");
    const bare = renderPretty(d, new Map());
    expect(bare).toContain(`--> ${f.file}:33:11`);
    expect(bare).not.toContain("^");
  });

  it("toJson has code, severity, message, file, span (with offsets) and fix", () => {
    const { f, d } = diagOf("ENV2001");
    const j = JSON.parse(JSON.stringify(toJson(d))) as {
      code: string; severity: string; message: string; file: string; fix?: string;
      span: { start: { line: number; column: number; offset: number }; end: { line: number; column: number; offset: number } };
    };
    expect(j.code).toBe("ENV2001");
    expect(j.severity).toBe("error");
    expect(j.message).toBe("Unknown name 'amout'");
    expect(j.file).toBe(f.file);
    expect(j.fix).toBe("did you mean `amount`?");
    expect(j.span.start).toMatchObject({ line: 33, column: 11 });
    expect(j.span.end.line).toBe(33);
    expect(f.text.slice(j.span.start.offset, j.span.end.offset)).toBe("amout");
  });

  it("toJson leaves out fix when there is none and lists related locations", () => {
    const { d } = diagOf("ENV2004");
    const j = toJson(d) as Record<string, unknown>;
    const first = d.related![0]!;
    expect(j.related).toEqual([
      { file: d.file, message: "first declared here", line: first.span.start.line, column: first.span.start.column },
    ]);
    expect(first.span.start).toMatchObject({ line: 23, column: 7 }); // `find_book` of the first query
    const plain = toJson(diagOf("ENV2006").d) as Record<string, unknown>;
    expect(plain).not.toHaveProperty("fix");
    expect(plain).not.toHaveProperty("related");
  });
});

describe("explain", () => {
  for (const [code, info] of Object.entries(CODES)) {
    it(`explains ${code}`, () => {
      const text = explain(code);
      expect(text, code).toBeDefined();
      expect(text).toContain(code);
      expect(text).toContain(info.title);
      expect(text).toContain(`(${info.severity})`);
      expect(text).toContain(info.explanation);
      expect(text).toContain("Example:");
    });
  }

  it("is case-insensitive and gives undefined for unknown codes", () => {
    expect(explain("env2001")).toBe(explain("ENV2001"));
    expect(explain("ENV9999")).toBeUndefined();
  });
});

describe("ENV1006: unreadable input", () => {
  it("checkFile on a missing path reports ENV1006 and nothing else", async () => {
    const missing = path.join(FIXTURE_DIR, "does-not-exist", "missing.env");
    const r = await checkFile(missing);
    expect(r.env).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["ENV1006"]);
    expect(r.diagnostics[0]!.severity).toBe("error");
    expect(r.diagnostics[0]!.file).toBe(missing);
    expect(r.diagnostics[0]!.message).toContain(missing);
  });

  it("checkFile on a fixture gives the same diagnostics as checkSource", async () => {
    const f = byCode.get("ENV2001")!;
    const r = await checkFile(f.file);
    expect(r.diagnostics.map((d) => d.code)).toEqual(run(f).diagnostics.map((d) => d.code));
  });
});

// Cases where the checker once reported the wrong code, a duplicate or nothing.
describe("regressions: codes, duplicates and query purity", () => {
  const spec = (body: string) => `env Library "Library loans"

entity Book key book_id "A title in the catalogue" {
  book_id: string
  title: string
  copies: int
}

state {
  books: table Book
  log: list<string> = []
  today: date = "2024-01-01"
}
${body}`;
  const codes = (src: string) => checkSource(src, "known.env").diagnostics.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.code}`);

  it("ENV1004: an unclosed '${' (the registry's own example) is reported as ENV1004", () => {
    const src = spec(`
action lend(id: string) "Lend a book."
{
  fail "Order \${id not found"
}
`);
    expect(codes(src)).toEqual(["17:8 ENV1004"]);
  });

  it("ENV1003: an unterminated rule string does not cascade into ENV1001", () => {
    const src = spec(`
rule "Members may borrow
`);
    expect(codes(src)).toEqual(["15:6 ENV1003"]);
  });

  it("ENV1005: an env header after a declaration is reported as ENV1005", () => {
    const src = `entity Book key book_id { book_id: string }\nenv Library "Library loans"\nstate { books: table Book }\n`;
    expect(codes(src).map((c) => c.split(" ")[1])).toContain("ENV1005");
  });

  it("ENV1005: a second env header is reported as ENV1005", () => {
    const src = spec(`\nenv Again "A second header"\n`);
    expect(codes(src).map((c) => c.split(" ")[1])).toEqual(["ENV1005"]);
  });

  it("ENV4001 is reported once for one assignment to a state field in a query", () => {
    const src = spec(`
query peek() -> date "Read the date."
{
  today = "2024-01-02"
  return today
}
`);
    expect(codes(src)).toEqual(["17:3 ENV4001"]);
  });

  it("ENV4001 is reported once for a list mutation of a state field in a query", () => {
    const src = spec(`
query peek(id: string) -> Book "Look up a book."
{
  log.append(id)
  let b = books[id] else "Book not found"
  return b
}
`);
    expect(codes(src)).toEqual(["17:3 ENV4001"]);
  });

  it("ENV4009 is reported once for a list mutation of a parameter", () => {
    const src = spec(`
action tag(names: list<string>) "Tag books."
{
  names.append("x")
}
`);
    expect(codes(src)).toEqual(["17:3 ENV4009"]);
  });

  it("a query may change its own local list", () => {
    const src = spec(`
query ids() -> list<string> "List ids."
{
  let out: list<string> = []
  for b in books { out.append(b.book_id) }
  return out
}
`);
    expect(codes(src)).toEqual([]);
  });

  it("ENV4001: a query changing a table record through a local is rejected", () => {
    const src = spec(`
query peek(id: string) -> Book "Look up a book."
{
  let b = books[id] else "Book not found"
  b.copies += 1
  return b
}
`);
    expect(codes(src).map((c) => c.split(" ")[1])).toContain("ENV4001");
  });

  it("ENV4001: a query changing table records through a loop variable is rejected", () => {
    const src = spec(`
query total() -> int "Count the copies."
{
  for b in books {
    b.copies = 0
  }
  return 0
}
`);
    expect(codes(src).map((c) => c.split(" ")[1])).toContain("ENV4001");
  });
});
