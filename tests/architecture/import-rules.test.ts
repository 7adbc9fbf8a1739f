// The structure stays true: the sources' imports (read with TypeScript's parser, every static,
// re-export, dynamic and type import) obey the rules in tests/architecture/import-rules.ts,
// which docs/architecture.md explains: the runtime never imports the compiler, emitters see
// only the IR, CLI verbs never import each other, llm/ knows no pipeline and is used through
// its index, no cycles. A failure lists every offending file, line and import with the rule.
// The rules are also run on small made-up graphs, so that a rule that stopped seeing its
// violations would fail here too.
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { importGraph, importsOfText, type ImportEdge } from "./import-graph.js";
import { ALLOWED_CYCLES, FOLDERS, checkImportRules, importCycles, verbModules } from "./import-rules.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const { files, edges } = importGraph(root, FOLDERS);

/** The rules' verdict on made-up files (path -> text); nothing is read from disk. */
function verdict(sources: Record<string, string>): string[] {
  const fake: ImportEdge[] = Object.entries(sources).flatMap(([f, text]) => importsOfText("/nowhere", f, text));
  return checkImportRules(Object.keys(sources), fake).map((v) => v.message);
}

describe("the sources' imports", () => {
  it("are read: every folder has files, and the graph holds the imports we know of", () => {
    for (const f of FOLDERS) expect(files.some((file) => file.startsWith(`${f}/`)), `${f}/ has no .ts files`).toBe(true);
    const has = (from: string, target: string, kind?: ImportEdge["kind"]) =>
      edges.some((e) => e.from === from && e.target === target && (!kind || e.kind === kind));
    expect(has("cli/verbs.ts", "cli/compile.ts", "dynamic")).toBe(true);
    expect(has("compiler/project.ts", "compiler/emit.ts", "dynamic")).toBe(true);
    expect(has("compiler/index.ts", "compiler/pipeline.ts", "export")).toBe(true);
    expect(has("agent/rollout.ts", "llm/index.ts")).toBe(true);
    // specifiers inside strings and comments are not imports: the emitter's templates, the grammar's comments
    expect(edges.some((e) => e.from === "compiler/emit.ts" && e.specifier === "./env.js")).toBe(false);
    expect(edges.some((e) => e.specifier === "file.json")).toBe(false);
    expect(verbModules(edges).size).toBeGreaterThanOrEqual(10);
  });

  it("obey the import rules", () => {
    const violations = checkImportRules(files, edges, ALLOWED_CYCLES);
    expect(violations.map((v) => v.message).join("\n"), "import rules broken (see docs/architecture.md):").toBe("");
  });
});

describe("the rules see violations", () => {
  it("the runtime importing the compiler, type-only or not", () => {
    expect(verdict({
      "runtime/env.ts": `import { checkSource } from "../compiler/pipeline.js";\nimport type { IEnv } from "../compiler/ir.js";`,
      "compiler/pipeline.ts": "", "compiler/ir.ts": "",
    })).toEqual([
      "runtime/env.ts:1 imports ../compiler/pipeline.js (compiler/pipeline.ts): runtime/ may import nothing outside runtime/ and packages (what generated code imports: it runs without the compiler)",
      "runtime/env.ts:2 imports ../compiler/ir.js (compiler/ir.ts): runtime/ may import nothing outside runtime/ and packages (what generated code imports: it runs without the compiler)",
    ]);
  });

  it("an emitter reaching the checker or the syntax tree, directly or through a helper; IR helpers and Span as a type are fine", () => {
    const v = verdict({
      "compiler/emit-x.ts": [
        `import type { IEnv } from "./ir.js";`,
        `import type { Span } from "../grammar/ast.js";`,
        `import { type Expr } from "../grammar/ast.js";`,
        `export { check } from "./check.js";`,
        `const m = await import("./check/expressions.js");`,
        `import { invariantReads } from "./invariant-reads.js";`,
        `import { lowerAgain } from "./lower.js";`,
        `import { JsEmitter } from "./emit-y.js";`,
      ].join("\n"),
      "compiler/emit-y.ts": `import { checkSource } from "./pipeline.js";`,
      "compiler/ir.ts": `import type { Span } from "../grammar/ast.js";`,
      "compiler/invariant-reads.ts": `import { stripOptional } from "./ir.js";\nimport { parseBuiltinId } from "./builtins.js";`,
      "compiler/builtins.ts": `import { T } from "./types.js";`, "compiler/types.ts": "",
      "compiler/lower.ts": `import { checkSource } from "./pipeline.js";`,
      "compiler/pipeline.ts": `import { parseSpec } from "../grammar/parser.js";\nimport { checkSpec } from "./check.js";`,
      "grammar/ast.ts": "", "grammar/parser.ts": "", "compiler/check.ts": "", "compiler/check/expressions.ts": "",
    });
    const rule = "an emitter sees only the IR: it must not reach the parser, the syntax tree (but the Span/Pos types) or the checker";
    expect(v).toEqual([
      `compiler/emit-x.ts:3 imports ../grammar/ast.js (grammar/ast.ts): ${rule}`,
      `compiler/emit-x.ts:4 imports ./check.js (compiler/check.ts): ${rule}`,
      `compiler/emit-x.ts:5 imports ./check/expressions.js (compiler/check/expressions.ts): ${rule}`,
      `compiler/emit-x.ts:7 imports ./lower.js (compiler/lower.ts): it reaches grammar/parser.ts (compiler/lower.ts -> compiler/pipeline.ts -> grammar/parser.ts); ${rule}`,
      `compiler/emit-y.ts:1 imports ./pipeline.js (compiler/pipeline.ts): it reaches grammar/parser.ts (compiler/pipeline.ts -> grammar/parser.ts); ${rule}`,
    ]);
  });

  it("a verb importing a verb, a helper importing a verb, verbs.ts importing one statically", () => {
    const v = verdict({
      "cli/verbs.ts": `import type { Io } from "./io.js";\nconst a = () => import("./rollout.js");\nconst b = () => [import("./serve.js"), import("./fuzz.js")];\nimport { x } from "./fuzz.js";`,
      "cli/rollout.ts": `import { loadOrExit } from "./serve.js";\nimport { int } from "./common.js";`,
      "cli/serve.ts": "", "cli/fuzz.ts": "", "cli/io.ts": "",
      "cli/common.ts": `export { registerFuzz } from "./fuzz.js";`,
    });
    expect(v).toEqual([
      "cli/common.ts:1 imports ./fuzz.js (cli/fuzz.ts): only cli/verbs.ts loads verb modules (a shared helper that imports a verb shares the whole verb)",
      "cli/rollout.ts:1 imports ./serve.js (cli/serve.ts): a verb module must not import another verb module: move what they share to cli/common.ts (or cli/common-llm.ts, cli/io.ts)",
      "cli/verbs.ts:4 imports ./fuzz.js (cli/fuzz.ts): cli/verbs.ts loads a verb module with import() when the verb runs, never statically (envc --help loads none)",
    ]);
  });

  it("llm/ importing a pipeline, agent/ reaching into synth/ or past llm/index.ts, a computed import", () => {
    const v = verdict({
      "llm/cache.ts": `import { writeAtomic } from "../compiler/project.js";\nimport { writeAtomic as w } from "../util/output-files.js";`,
      "agent/rollout.ts": `import { runItems } from "../synth/run.js";\nimport type { LlmClient } from "../llm/client.js";\nimport { Progress } from "../llm/index.js";`,
      "server/load.ts": "const m = await import(`../compiler/${name}.js`);",
      "compiler/project.ts": "", "util/output-files.ts": "", "synth/run.ts": "", "llm/client.ts": "", "llm/index.ts": "",
    });
    expect(v).toEqual([
      "agent/rollout.ts:1 imports ../synth/run.js (synth/run.ts): agent/ may import only agent/, llm/, server/, runtime/, util/ and packages (rollouts run server sessions with the LLM layer; synth/ is a sibling, not a base)",
      "agent/rollout.ts:2 imports ../llm/client.js (llm/client.ts): outside llm/, import the LLM layer from llm/index.ts, its API",
      "llm/cache.ts:1 imports ../compiler/project.js (compiler/project.ts): llm/ may import only llm/, util/ and packages (the LLM layer serves every pipeline and knows none of them)",
      "server/load.ts:1 imports `../compiler/${name}.js`: a dynamic import must name its module literally, so that these rules can see it",
    ]);
  });

  it("cycles of imports that stay in the JavaScript, each named once as a path; type-only ones are erased", () => {
    const sources = {
      "compiler/a.ts": `import { b } from "./b.js";`,
      "compiler/b.ts": `import { type C, c } from "./c.js";`,
      "compiler/c.ts": `export { a } from "./a.js";`,
      "compiler/d.ts": `import { a } from "./a.js";\nimport "./d.js";`,
      "compiler/e.ts": `import type { F } from "./f.js";`,
      "compiler/f.ts": `import { type E } from "./e.js";`,
    };
    expect(verdict(sources)).toEqual([
      "import cycle: compiler/a.ts -> compiler/b.ts -> compiler/c.ts -> compiler/a.ts",
      "import cycle: compiler/d.ts -> compiler/d.ts",
    ]);
    const fake = Object.entries(sources).flatMap(([f, t]) => importsOfText("/nowhere", f, t));
    expect(importCycles(["compiler/a.ts", "compiler/b.ts"], fake)).toEqual([]); // c.ts left out: no cycle
    expect(checkImportRules(Object.keys(sources), fake, [{ files: ["compiler/c.ts", "compiler/a.ts", "compiler/b.ts"] }]).map((v) => v.message))
      .toEqual(["import cycle: compiler/d.ts -> compiler/d.ts"]);
  });
});
