// Start-up: `envc --version`, the help listing of verbs whose modules are not loaded, and what
// each command imports. Imports are recorded in real processes (tsx on the sources, with
// tests/support/record-imports.mjs preloaded): --help and --version load no verb module, and
// no command of the fast path (call, replay, serve of an unchanged spec, verify) loads
// ts-morph, prettier or TypeScript; on a cache hit call and replay load neither the parser
// nor the checker. No timings here: speed is measured by `npm run bench` (startup section).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Command, Help } from "commander";
import { runEnvc } from "../helpers.js";
import { VERBS, verbOf } from "../../cli/verbs.js";
import { defaultIo } from "../../cli/io.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
const exec = promisify(execFile);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-startup-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the CLI from its sources in a fresh process; the modules it imported (URLs relative to the repository or node_modules). */
async function importsOf(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; imports: string[] }> {
  const log = path.join(dir, `imports-${Math.random().toString(36).slice(2)}.txt`);
  let code = 0;
  let out = "";
  try {
    ({ stdout: out } = await exec(process.execPath, ["--import", "tsx", "--import", "./tests/support/record-imports.mjs", "cli/index.ts", ...args], {
      cwd: root,
      env: { ...process.env, RECORD_IMPORTS: log, ...env },
    }));
  } catch (err) {
    code = (err as { code: number }).code;
    out = (err as { stdout: string }).stdout;
  }
  const urls = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  const imports = [...new Set(urls.map((u) => u.replace(/^file:\/\/.*?\/node_modules\//, "").replace(`file://${root}/`, "")))];
  return { code, out, imports };
}

const HEAVY = ["ts-morph", "prettier", "typescript"];
const COMPILER = ["grammar/parser.ts", "compiler/check.ts", "compiler/emit-definition.ts", "chevrotain"];
const loads = (imports: string[], what: string) => imports.some((i) => i === what || i.startsWith(`${what}/`) || i.includes(`/${what}/`) || i.endsWith(what));

describe("envc --version", () => {
  it("prints the package version and exits 0, also as -V", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await runEnvc([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(pkg.version);
    }
  });

  it("is listed in the help", async () => {
    const r = await runEnvc(["--help"]);
    expect(r.out).toMatch(/-V, --version\s+print the version of envc/);
  });
});

describe("the verb index", () => {
  it("lists every verb with the usage and description its module registers", async () => {
    for (const [name, verb] of Object.entries(VERBS)) {
      const program = new Command();
      (await verb.load())(program, defaultIo);
      const cmd = program.commands.find((c) => c.name() === name);
      expect(cmd, name).toBeDefined();
      expect(cmd!.description(), name).toBe(verb.description);
      expect(new Help().subcommandTerm(cmd!), name).toBe(`${name} ${verb.usage}`.trimEnd());
    }
  });

  it("the help lists all verbs in order, as they list themselves", async () => {
    const r = await runEnvc(["--help"]);
    expect(r.code).toBe(0);
    const listed = [...r.out.matchAll(/^ {2}([a-z]+)[ \[<]/gm)].map((m) => m[1]);
    expect(listed).toEqual([...Object.keys(VERBS), "help"]);
    expect(r.out).toContain("call [options] <spec> <tool> [args]");
  });

  it("finds the verb of a command line, and none for unknown words or inherited names", () => {
    expect(verbOf(["call", "specs/library", "get_member"])).toBe("call");
    expect(verbOf(["--help"])).toBeUndefined();
    expect(verbOf(["help", "replay"])).toBe("replay");
    expect(verbOf(["constructor"])).toBeUndefined();
    expect(verbOf(["toString"])).toBeUndefined();
  });

  it("a mistyped verb is still suggested, and an inherited name is an unknown command", async () => {
    expect((await runEnvc(["verfy", "x"])).err).toMatch(/unknown command 'verfy'[\s\S]*Did you mean verify\?/);
    expect((await runEnvc(["constructor"])).code).toBe(2);
  });

  it("`envc help VERB` shows the verb's own help", async () => {
    const r = await runEnvc(["help", "call"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--state <file>");
  });
});

describe("what commands load", () => {
  it("--help loads commander and no verb module; --version alone not even commander", async () => {
    const expected: [string[], string[], RegExp][] = [
      [["--help"], ["cli/index.ts", "cli/io.ts", "cli/main.ts", "cli/verbs.ts", "compiler/version.ts"], /^commander\//],
      [["--version"], ["cli/index.ts", "compiler/version.ts"], /^$/],
    ];
    for (const [args, modules, packagesAllowed] of expected) {
      const { code, out, imports } = await importsOf(args);
      expect(code).toBe(0);
      if (args[0] === "--version") expect(out).toBe(`${pkg.version}\n`);
      const ours = imports.filter((i) => /^(cli|compiler|grammar|runtime|server|synth|agent)\//.test(i));
      expect(ours.sort()).toEqual(modules);
      const packages = imports.filter((i) => !ours.includes(i) && !i.startsWith("node:"));
      expect(packages.every((p) => packagesAllowed.test(p)), packages.join(", ")).toBe(true);
    }
  });

  it("call and replay of an unchanged spec load neither the compiler nor TypeScript, ts-morph or prettier; the first call compiles without them too", async () => {
    const env = { ENVC_CACHE_DIR: path.join(dir, "cache-call") };
    const call = ["call", "specs/library", "get_member", '{"member_id": "M001"}'];
    const first = await importsOf(call, env);
    expect(first.code).toBe(0);
    for (const h of HEAVY) expect(loads(first.imports, h), h).toBe(false);
    expect(loads(first.imports, "grammar/parser.ts")).toBe(true); // it compiled
    const second = await importsOf(call, env);
    expect(second.out).toBe(first.out);
    for (const m of [...HEAVY, ...COMPILER]) expect(loads(second.imports, m), m).toBe(false);

    const replay = ["replay", "specs/library", "--scenario", "marcus_settles_up"];
    expect((await importsOf(replay, env)).code).toBe(0);
    const again = await importsOf(replay, env);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/reward: 1 /);
    for (const m of [...HEAVY, ...COMPILER]) expect(loads(again.imports, m), m).toBe(false);
  });

  it("verify loads the checker but not TypeScript, ts-morph or prettier", async () => {
    const r = await importsOf(["verify", "specs/library"]);
    expect(r.code).toBe(0);
    for (const h of HEAVY) expect(loads(r.imports, h), h).toBe(false);
  });

  it("serve of an unchanged spec loads neither the compiler nor TypeScript, ts-morph or prettier", async () => {
    const env = { ENVC_CACHE_DIR: path.join(dir, "cache-serve") };
    for (let round = 0; round < 2; round++) {
      const log = path.join(dir, `serve-imports-${round}.txt`);
      const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./tests/support/record-imports.mjs", "cli/index.ts", "serve", "specs/library", "--port", "0"], {
        cwd: root,
        env: { ...process.env, RECORD_IMPORTS: log, ...env },
      });
      const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        proc.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then((code) => reject(new Error(`envc serve exited with ${code}`)));
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      proc.kill("SIGINT");
      expect(await exited).toBe(0);
      const imports = readFileSync(log, "utf8");
      for (const h of HEAVY) expect(imports.includes(`/node_modules/${h}/`), h).toBe(false);
      if (round === 0) expect(imports.includes("grammar/parser.ts")).toBe(true); // it compiled
      else for (const m of COMPILER) expect(imports.includes(m), m).toBe(false);
    }
  });
});
