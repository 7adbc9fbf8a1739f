// Every file envc writes goes through writeAtomic (compiler/output-files.ts): through symlinks,
// never onto a folder, FIFO or device, with a clear message (exit 2, never 70) for a folder
// given as a file, a file given as --out folder, a file-size limit (`ulimit -f` in a child
// shell) and a full disk (a small tmpfs where the tests may mount one; the message otherwise);
// the old file is left as it was and no temp file is left behind.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import {
  mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync, symlinkSync, lstatSync, statSync, readdirSync, chmodSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { writeAtomic, checkOutputFile, describeWriteError, OutputError } from "../../compiler/output-files.js";
import { runEnvc } from "../helpers.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const library = path.join(root, "specs/library/library.env");
const unix = process.platform !== "win32";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-out-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const p = (...parts: string[]) => path.join(dir, ...parts);
/** Files in `d` whose names say they are temp files of ours. */
const temps = (d: string) => readdirSync(d).filter((n) => n.includes(".tmp-"));

describe("writeAtomic", () => {
  it("writes through a symlink chain: the links stay, the file they point to gets the text", async () => {
    mkdirSync(p("real"), { recursive: true });
    writeFileSync(p("real", "state.json"), "old\n");
    symlinkSync(path.join("real", "state.json"), p("link1"));
    symlinkSync("link1", p("link2"));
    await writeAtomic(p("link2"), "new\n");
    expect(lstatSync(p("link2")).isSymbolicLink()).toBe(true);
    expect(lstatSync(p("link1")).isSymbolicLink()).toBe(true);
    expect(readFileSync(p("real", "state.json"), "utf8")).toBe("new\n");
    expect(temps(p("real"))).toEqual([]);
    expect(temps(dir)).toEqual([]);
  });

  it("creates the file a dangling symlink points to, as a shell's > does", async () => {
    symlinkSync(path.join("made", "later.json"), p("dangling"));
    await writeAtomic(p("dangling"), "x\n");
    expect(readFileSync(p("made", "later.json"), "utf8")).toBe("x\n");
    expect(lstatSync(p("dangling")).isSymbolicLink()).toBe(true);
  });

  it("keeps an existing file's permissions", async () => {
    writeFileSync(p("private.json"), "a");
    chmodSync(p("private.json"), 0o600);
    await writeAtomic(p("private.json"), "b");
    expect(statSync(p("private.json")).mode & 0o777).toBe(0o600);
  });

  it.runIf(unix)("refuses a FIFO without opening it (no hang), and leaves it a FIFO", async () => {
    execFileSync("mkfifo", [p("pipe")]);
    await expect(writeAtomic(p("pipe"), "x")).rejects.toThrow(/pipe: it is a FIFO \(named pipe\), not a regular file; envc writes only regular files/);
    expect(lstatSync(p("pipe")).isFIFO()).toBe(true);
    symlinkSync(p("pipe"), p("to-pipe"));
    await expect(writeAtomic(p("to-pipe"), "x")).rejects.toThrow(/to-pipe \(-> .*pipe\): it is a FIFO/);
  });

  it.runIf(existsSync("/dev/full"))("refuses a device, also through a symlink, and leaves it a device", async () => {
    await expect(writeAtomic("/dev/full", "x")).rejects.toThrow("cannot write /dev/full: it is a character device, not a regular file");
    symlinkSync("/dev/full", p("full"));
    await expect(writeAtomic(p("full"), "x")).rejects.toThrow(/full \(-> \/dev\/full\): it is a character device/);
    expect(statSync("/dev/full").isCharacterDevice()).toBe(true);
  });

  it("refuses a folder given as a file, and a file in the way of a folder, naming it", async () => {
    mkdirSync(p("folder"));
    await expect(writeAtomic(p("folder"), "x")).rejects.toThrow(/folder: it is a folder \(name a file, e\.g\. .*folder\/state\.json\)/);
    writeFileSync(p("plain"), "keep");
    await expect(writeAtomic(p("plain", "sub", "x.json"), "x")).rejects.toThrow(`${p("plain")} is a file, not a folder`);
    await expect(checkOutputFile(p("plain", "x.json"))).rejects.toThrow(`${p("plain")} is a file, not a folder`);
    expect(readFileSync(p("plain"), "utf8")).toBe("keep");
    await expect(checkOutputFile(p("new-folder", "x.json"))).resolves.toBeUndefined();
    expect(existsSync(p("new-folder"))).toBe(false);
  });

  it("says what each system error means and that the old file is unchanged", () => {
    expect(describeWriteError({ code: "ENOSPC" }, "s.json")).toBe("cannot write s.json: no space left on the device; s.json is unchanged (free some space and run again)");
    expect(describeWriteError({ code: "EFBIG" }, "s.json", false)).toMatch(/file-size limit \(`ulimit -f`\); nothing was written/);
    expect(describeWriteError({ code: "EACCES" }, "s.json")).toMatch(/permission denied/);
    expect(describeWriteError({ code: "EROFS" }, "s.json")).toMatch(/read-only/);
  });

  it.runIf(unix && process.getuid?.() === 0)("on a full disk: ENOSPC, the old file as it was, no temp file", async (ctx) => {
    const small = p("small");
    mkdirSync(small);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]).status === 0;
    if (!mounted) return ctx.skip();
    try {
      writeFileSync(path.join(small, "s.json"), "old\n");
      try {
        writeFileSync(path.join(small, "fill"), Buffer.alloc(128 * 1024));
      } catch {
        // full now
      }
      await expect(writeAtomic(path.join(small, "s.json"), "y".repeat(8192))).rejects.toThrow(/no space left on the device; .*s\.json is unchanged/);
      expect(readFileSync(path.join(small, "s.json"), "utf8")).toBe("old\n");
      expect(temps(small)).toEqual([]);
    } finally {
      spawnSync("umount", [small]);
    }
  });
});

describe("envc writes: clear errors, exit 2, never 70", () => {
  it("call --save onto a folder is refused before the call runs", async () => {
    mkdirSync(p("save-dir"), { recursive: true });
    const r = await runEnvc(["call", library, "overdue_loans", "--save", p("save-dir")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^envc: cannot write .*save-dir: it is a folder/m);
    expect(r.out).toBe("");
  });

  it.runIf(unix)("call --save onto a FIFO is refused; through a symlink it writes the file", async () => {
    execFileSync("mkfifo", [p("save-pipe")]);
    const r = await runEnvc(["call", library, "overdue_loans", "--save", p("save-pipe")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/FIFO/);
    writeFileSync(p("saved-real.json"), "");
    symlinkSync("saved-real.json", p("saved-link.json"));
    const ok = await runEnvc(["call", library, "overdue_loans", "--save", p("saved-link.json")]);
    expect(ok.code).toBe(0);
    expect(lstatSync(p("saved-link.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(p("saved-real.json"), "utf8"))).toHaveProperty("books");
  });

  it("compile --out naming a regular file says so", async () => {
    writeFileSync(p("out-file"), "not a folder");
    const r = await runEnvc(["compile", library, "--out", p("out-file")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${p("out-file")} is a file, not a folder`);
    expect(r.err).not.toMatch(/internal error/);
    expect(readFileSync(p("out-file"), "utf8")).toBe("not a folder");
  });

  it.runIf(unix)("a file-size limit (ulimit -f in a child shell): exit 2, the state file unchanged, no temp file", () => {
    const work = p("fsize");
    mkdirSync(work);
    const state = JSON.parse(readFileSync(path.join(root, "specs/library/state.json"), "utf8"));
    const text = JSON.stringify(state, null, 2);
    writeFileSync(path.join(work, "state.json"), text);
    const tsx = path.join(root, "node_modules/.bin/tsx");
    const limitKb = Math.max(1, Math.floor(text.length / 1024) - 1); // the saved state is larger
    const r = spawnSync("bash", ["-c", `ulimit -f ${limitKb}; exec "$0" "$@"`, tsx, path.join(root, "cli/index.ts"), "call", library, "overdue_loans", "--state", "state.json", "--save", "state.json"], {
      cwd: work, encoding: "utf8",
    });
    expect(r.stderr).toMatch(/cannot write state\.json: the file is larger than the file-size limit \(`ulimit -f`\); state\.json is unchanged/);
    expect(r.status).toBe(2);
    expect(readFileSync(path.join(work, "state.json"), "utf8")).toBe(text);
    expect(temps(work)).toEqual([]);
  }, 60_000);
});

describe("OutputError", () => {
  it("is what writeAtomic throws", async () => {
    await expect(writeAtomic(p("folder"), "x")).rejects.toBeInstanceOf(OutputError);
  });
});
