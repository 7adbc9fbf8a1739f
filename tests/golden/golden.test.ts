// Golden files for emitted code: the docs' library example compiles to exactly the files in
// tests/golden/library-mini/. Set UPDATE_GOLDEN=1 to rewrite them after an intended change.
// Also drives a committed generated environment through its typed class (no in-memory load).
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";
import { emitEnv } from "../../compiler/emit.js";
import { LibraryEnv } from "../../generated/library/index.js";

const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const source = /```env\n([\s\S]*?)```/.exec(md)![1]!;
const dir = new URL("./library-mini/", import.meta.url);

describe("golden emitted code", () => {
  it("matches env.ts, tools.json and index.ts", async () => {
    const r = checkSource(source, "docs/library-mini.env");
    const files = await emitEnv(r.env!, { runtimeImport: "../../../runtime/index.js" });
    for (const f of files) {
      const target = new URL(f.path, dir);
      if (process.env.UPDATE_GOLDEN || !existsSync(target)) writeFileSync(target, f.text);
      expect(f.text, `${f.path} differs from the golden file (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(target, "utf8"));
    }
  });
});

describe("a committed generated environment", () => {
  it("runs through its typed class: calls, failures, fork and state", () => {
    const state = JSON.parse(readFileSync(new URL("../../specs/library/state.json", import.meta.url), "utf8"));
    const env = LibraryEnv.create(state);
    const before = JSON.stringify(env.state());
    const bad = env.call("no_such_tool", {});
    expect(bad).toMatchObject({ ok: false, kind: "unknown_tool" });
    const session = env.fork();
    const tools = env.def.toolSchemas as { function: { name: string } }[];
    expect(tools.map((t) => t.function.name)).toEqual(env.toolNames);
    expect(JSON.stringify(env.state())).toBe(before);
    expect(env.diff(session)).toEqual({ tables: {}, globals: {} });
  });
});
