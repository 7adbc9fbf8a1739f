// Reports go where a redirect finds them: `envc check` and `envc verify` print diagnostics and
// their summary to stdout (a usage error and its cause stay on stderr); `envc replay` exits 1
// after an environment fault (a bug in the spec), 0 after agent errors.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { runEnvc } from "../helpers.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-reports-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAULTY = `env Faulty "An action whose ensure can break"
state { n: int = 0 }
action bump(by: int) -> int "Add to n." {
  require by != 0 else "by must not be 0"
  n += by
  ensure n < 10
  return n
}
`;

describe("check and verify reports on stdout", () => {
  it("envc check > file holds the diagnostics and the summary", () => {
    const spec = path.join(dir, "bad.env");
    writeFileSync(spec, `env Bad "b"\nstate { n: int = 0 }\nquery q() -> int "q" { return nn }\n`);
    const report = path.join(dir, "report.txt");
    const tsx = path.join(root, "node_modules/.bin/tsx");
    const r = spawnSync("bash", ["-c", `"$0" "$1" check "$2" > "$3"`, tsx, path.join(root, "cli/index.ts"), spec, report], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const text = readFileSync(report, "utf8");
    expect(text).toMatch(/error ENV2001: Unknown name 'nn'/);
    expect(text).toMatch(/1 spec checked: 1 error, 0 warnings/);
    expect(r.stderr).toBe("");
  }, 60_000);

  it("envc verify prints its verdicts to stdout", async () => {
    const r = await runEnvc(["verify", path.join(root, "specs/library")]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Library \(.*library\.env\): \d+\/\d+ scenarios pass/);
    expect(r.out).toMatch(/verify: \d+\/\d+ scenarios kept; 0 errors/);
    expect(r.err).toBe("");
  });

  it("a usage error keeps its cause on stderr", async () => {
    const r = await runEnvc(["check", path.join(dir, "nope")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No such file or folder/);
    expect(r.out).toBe("");
  });
});

describe("envc replay exit codes", () => {
  beforeAll(() => {
    writeFileSync(path.join(dir, "faulty.env"), FAULTY);
    writeFileSync(path.join(dir, "state.json"), "{}");
    writeFileSync(path.join(dir, "fault.jsonl"), '{"name": "bump", "arguments": {"by": 4}}\n{"name": "bump", "arguments": {"by": 9}}\n');
    writeFileSync(path.join(dir, "agent.jsonl"), '{"name": "bump", "arguments": {"by": 0}}\n{"name": "nope"}\n');
    writeFileSync(path.join(dir, "episodes.jsonl"), '{"id": "e1", "calls": [{"name": "bump", "arguments": {"by": 12}}]}\n');
  });

  it("exits 1 after an environment fault, naming the call and the place", async () => {
    for (const format of ["pretty", "json"]) {
      const r = await runEnvc(["replay", path.join(dir, "faulty.env"), "--calls", path.join(dir, "fault.jsonl"), "--format", format]);
      expect(r.code, format).toBe(1);
      expect(r.err).toMatch(/replay: 1 environment fault \(a bug in the spec\); the first, in call 2: .* at .*faulty\.env:6:3/);
    }
  });

  it("exits 0 when the calls only fail as an agent's would", async () => {
    const r = await runEnvc(["replay", path.join(dir, "faulty.env"), "--calls", path.join(dir, "agent.jsonl")]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\(precondition\)/);
    expect(r.out).toMatch(/\(unknown_tool\)/);
  });

  it("a batch without --expect exits 1 when an episode faults", async () => {
    const r = await runEnvc(["replay", path.join(dir, "faulty.env"), "--episodes", path.join(dir, "episodes.jsonl")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/replay: 1 episode hit an environment fault .* the first, e1, in call 1/);
  });
});
