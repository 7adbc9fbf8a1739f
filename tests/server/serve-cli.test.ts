// `envc serve`'s usage errors through runCli, in process: they are reported before anything
// listens, with exit code 2 for bad usage and 1 for specs with errors.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc } from "../helpers.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-serve-"));
  writeFileSync(path.join(dir, "broken.env"), 'env Broken "A broken spec"\nstate { n: int = 0 }\nquery get() -> int "Read." { return m }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("envc serve usage", () => {
  it("--env/--scenario/--seed without --stdio is a usage error", async () => {
    const r = await runEnvc(["serve", "specs/library", "--scenario", "marcus_settles_up"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--env, --scenario and --seed choose the --stdio session");
  });

  it("no specs found, exit 2", async () => {
    const r = await runEnvc(["serve", path.join(dir, "nowhere")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("no spec files found");
  });

  it("a spec with errors is not served: diagnostics and exit 1", async () => {
    const r = await runEnvc(["serve", path.join(dir, "broken.env")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error ENV2\d{3}/);
    expect(r.err).toContain("fix the specs first");
  });

  it("--stdio needs one environment and a scenario that exists", async () => {
    let r = await runEnvc(["serve", "specs/library", "specs/banking", "--stdio"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("name its environment with --env (one of Library, Banking)");
    r = await runEnvc(["serve", "specs/library", "--stdio", "--scenario", "nope"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("no environment has a scenario 'nope'");
    r = await runEnvc(["serve", "specs/library", "--stdio", "--env", "Library", "--scenario", "nope"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("No scenario 'nope' in Library (there are: marcus_settles_up");
  });

  it("--help names the docs", async () => {
    const r = await runEnvc(["serve", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("docs/serving.md");
    expect(r.out).toContain("--max-sessions");
  });
});
