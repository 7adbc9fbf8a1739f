// The bad-input corpus: what a new user or an attacker might hand the CLI, one case per row
// (malformed and hostile specs, states, arguments and episode files), each run through the
// CLI in process and checked twice: what every case must show (an exit code other than 70,
// which means "a bug in envc"; no stack trace; no "internal error"), and what this case must
// say (the file, line and column or JSON path, what was expected). The server's share of the
// corpus (random bytes and JSON against a live `envc serve`, pollution, traversal, huge bodies,
// slow clients) is tests/server/random-input.test.ts and server-abuse.test.ts; interrupted
// writes are kill9.test.ts beside this file.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";

let dir: string;
const LIBRARY = path.resolve("specs/library/library.env");

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-bad-"));
  copyFileSync(LIBRARY, path.join(dir, "library.env"));
  copyFileSync(path.resolve("specs/library/state.json"), path.join(dir, "state.json"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  /** what is wrong, as a user would describe it */
  name: string;
  /** files written into the case's own folder first */
  files?: Record<string, string | Buffer>;
  /** the command line; `$D` is the case's folder, `$LIB` a copy of the library spec */
  argv: string[];
  exit: number;
  /** what the output (stdout and stderr together) must say */
  says: RegExp[];
}

const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

const CASES: Case[] = [
  // specs
  { name: "a spec with a syntax error", files: { "bad.env": 'env Bad "x"\n\nentity {\n' }, argv: ["check", "$D/bad.env"], exit: 1, says: [/bad\.env:3:\d+/] },
  { name: "an empty spec file", files: { "empty.env": "" }, argv: ["check", "$D/empty.env"], exit: 1, says: [/empty\.env:1:1/] },
  { name: "random bytes as a spec", files: { "noise.env": Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 256)) }, argv: ["check", "$D/noise.env"], exit: 1, says: [/noise\.env:\d+:\d+/] },
  { name: "a spec path that does not exist", argv: ["check", "$D/missing.env"], exit: 2, says: [/missing\.env/, /No such file/] },
  // states
  { name: "a state file that is not JSON", files: { "state.json": "{ members: 1 }" }, argv: ["call", "$LIB", "search_catalog", '{"text":"a"}', "--state", "$D/state.json"], exit: 2, says: [/state\.json:1:3/, /expected a string key/] },
  { name: "a state whose table has the wrong type", files: { "state.json": '{"members": []}' }, argv: ["call", "$LIB", "search_catalog", '{"text":"a"}', "--state", "$D/state.json"], exit: 1, says: [/\$\.members/] },
  { name: "a state nested 100,000 levels deep", files: { "state.json": `{"members": ${deep(100_000)}}` }, argv: ["call", "$LIB", "search_catalog", '{"text":"a"}', "--state", "$D/state.json"], exit: 2, says: [/Nesting too deep/, /state\.json:1:\d+/] },
  { name: "a state polluting the prototype", files: { "state.json": '{"__proto__": {"polluted": true}, "members": {}}' }, argv: ["call", "$LIB", "search_catalog", '{"text":"a"}', "--state", "$D/state.json"], exit: 1, says: [/__proto__/] },
  // arguments
  { name: "arguments that are not JSON", argv: ["call", "$LIB", "search_catalog", "{text: 1}"], exit: 2, says: [/not valid JSON/, /Example/] },
  { name: "arguments nested 5,000 levels deep", argv: ["call", "$LIB", "search_catalog", `{"text": ${deep(5000)}}`], exit: 2, says: [/Nesting too deep at line 1, column \d+/] },
  { name: "arguments nested 500 levels deep (within what JSON may nest)", argv: ["call", "$LIB", "search_catalog", `{"text": ${deep(500)}}`], exit: 1, says: [/invalid_args/, /text/] },
  { name: "arguments polluting the prototype", argv: ["call", "$LIB", "search_catalog", '{"text":"a","__proto__":{"polluted":1}}'], exit: 1, says: [/unknown argument '__proto__'/] },
  { name: "arguments named constructor", argv: ["call", "$LIB", "search_catalog", '{"text":"a","constructor":{"prototype":{"polluted":1}}}'], exit: 1, says: [/unknown argument 'constructor'/] },
  { name: "a 5 MB string argument", argv: ["call", "$LIB", "search_catalog", JSON.stringify({ text: "x".repeat(5_000_000) })], exit: 0, says: [/"ok":true/] },
  { name: "a tool that does not exist", argv: ["call", "$LIB", "rm_rf", "{}"], exit: 1, says: [/Unknown tool 'rm_rf'/, /search_catalog/] },
  // episode files
  { name: "an episodes file with a broken line", files: { "eps.jsonl": '{"id":"a","calls":[]}\n{"id": b}\n' }, argv: ["replay", "$LIB", "--episodes", "$D/eps.jsonl"], exit: 2, says: [/eps\.jsonl:2:8: Unexpected character 'b': expected a value/] },
  // help for what does not exist
  { name: "explain a code that does not exist", argv: ["explain", "ENV9999"], exit: 2, says: [/unknown code 'ENV9999'/, /envc explain/] },
];

describe("the bad-input corpus (CLI)", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const caseDir = mkdtempSync(path.join(dir, "case-"));
    for (const [f, content] of Object.entries(c.files ?? {})) writeFileSync(path.join(caseDir, f), content);
    const argv = c.argv.map((a) => a.replaceAll("$D", caseDir).replaceAll("$LIB", path.join(dir, "library.env")));
    const r = await runEnvc(argv);
    const all = `${r.out}\n${r.err}`;
    // what every case must show
    expect(r.code, all.slice(0, 600)).not.toBe(70);
    expect(all).not.toMatch(/\n\s+at .+[:(]\d+:\d+\)?\n/);
    expect(all).not.toMatch(/internal error/i);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // what this case must say
    expect(r.code, all.slice(0, 600)).toBe(c.exit);
    for (const re of c.says) expect(all.slice(0, 20_000)).toMatch(re);
    // the spec and state the case ran on are as they were
    expect(readFileSync(path.join(dir, "library.env"), "utf8")).toBe(readFileSync(LIBRARY, "utf8"));
  }, 60_000);
});
