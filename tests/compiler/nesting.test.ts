// Deep nesting (grammar/nesting.ts, ENV1007): parentheses 300 deep, `if` blocks and list
// literals 1,000 deep, a 700-term `1+1+...`, nested types and interpolations are refused with
// a located diagnostic by every command (exit 1), never a crash (exit 70); nesting just under
// the limit compiles, loads and runs.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc, envFrom } from "../helpers.js";
import { checkSource } from "../../compiler/pipeline.js";
import { parseExpression } from "../../grammar/parser.js";
import { MAX_NESTING } from "../../grammar/nesting.js";

const spec = (body: string) => `env Deep "Deep"\n\nstate {\n  total: int = 0\n}\n\nquery q() -> int "Q." {\n${body}\n}\n`;
const ifs = (n: number) => `${"if true {\n".repeat(n)}return 1\n${"}\n".repeat(n)}  return 0`;
const CASES: Record<string, (n: number) => string> = {
  parentheses: (n) => spec(`  return ${"(".repeat(n)}1${")".repeat(n)}`),
  "a chain of +": (n) => spec(`  return ${Array(n).fill("1").join(" + ")}`),
  "if blocks": (n) => spec(ifs(n)),
  "list literals": (n) => spec(`  let x = ${"[".repeat(n)}1${"]".repeat(n)}\n  return len(x)`),
  "not not": (n) => spec(`  return ${"not ".repeat(n)}true ? 1 : 0`),
  "calls": (n) => spec(`  return ${"abs(".repeat(n)}1${")".repeat(n)}`),
  "list types": (n) => spec(`  let x: ${"list<".repeat(n)}int${">".repeat(n)} = []\n  return len(x)`),
  "else if chains": (n) => spec(`  let k = 3\n  if k == 0 { return 0 }${Array.from({ length: n }, (_, i) => ` else if k == ${i + 1} { return ${i + 1} }`).join("")}\n  return -1`),
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-deep-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  mkdirSync(path.join(dir, name), { recursive: true });
  const file = path.join(dir, name, `${name}.env`);
  writeFileSync(file, text);
  writeFileSync(path.join(dir, name, "state.json"), "{}\n");
  return file;
}

describe("nesting past the limit", () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(`${name}, 1,000 deep: ENV1007 with its location, fast`, () => {
      const t0 = performance.now();
      const r = checkSource(make(1000), "deep.env");
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(r.diagnostics.map((d) => d.code)).toEqual(["ENV1007"]);
      const d = r.diagnostics[0]!;
      expect(d.message).toMatch(/Nested too deeply: .*100/);
      expect(d.fix).toContain("`let`");
      expect(d.span.start.line).toBeGreaterThan(1);
    });
  }

  it("strings interpolated 20 deep", () => {
    const r = checkSource(spec(`  return len(${'"${'.repeat(20)}1${'}"'.repeat(20)})`), "deep.env");
    expect(r.diagnostics.map((d) => d.code)).toContain("ENV1007");
  });

  it("in a JSONL dataset's check expression", () => {
    const r = parseExpression(`${"(".repeat(300)}1${")".repeat(300)} == 1`);
    expect(r.errors.map((e) => e.code)).toEqual(["ENV1007"]);
    expect(parseExpression(Array(700).fill("1").join("+") + " == 700").errors.map((e) => e.code)).toEqual(["ENV1007"]);
  });

  it("every command says so and exits 1, never 70", async () => {
    const files = {
      parens: write("parens", CASES.parentheses!(300)),
      ifs: write("ifs", CASES["if blocks"]!(1000)),
      lists: write("lists", CASES["list literals"]!(1000)),
      sum: write("sum", CASES["a chain of +"]!(700)),
    };
    for (const [name, file] of Object.entries(files)) {
      for (const argv of [["check", file], ["compile", file, "--out", path.join(dir, "out")], ["call", file, "q"], ["fuzz", file, "--runs", "5"], ["verify", file]]) {
        const r = await runEnvc(argv);
        // check and verify print their reports on stdout, the others on stderr
        const said = `${r.out}\n${r.err}`;
        expect(r.code, `${name}: envc ${argv[0]}: ${said}`).toBe(1);
        expect(said, `${name}: envc ${argv[0]}`).toMatch(new RegExp(`error ENV1007: Nested too deeply[\\s\\S]*${name}\\.env:\\d+:\\d+`));
      }
    }
  }, 120_000);
});

describe("nesting just under the limit", () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(`${name}: checks, compiles and runs`, async () => {
      // the tool body and its statement take two levels of the limit, some cases a few more
      const n = MAX_NESTING - 6;
      const text = make(n);
      const file = write(`ok-${name.replace(/\W+/g, "-")}`, text);
      const r = await runEnvc(["compile", file, "--out", path.join(dir, "out-ok")]);
      expect(r.code, r.err).toBe(0);
      const env = envFrom(text, {});
      expect(env.call("q", {}).ok).toBe(true);
    }, 60_000);
  }
});
