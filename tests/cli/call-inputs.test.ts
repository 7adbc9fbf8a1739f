// `envc call` inputs: arguments from a file (--args-file), from stdin (`-`, `--args -`), once
// only; a --save that cannot be written refused before the call; and only the spec and its
// own `scenarios for` files are parsed, so an unrelated broken (or parser-crashing) `.env` in
// the same folder does not stop it.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runCli } from "../../cli/main.js";
import { scenariosForName } from "../../cli/common.js";
import { runEnvc } from "../helpers.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
let dir: string;
let spec: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-call-"));
  for (const f of ["library.env", "state.json", "scenarios.env"]) copyFileSync(path.join(root, "specs/library", f), path.join(dir, f));
  spec = path.join(dir, "library.env");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** runCli with standard input given as text. */
async function runWithStdin(argv: string[], stdin: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s), stdin: async () => stdin });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const ARGS = '{"member_id": "M001"}';

describe("envc call arguments", () => {
  it("reads them from --args-file (a BOM is fine), as if given inline", async () => {
    writeFileSync(path.join(dir, "args.json"), "\uFEFF" + ARGS + "\n");
    const fromFile = await runEnvc(["call", spec, "get_member", "--args-file", path.join(dir, "args.json"), "--format", "json"]);
    const inline = await runEnvc(["call", spec, "get_member", ARGS, "--format", "json"]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.out).toBe(inline.out);
    expect(JSON.parse(fromFile.out).result.ok).toBe(true);
  });

  it("reads them from stdin with `-`, `--args -` and `--args-file -`", async () => {
    for (const argv of [["-"], ["--args", "-"], ["--args-file", "-"]]) {
      const r = await runWithStdin(["call", spec, "get_member", ...argv, "--format", "json"], ARGS);
      expect(r.code, argv.join(" ")).toBe(0);
      expect(JSON.parse(r.out).result.ok).toBe(true);
    }
  });

  it("says where invalid JSON is, and that the arguments were given twice", async () => {
    writeFileSync(path.join(dir, "bad.json"), '{"member_id":\n');
    const bad = await runEnvc(["call", spec, "get_member", "--args-file", path.join(dir, "bad.json")]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/arguments are not valid JSON in .*bad\.json: .*line 2, column 1/);
    const missing = await runEnvc(["call", spec, "get_member", "--args-file", path.join(dir, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read the arguments file .*nope\.json: no such file/);
    const twice = await runEnvc(["call", spec, "get_member", ARGS, "--args-file", path.join(dir, "args.json")]);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/give the arguments once: \[args\] and --args-file/);
  });
});

describe("envc call loads only what it needs", () => {
  it("ignores unrelated .env files in the spec's folder, even one that crashes the parser", async () => {
    writeFileSync(path.join(dir, "broken.env"), "garbage {{{\n");
    const deep = "(".repeat(3000) + "1" + ")".repeat(3000);
    writeFileSync(path.join(dir, "deep.env"), `env Deep "d"\nquery q() -> int "q" { return ${deep} }\n`);
    const r = await runEnvc(["call", spec, "get_member", ARGS]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
  });

  it("still checks the spec's own scenarios files, and stops on their errors", async () => {
    const sub = path.join(dir, "own");
    mkdirSync(sub);
    for (const f of ["library.env", "state.json"]) copyFileSync(path.join(dir, f), path.join(sub, f));
    writeFileSync(
      path.join(sub, "more.env"),
      '// scenarios of the library\nscenarios for Library\nscenario s {\n  init from "state.json"\n  task "t"\n  check "c": nope == 1\n  solution { }\n}\n',
    );
    const r = await runEnvc(["call", path.join(sub, "library.env"), "get_member", ARGS]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ENV2001: Unknown name 'nope'\n\s+--> .*more\.env:6:14/);
  });

  it("tells scenarios files by their first words, after comments", () => {
    expect(scenariosForName("\uFEFF// c\n/* d */\nscenarios for Bank\n")).toBe("Bank");
    expect(scenariosForName("env Bank \"b\"\n")).toBeUndefined();
    expect(scenariosForName("// scenarios for Bank\nenv X \"x\"")).toBeUndefined();
  });

  it("refuses a --save it cannot write before running the call", async () => {
    const r = await runEnvc(["call", spec, "get_member", ARGS, "--save", dir]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/cannot write .*: it is a folder/);
  });
});
