// Small things a new user meets (issue 16, point 6): a state.json with a UTF-8 BOM is read as
// a spec with one is; a syntax error at the end of the input points at the end, not at 1:1;
// escape and other control characters from a spec are printed escaped; the package export
// `envc/compiler` resolves to a module that exists; the output folder is named after the spec
// file (as documented); a low open-file limit at start-up is one clear line, not a stack trace.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { checkSource } from "../../compiler/pipeline.js";
import { renderPretty, renderShort, visible } from "../../compiler/diagnostics.js";
import { runEnvc } from "../helpers.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-edges-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a byte order mark", () => {
  it("is accepted at the start of a state file, as at the start of a spec", async () => {
    const spec = path.join(dir, "bom.env");
    writeFileSync(spec, "\uFEFF" + readFileSync(path.join(root, "specs/library/library.env"), "utf8"));
    writeFileSync(path.join(dir, "state.json"), "\uFEFF" + readFileSync(path.join(root, "specs/library/state.json"), "utf8"));
    const r = await runEnvc(["call", spec, "get_member", '{"member_id": "M001"}']);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("syntax errors at the end of the input", () => {
  it.each([
    ["an unclosed tool body", 'env T "t"\nstate { n: int = 0 }\nquery q() -> int "q" {\n  return n\n', 4, 11],
    ["an unclosed state block", 'env T "t"\nstate { n: int = 0\n', 2, 19],
    ["a signature cut short", 'env T "t"\nstate { n: int = 0 }\nquery q() -> int', 3, 17],
  ])("%s: pointed at where the input ends", (_what, text, line, column) => {
    const d = checkSource(text, "t.env").diagnostics.find((x) => /end of input/.test(x.message))!;
    expect(d).toBeDefined();
    expect([d.span.start.line, d.span.start.column]).toEqual([line, column]);
  });
});

describe("control characters from a spec", () => {
  const text = 'env T "t"\nstate { n\x1b[31m: int = 0 }\n';

  it("are escaped in every rendering, carets under the escaped text", () => {
    const ds = checkSource(text, "t\x07.env").diagnostics;
    expect(ds.length).toBeGreaterThan(0);
    const pretty = renderPretty(ds[0]!, new Map([["t\x07.env", text]]));
    const short = renderShort(ds[0]!);
    for (const out of [pretty, short]) expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(short).toBe("t\\x07.env:2:10: error ENV1002: Unexpected character '\\x1b'");
    expect(pretty).toContain("2 | state { n\\x1b[31m: int = 0 }\n  |          ^^^^");
  });

  it("visible() escapes bidi overrides and zero-width characters too, and leaves text alone", () => {
    expect(visible("a\u202eb\u200bc")).toBe("a\\u202eb\\u200bc");
    expect(visible("plain, ünïcode and\ttabs\n")).toBe("plain, ünïcode and\ttabs\n");
  });
});

describe("the package exports", () => {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, { default: string; types: string }> };

  it("each points at the build of a source file that exists", () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      const source = target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts");
      expect(existsSync(path.join(root, source)), `${name} -> ${target.default} (from ${source})`).toBe(true);
    }
  });

  it("envc/compiler offers the compiler's entry points", async () => {
    const m = await import("../../compiler/index.js");
    for (const f of ["checkSource", "emitEnv", "loadDefinition", "verifyAll", "fuzzEnv", "renderPretty", "writeAtomic"]) expect(typeof (m as Record<string, unknown>)[f], f).toBe("function");
  });

  it.runIf(existsSync(path.join(root, "dist/compiler/index.js")))("envc/compiler and envc/runtime import by name from the build", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `const c = await import("${pkg.name}/compiler"); const rt = await import("${pkg.name}/runtime"); console.log(typeof c.checkSource, typeof rt.Environment);`], { cwd: root, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function function");
  });
});

describe("the output folder", () => {
  it("is named after the spec file, not the env name", async () => {
    const src = path.join(dir, "named");
    mkdirSync(src);
    copyFileSync(path.join(root, "specs/library/library.env"), path.join(src, "my-desk.env"));
    const out = path.join(dir, "gen");
    const r = await runEnvc(["compile", path.join(src, "my-desk.env"), "--out", out]);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(out, "my-desk", "env.ts"))).toBe(true);
    expect(readFileSync(path.join(out, "my-desk", "env.ts"), "utf8")).toMatch(/export class LibraryEnv extends/);
  });
});

describe("start-up under a low open-file limit", () => {
  it.runIf(process.platform === "linux" && existsSync(path.join(root, "dist/cli/index.js")))("says so in one line and exits 2, no stack trace", () => {
    const r = spawnSync("bash", ["-c", `ulimit -n 64 && exec "$0" bin/envc.js check specs/library`, process.execPath], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^envc: cannot start: too many open files while loading its modules; the open-file limit is 64\. .*`ulimit -n 4096`/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);
});
