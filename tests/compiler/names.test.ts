// Names: the checker refuses the names generated code could not carry (ENV2020, with a fix),
// and for every other name the emitted env.ts type-checks under strict TypeScript and works,
// both loaded in memory (as `envc call` does) and imported as the compiled module (as the
// README's "Using a compiled environment" does). Tools named like the Environment's own
// methods get their typed method with `_` appended (until free); `env.call("call", ...)` works.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { checkSource } from "../../compiler/pipeline.js";
import { emitEnv } from "../../compiler/emit.js";
import { runtimeImportFor } from "../../compiler/project.js";
import { loadDefinition } from "../../compiler/load.js";
import { Environment } from "../../runtime/index.js";
import { mustCheck, runEnvc } from "../helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Every name class the checker accepts, where generated code used to break on it. */
const ODD_NAMES = `env Odd "Names that JavaScript and the generated class use themselves"

enum Kind { new, constructor, toString, default }

record State "A US state: the generated State type must step aside" {
  code: string
  name: string
}

record Record { prototype: int, new: int, class: string, all: bool = false }

record OddEnv { x: int }

record CallArgs { y: int }

entity Item key id "An item" {
  id: string
  prototype: int
  default: string = "d"
  kind: Kind = new
  counts: map<string, int> = {}
}

state {
  items: table Item
  home: State = { code: "CA", name: "California" }
  extra: map<string, Record> = {}
  tally: map<string, int> = { __proto__: 1, constructor: 2 }
  blob: json = {}
}

query call(id: string) -> int "A tool named like Environment.call." {
  let item = items[id] else "no item"
  return item.prototype
}

query fork() -> string "Named like Environment.fork." { return home.code }
query diff() -> int "Named like Environment.diff." { return len(items) }
query toJSON() -> int "Named like Environment.toJSON." { return 7 }
query constructor() -> int "Named like the class constructor." { return 8 }
query toString() -> string "Named like Object.prototype.toString." { return "s" }
query snapshot(new: int, class: string, state: string) -> { new: int, class: string, state: string } "Reserved words as parameters." {
  return { new, class, state }
}
query call_() -> int "Takes the name call's method would get." { return 9 }
query new() -> int "A JavaScript reserved word." {
  let new = 1
  let Math = 2
  let Object = 3
  let tool_call = 4
  let arguments = 5
  return new + Math + Object + tool_call + arguments + call(id: "A")
}
query tally_of(k: string) -> int? "A map entry, any key." { return tally.get(k) }
query has_key(k: string) -> bool "Whether the map holds k." { return k in tally }
query tally_keys() -> list<string> "The map's keys." { return tally.keys() }
action set_tally(k: string, v: int) "Set a map entry." { tally[k] = v }
action add_tally(k: string, v: int) "Add to a map entry." { tally[k] += v }
action drop_tally(k: string) "Delete a map entry." { delete tally[k] }
action merge_tally(more: map<string, int>) -> list<string> "Merge entries given as an argument." {
  for k, v in more { tally[k] = v }
  return tally.keys()
}
`;

const ODD_STATE = {
  items: { A: { id: "A", prototype: 5, counts: { __proto__: 3 } } },
  tally: { __proto__: 1, constructor: 2, toString: 3 },
  blob: { __proto__: { deep: true } },
};

/** The state as a JSON text, "__proto__" keys included (an object literal would drop them). */
const stateJson = () =>
  '{"items": {"A": {"id": "A", "prototype": 5, "counts": {"__proto__": 3}}}, "tally": {"__proto__": 1, "constructor": 2, "toString": 3}, "blob": {"__proto__": {"deep": true}}}';

describe("names the checker refuses (ENV2020)", () => {
  const spec = (body: string) => `env T "t"\n${body}\nstate { n: int = 0 }\nquery q() -> int "q" { return n }\n`;
  const errors = (src: string) => checkSource(src, "t.env").diagnostics.filter((d) => d.severity === "error");

  it.each([
    ["a field named __proto__", `record R { __proto__: int }`, "field"],
    ["a field named constructor", `record R { constructor: string? }`, "field"],
    ["a field named toString", `entity E key id { id: string, toString: string }`, "field"],
    ["a record named string", `record string { a: int }`, "type"],
    ["an enum named rt", `enum rt { a, b }`, "type"],
    ["a record named z", `record z { a: int }`, "type"],
  ])("%s", (_what, body, role) => {
    const ds = errors(spec(body));
    expect(ds.map((d) => d.code)).toEqual(["ENV2020"]);
    expect(ds[0]!.message).toMatch(new RegExp(`cannot name a ${role}`));
    expect(ds[0]!.fix).toMatch(/^rename it, e\.g\. `\w+`$/);
  });

  it("refuses such state fields and parameters too, each with its place", () => {
    const src = `env T "t"\nstate { __proto__: int = 0\n valueOf: int = 1 }\nquery q(hasOwnProperty: string) -> int "q" { return 1 }\n`;
    const ds = errors(src);
    expect(ds.map((d) => [d.code, d.span.start.line, d.message.split(":")[0]])).toEqual([
      ["ENV2020", 2, "'__proto__' cannot name a state field"],
      ["ENV2020", 3, "'valueOf' cannot name a state field"],
      ["ENV2020", 4, "'hasOwnProperty' cannot name a parameter"],
    ]);
  });

  it("tells `envc check` users where and what to do, exit 1, no stack trace", async () => {
    const dir = path.join(root, "tests", ".tmp-names-check");
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, "t.env"), spec(`record R { constructor: string }`));
      const r = await runEnvc(["check", path.join(dir, "t.env"), "--format", "short"]);
      expect(r.code).toBe(1);
      expect(r.out + r.err).toMatch(/t\.env:2:12: error ENV2020: 'constructor' cannot name a field: .*\(rename it, e\.g\. `constructor_value`\)/);
      expect(r.out + r.err).not.toMatch(/at \w+ \(/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("names the generated code makes safe", () => {
  const outDir = path.join(root, "tests", ".tmp-names");
  let files: { path: string; text: string }[];

  beforeAll(async () => {
    const env = mustCheck(ODD_NAMES, "odd.env");
    files = await emitEnv(env, { runtimeImport: runtimeImportFor(outDir, "odd") });
    mkdirSync(path.join(outDir, "odd"), { recursive: true });
    for (const f of files) writeFileSync(path.join(outDir, "odd", f.path), f.text);
    writeFileSync(path.join(outDir, "odd", "odd.env"), ODD_NAMES);
    writeFileSync(path.join(outDir, "odd", "state.json"), stateJson());
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("emits an env.ts that strict TypeScript accepts", () => {
    const file = path.join(outDir, "odd", "env.ts");
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file.split(path.sep).join("/") || d.file?.fileName === file)
      .map((d) => `${d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : "?"}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(problems).toEqual([]);
  }, 60_000);

  it("renames only the generated side: State_, OddEnv_, CallArgs_, the method of call is call__", () => {
    const text = files.find((f) => f.path === "env.ts")!.text;
    expect(text).toMatch(/export interface State \{/); // the spec's record
    expect(text).toMatch(/export interface State_ \{/); // the state
    expect(text).toMatch(/export class OddEnv_ extends rt\.Environment/);
    expect(text).toMatch(/export interface CallArgs_ \{/);
    for (const m of ["call__", "fork_", "diff_", "toJSON_", "constructor_", "toString_", "snapshot_", "call_", "new"])
      expect(text, m).toMatch(new RegExp(`^  ${m.replace(/\$/g, "\\$")}\\(args`, "m"));
  });

  it("works through the typed class, whose own methods stay intact", async () => {
    const mod = await import(pathToFileURL(path.join(outDir, "odd", "index.ts")).href);
    const Cls = mod.OddEnv_;
    const env = Cls.create(JSON.parse(stateJson()));
    expect(env.call__({ id: "A" })).toEqual({ ok: true, value: 5 });
    expect(env.call("call", { id: "A" })).toEqual({ ok: true, value: 5 });
    expect(env.constructor_()).toEqual({ ok: true, value: 8 });
    expect(env.toJSON_()).toEqual({ ok: true, value: 7 });
    expect(env.call_()).toEqual({ ok: true, value: 9 });
    expect(env.new()).toEqual({ ok: true, value: 1 + 2 + 3 + 4 + 5 + 5 });
    expect(env.snapshot_({ new: 1, class: "c", state: "CA" })).toEqual({ ok: true, value: { new: 1, class: "c", state: "CA" } });
    const fork = env.fork();
    expect(fork.call("set_tally", { k: "__proto__", v: 40 }).ok).toBe(true);
    expect(Object.keys(env.diff(fork).globals)).toEqual(["tally"]);
    expect(JSON.stringify(env.toJSON().tally)).toBe('{"__proto__":1,"constructor":2,"toString":3}');
    expect(`${String(env)}`).toBe("[object Object]"); // toString is still Object's
  });

  it("keeps every map key, __proto__ included: load, read, write, add, delete, save", () => {
    const env = Environment.createFrom(loadDefinition(mustCheck(ODD_NAMES, "odd.env")), JSON.parse(stateJson()));
    expect(env.call("tally_of", { k: "__proto__" })).toEqual({ ok: true, value: 1 });
    expect(env.call("tally_of", { k: "hasOwnProperty" })).toEqual({ ok: true, value: null });
    expect(env.call("has_key", { k: "__proto__" })).toEqual({ ok: true, value: true });
    expect(env.call("has_key", { k: "valueOf" })).toEqual({ ok: true, value: false });
    expect(env.call("tally_keys", {})).toEqual({ ok: true, value: ["__proto__", "constructor", "toString"] });
    expect(env.call("add_tally", { k: "__proto__", v: 8 }).ok).toBe(true);
    expect(env.call("tally_of", { k: "__proto__" })).toEqual({ ok: true, value: 9 });
    // a missing key is a fault, not "[object Object]8" or "function toString() {...}8"
    expect(env.call("add_tally", { k: "valueOf", v: 8 })).toMatchObject({ ok: false, kind: "env_fault", error: "No key 'valueOf' in map" });
    expect(env.call("set_tally", { k: "isPrototypeOf", v: 4 }).ok).toBe(true);
    expect(env.call("drop_tally", { k: "__proto__" }).ok).toBe(true);
    expect(env.call("tally_keys", {})).toEqual({ ok: true, value: ["constructor", "toString", "isPrototypeOf"] });
    const saved = JSON.stringify(env.toJSON());
    expect(saved).toContain('"counts":{"__proto__":3}');
    expect(saved).toContain('"blob":{"__proto__":{"deep":true}}');
    // a bad value under __proto__ is refused with its JSON path, not dropped
    expect(() =>
      Environment.createFrom(env.def, JSON.parse('{"tally": {"__proto__": "x"}}')),
    ).toThrow(/\$\.tally\.__proto__: Invalid input: expected number, received string/);
  });

  it("takes __proto__ as a map key in tool arguments too", () => {
    const env = Environment.createFrom(loadDefinition(mustCheck(ODD_NAMES, "odd.env")), {});
    const r = env.call("merge_tally", JSON.parse('{"more": {"__proto__": 5, "b": 6}}'));
    expect(r).toEqual({ ok: true, value: ["__proto__", "constructor", "b"] });
    expect(env.call("tally_of", { k: "__proto__" })).toEqual({ ok: true, value: 5 });
  });

  it("refuses __proto__ where the schema has no such key: the state's top level, a record", () => {
    const def = loadDefinition(mustCheck(ODD_NAMES, "odd.env"));
    expect(() => Environment.createFrom(def, JSON.parse('{"__proto__": {"n": 1}}'))).toThrow(/\$\.__proto__: unknown state field/);
    expect(() => Environment.createFrom(def, JSON.parse('{"items": {"A": {"id": "A", "prototype": 1, "__proto__": {}}}}'))).toThrow(/\$\.items\.A: Unrecognized key: "__proto__"/);
  });

  it("answers through `envc call` for a tool named constructor, and saves __proto__ keys", async () => {
    const dir = path.join(outDir, "odd");
    const r = await runEnvc(["call", path.join(dir, "odd.env"), "constructor", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).result).toEqual({ ok: true, value: 8 });
    const save = path.join(dir, "after.json");
    const s = await runEnvc(["call", path.join(dir, "odd.env"), "set_tally", '{"k": "__proto__", "v": 6}', "--save", save]);
    expect(s.code).toBe(0);
    expect(s.out).toContain(`~ tally: {"__proto__":1,"constructor":2,"toString":3} -> {"__proto__":6,"constructor":2,"toString":3}`);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(save, "utf8")).toMatch(/"tally": \{\n\s+"__proto__": 6,/);
  });
});
