// Interrupted writes: `envc call --save` (a 1.3 MB tau-bench state) and `envc compile` killed with
// SIGKILL at moments spread over a whole run, again and again. Whatever the moment, each file
// envc writes is either as it was before or exactly what a complete run writes: never empty,
// truncated or half of each. (A temporary file beside the target may survive a SIGKILL, which
// no process can clean up after; it is never the target itself.) The real binary runs the
// sources through tsx, as tests/cli does.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, existsSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const root = path.resolve(".");
const tsx = path.join(root, "node_modules/.bin/tsx");
const cli = path.join(root, "cli/index.ts");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-kill-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the CLI; kill it with SIGKILL after `ms` (or let it finish when ms is undefined). */
function run(args: string[], ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; elapsed: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(tsx, [cli, ...args], { stdio: "ignore" });
    const timer = ms === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, elapsed: Date.now() - started });
    });
  });
}

/** Delays spread over a run of `total` ms, from early (start-up) to late (the write itself). */
const moments = (total: number, n: number) => Array.from({ length: n }, (_, i) => Math.round((total * (i + 1)) / (n + 1)));

describe("SIGKILL during writes", () => {
  it("call --save: the saved state is the old one or the complete new one, whenever the kill lands", async () => {
    const spec = path.join(root, "specs/taubench-retail/retail.env");
    const state = path.join(root, "specs/taubench-retail/db.json");
    const args = (save: string) => [
      "call", spec, "modify_user_address", JSON.stringify({ user_id: "mia_garcia_4516", address1: "1 Main St", address2: "", city: "Austin", state: "TX", country: "USA", zip: "78701" }),
      "--state", state, "--save", save,
    ];
    // what a complete run writes
    const full = path.join(dir, "full.json");
    const done = await run(args(full));
    expect(done.code).toBe(0);
    const complete = readFileSync(full, "utf8");
    expect(JSON.parse(complete).users.mia_garcia_4516.address.city).toBe("Austin");

    const target = path.join(dir, "saved.json");
    const before = '{"previous": "contents"}\n';
    for (const ms of moments(done.elapsed, 4)) {
      writeFileSync(target, before);
      await run(args(target), ms);
      const now = readFileSync(target, "utf8");
      expect(now === before || now === complete, `killed after ${ms} ms: ${now.length} bytes`).toBe(true);
    }
    for (const f of readdirSync(dir)) expect(f === "full.json" || f === "saved.json" || f.startsWith("saved.json.") || f.startsWith("full.json."), f).toBe(true);
  }, 180_000);

  it("compile: every emitted file is absent, as before, or complete", async () => {
    const specDir = path.join(dir, "spec");
    rmSync(specDir, { recursive: true, force: true });
    spawnSync("mkdir", ["-p", specDir]);
    copyFileSync(path.join(root, "specs/library/library.env"), path.join(specDir, "library.env"));
    const full = path.join(dir, "out-full");
    const done = await run(["compile", specDir, "--out", full]);
    expect(done.code).toBe(0);
    const files = readdirSync(path.join(full, "library"));
    expect(files).toContain("env.ts");
    for (const ms of moments(done.elapsed, 2)) {
      const out = path.join(dir, `out-${ms}`);
      await run(["compile", specDir, "--out", out], ms);
      const folder = path.join(out, "library");
      if (!existsSync(folder)) continue;
      for (const f of readdirSync(folder)) {
        const base = f.replace(/\.tmp-.*$/, "");
        if (base !== f) continue; // a temporary file left by the kill
        expect(readFileSync(path.join(folder, f), "utf8"), `${f} after ${ms} ms`).toBe(readFileSync(path.join(full, "library", f), "utf8"));
      }
    }
  }, 240_000);
});
