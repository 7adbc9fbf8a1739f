// `envc serve`'s usage errors through runCli, in process: they are reported before anything
// listens, with exit code 2 for bad usage and 1 for specs with errors. And the options reaching
// the server: the CLI as a process with every limit set, driven over HTTP, stopped by SIGINT.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runEnvc, serveProcess } from "../helpers.js";

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
    expect(r.err).toContain("fix the inputs first (envc check");
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

describe("envc serve options, in a real process", () => {
  it("--max-sessions, --max-body, --idle-timeout, --renderer, --no-checks and --no-mcp reach the server; SIGINT stops it", async () => {
    const { proc, url: listening, exited, stderr } = serveProcess(["specs/library",
      "--max-sessions", "1", "--max-body", "300", "--idle-timeout", "3", "--renderer", "taubench", "--no-checks", "--no-mcp"]);
    try {
      const url = await listening;
      const post = async (p: string, body: string) => {
        const r = await fetch(url + p, { method: "POST", body });
        return { status: r.status, json: (await r.json()) as any };
      };
      const health = (await (await fetch(`${url}/health`)).json()) as { maxSessions: number };
      expect(health.maxSessions).toBe(1);
      const a = await post("/sessions", JSON.stringify({ env: "Library", scenario: "marcus_settles_up" }));
      expect(a.status).toBe(201);
      expect(a.json).toMatchObject({ renderer: "taubench", checks: false });
      const b = await post("/sessions", JSON.stringify({ env: "Library", scenario: "marcus_settles_up" }));
      expect(b.status).toBe(503);
      expect((await post("/sessions", JSON.stringify({ env: "Library", state: { pad: "x".repeat(400) } }))).json.error.code).toBe("body_too_large");
      expect((await post("/mcp", "{}")).json.error.message).toContain("--no-mcp");
      await new Promise((r) => setTimeout(r, 3500)); // past --idle-timeout 3, counted from the last use of a
      const gone = await fetch(`${url}/sessions/${a.json.session}`);
      expect(((await gone.json()) as any).error.code).toBe("session_expired");
      proc.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stderr()).toContain("envc serve: stopping");
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  }, 60_000);
});
