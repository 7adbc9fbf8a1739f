// End-to-end tests of the envc command line, run in-process through runCli (same code as the
// binary, minus process.exit), plus one spawn of the real binary entry.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { runEnvc } from "../helpers.js";

const run = (...argv: string[]) => runEnvc(argv);

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const specs = ["banking", "calendar", "clinical-trials", "ecommerce", "filesystem", "library", "messaging", "support-tickets"];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const THREE_ERRORS = `env Shop "A shop"

entity Item key item_id "An item" {
  item_id: string
  price: number
}

state {
  items: table Item
}

query price_of(item_id: string) -> number "Price of an item."
{
  let it = items[item_id] else "Item not found"
  return it.prise
}

query cheapest() -> string "The cheapest item's id."
{
  return itemz.min_by(i => i.price)
}

action set_price(item_id: string, price: number) "Set a price."
{
  let it = items[item_id] else "Item not found"
  it.price = "free"
}
`;

describe("envc check", () => {
  it("prints three errors in different places with file:line:col and carets, and exits 1", async () => {
    const file = path.join(dir, "three.env");
    writeFileSync(file, THREE_ERRORS);
    const r = await run("check", file);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ENV2003: Item has no field 'prise'/);
    expect(r.out).toMatch(/ENV2001: Unknown name 'itemz'/);
    expect(r.out).toMatch(/ENV3001: Expected number, got string/);
    expect(r.out).toContain(`${file.split(path.sep).join("/").replace(/^\//, "")}`.length ? ":15:13" : "");
    expect(r.out).toMatch(/\n15 \|   return it\.prise\n\s+\|\s+\^{4}/);
    expect(r.out).toMatch(/help: did you mean `price`\?/);
    expect(r.out).toMatch(/3 errors/);
  });

  it("--format json prints machine-readable diagnostics with code, severity, span and fix", async () => {
    const file = path.join(dir, "three.env");
    writeFileSync(file, THREE_ERRORS);
    const r = await run("check", file, "--format", "json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(false);
    const codes = doc.diagnostics.map((d: { code: string }) => d.code).sort();
    expect(codes).toEqual(["ENV2001", "ENV2003", "ENV3001"]);
    const prise = doc.diagnostics.find((d: { code: string }) => d.code === "ENV2003");
    expect(prise).toMatchObject({ severity: "error", span: { start: { line: 15, column: 13 } }, fix: "did you mean `price`?" });
  });

  it("--format short prints one line per diagnostic", async () => {
    const file = path.join(dir, "three.env");
    writeFileSync(file, THREE_ERRORS);
    const r = await run("check", file, "--format", "short");
    const lines = r.out.split("\n").filter((l) => / error ENV/.test(l));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/three\.env:\d+:\d+: error ENV\d{4}: /);
  });

  it("passes the bundled specs with no diagnostics", async () => {
    const r = await run("check", path.join(root, "specs"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/9 specs, 9 scenario files checked: 0 errors, 0 warnings/);
  });

  it("skips a dotenv file named .env and reports a missing path as usage error", async () => {
    const d = path.join(dir, "dotenv");
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, ".env"), "OPENAI_API_KEY=sk-123\n");
    writeFileSync(path.join(d, "ok.env"), readFileSync(path.join(root, "specs/library/library.env"), "utf8"));
    const r = await run("check", d);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 spec checked/);
    const missing = await run("check", path.join(dir, "nope"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/No such file or folder/);
  });
});

describe("envc compile", () => {
  it("writes env.ts, tools.json and index.ts, then --verify passes; a change makes --verify fail with a diff", async () => {
    const out = path.join(dir, "gen");
    const spec = path.join(dir, "lib.env");
    writeFileSync(spec, readFileSync(path.join(root, "specs/library/library.env"), "utf8"));
    const first = await run("compile", spec, "--out", out);
    expect(first.code).toBe(0);
    for (const f of ["env.ts", "tools.json", "index.ts"]) expect(existsSync(path.join(out, "lib", f))).toBe(true);
    const tools = JSON.parse(readFileSync(path.join(out, "lib", "tools.json"), "utf8"));
    expect(tools.length).toBeGreaterThanOrEqual(12);
    expect(tools[0]).toMatchObject({ type: "function", function: { name: expect.any(String), parameters: { type: "object" } } });
    expect(readFileSync(path.join(out, "lib", "env.ts"), "utf8")).toMatch(/from "envc\/runtime"/);
    expect((await run("compile", spec, "--out", out, "--verify")).code).toBe(0);
    writeFileSync(spec, readFileSync(spec, "utf8").replace(/rule "/, 'rule "Be kind. '));
    const stale = await run("compile", spec, "--out", out, "--verify");
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/stale: .*env\.ts differs/);
    expect(stale.err).toMatch(/\+ .*Be kind/);
  });

  it("is deterministic: compiling twice gives byte-identical output", async () => {
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    await run("compile", path.join(root, "specs/banking"), "--out", a);
    await run("compile", path.join(root, "specs/banking"), "--out", b);
    expect(readFileSync(path.join(a, "banking/env.ts"), "utf8")).toBe(readFileSync(path.join(b, "banking/env.ts"), "utf8"));
  });

  it("the committed generated/ is up to date", async () => {
    const r = await run("compile", path.join(root, "specs"), "--out", path.join(root, "generated"), "--verify");
    expect(r.err).not.toMatch(/stale:/);
    expect(r.code).toBe(0);
  });
});

describe("envc explain", () => {
  it("explains a code and lists all codes; an unknown code is a usage error", async () => {
    const r = await run("explain", "ENV3002");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Possibly null/);
    expect(r.out).toMatch(/Example:/);
    const all = await run("explain");
    expect(all.out.split("\n").length).toBeGreaterThanOrEqual(40);
    expect((await run("explain", "ENV9999")).code).toBe(2);
  });
});

describe("envc call on every bundled spec", () => {
  for (const name of specs) {
    it(`${name}: an ok call, a bad argument, an unknown tool and a failed require, state unchanged on errors`, async () => {
      const spec = path.join(root, "specs", name);
      const toolsJson = JSON.parse(readFileSync(path.join(root, "generated", name, "tools.json"), "utf8")) as {
        function: { name: string; parameters: { properties: Record<string, { type?: string }>; required: string[] } };
      }[];
      const tool = toolsJson.find((t) => t.function.parameters.required.length > 0)!.function;
      // a wrong type for every required parameter
      const badArgs = Object.fromEntries(tool.parameters.required.map((p) => [p, tool.parameters.properties[p]!.type === "string" ? 12345 : "x"]));
      const bad = await run("call", spec, tool.name, JSON.stringify(badArgs));
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/"kind":"invalid_args"/);
      expect(bad.out).toMatch(/state: unchanged/);
      const unknown = await run("call", spec, "no_such_tool", "{}");
      expect(unknown.code).toBe(1);
      expect(unknown.out).toMatch(/"kind":"unknown_tool"/);
      expect(unknown.out).toMatch(/state: unchanged/);
      // a string id that exists nowhere fails a require (or a lookup's else) in every tool that takes one
      const withId = toolsJson.find((t) => t.function.parameters.required.some((p) => /_id$/.test(p) && t.function.parameters.properties[p]!.type === "string"));
      expect(withId).toBeDefined();
      const args: Record<string, unknown> = {};
      for (const p of withId!.function.parameters.required) {
        const t = withId!.function.parameters.properties[p]!;
        const choices = (t as { enum?: string[] }).enum;
        const format = (t as { format?: string }).format;
        args[p] = choices ? choices[0] : format === "date" ? "2024-05-01" : format === "date-time" ? "2024-05-01T09:00:00" : t.type === "string" ? "NO-SUCH-ID" : t.type === "integer" || t.type === "number" ? 1 : t.type === "boolean" ? true : t.type === "array" ? [] : (t as { enum?: string[] }).enum?.[0] ?? "x";
      }
      const miss = await run("call", spec, withId!.function.name, JSON.stringify(args), "--format", "json");
      const doc = JSON.parse(miss.out);
      expect(doc.result).toMatchObject({ ok: false, kind: "precondition" });
      expect(doc.diff).toEqual({ tables: {}, globals: {} });
      expect(miss.code).toBe(1);
    });
  }

  it("runs a successful action, prints the diff and saves the new state", async () => {
    const saved = path.join(dir, "after.json");
    const r = await run("call", path.join(root, "specs/filesystem"), "trash_file", '{"user_id":"U002","file_id":"F003"}', "--save", saved);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/~ files\["F003"\]\.trashed_at: null -> "2024-05-01T09:00:00"/);
    expect(JSON.parse(readFileSync(saved, "utf8")).files.F003.trashed_at).toBe("2024-05-01T09:00:00");
  });

  it("renders tau-bench and EnvScaler styles", async () => {
    const spec = path.join(root, "specs/filesystem");
    const tb = await run("call", spec, "nope", "{}", "--renderer", "taubench");
    expect(tb.out.split("\n")[0]).toMatch(/^Error: Unknown tool 'nope'/);
    const es = await run("call", spec, "nope", "{}", "--renderer", "envscaler");
    expect(JSON.parse(es.out.split("\n")[0]!)).toMatchObject({ success: false, error: expect.stringMatching(/Unknown tool/) });
  });

  it("names the file, line and column of a malformed state, and the JSON path of a state that does not fit", async () => {
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, '{\n  "users": {\n    "U1": { "user_id": "U1", }\n  }\n}\n');
    const r = await run("call", path.join(root, "specs/filesystem"), "list_trash", '{"user_id":"U002"}', "--state", broken);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json:3:\d+: /);
    const misfit = path.join(dir, "misfit.json");
    const state = JSON.parse(readFileSync(path.join(root, "specs/filesystem/state.json"), "utf8"));
    state.files.F003.owner_id = "U999";
    writeFileSync(misfit, JSON.stringify(state));
    const m = await run("call", path.join(root, "specs/filesystem"), "list_trash", '{"user_id":"U002"}', "--state", misfit);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/\$\.files\.F003\.owner_id: refers to users\["U999"\], which does not exist/);
  });

  it("rejects arguments that are not JSON with a usage error, not a stack trace", async () => {
    const r = await run("call", path.join(root, "specs/filesystem"), "list_trash", "{user_id: U002}");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/arguments are not valid JSON/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe("help", () => {
  it("every command has --help", async () => {
    for (const cmd of [[], ["compile"], ["check"], ["explain"], ["call"]]) {
      const r = await run(...cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: envc/);
    }
  });

  it("the binary entry runs (through tsx) and exits with the CLI's code", () => {
    const tsx = path.join(root, "node_modules/.bin/tsx");
    const out = execFileSync(tsx, [path.join(root, "cli/index.ts"), "explain", "ENV2001"], { encoding: "utf8" });
    expect(out).toMatch(/Unknown name/);
    let code = 0;
    try {
      execFileSync(tsx, [path.join(root, "cli/index.ts"), "check", path.join(root, "nope")], { stdio: "pipe" });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    expect(code).toBe(2);
  });
});
