// envc's import rules as data, and the check of an import graph against them: which top-level
// folder may import which (runtime/ nothing of envc, llm/ only util/, ...), emitters that see
// only the IR, CLI verbs that share helpers only through cli/common*.ts and cli/io.ts, llm/
// used only through its index, no cycles of imports that stay in the JavaScript. docs/architecture.md states the same rules for
// people; tests/architecture/import-rules.test.ts runs this on the sources.
// Pure: takes the graph (tests/architecture/import-graph.ts), returns every violation with a
// message naming the file, its line, the import and the rule, so that one run lists them all.
import type { ImportEdge } from "./import-graph.js";

export const FOLDERS = ["util", "grammar", "runtime", "generated", "compiler", "llm", "server", "synth", "agent", "cli"] as const;
export type Folder = (typeof FOLDERS)[number];

/** What each top-level folder may import besides itself and npm packages, and why. */
export const LAYERS: Record<Folder, { mayImport: readonly Folder[]; why: string }> = {
  util: { mayImport: [], why: "leaf helpers that every layer may use (writing files)" },
  grammar: { mayImport: [], why: "syntax only: tokens, the parser and the syntax tree" },
  runtime: { mayImport: [], why: "what generated code imports: it runs without the compiler" },
  generated: { mayImport: ["runtime"], why: "compiled specs need only the runtime" },
  compiler: { mayImport: ["grammar", "runtime", "util"], why: "the compiler knows nothing of serving, LLMs or the command line" },
  llm: { mayImport: ["util"], why: "the LLM layer serves every pipeline and knows none of them" },
  server: { mayImport: ["compiler", "runtime", "util"], why: "serving compiled environments needs no LLM and no command line" },
  synth: { mayImport: ["llm", "compiler", "runtime", "util"], why: "the LLM pipelines that write specs and scenarios; rollouts are a sibling, not a base" },
  agent: { mayImport: ["llm", "server", "runtime", "util"], why: "rollouts run server sessions with the LLM layer; synth/ is a sibling, not a base" },
  cli: { mayImport: ["agent", "synth", "server", "llm", "compiler", "runtime", "util"], why: "the binary uses the layers (the parser through compiler/); nothing imports it" },
};

/**
 * What an emitter (compiler/emit*.ts) must not reach, directly or through the modules it
 * imports: the parser and the syntax tree (grammar/) and the checker. IR helpers (the IR, the
 * builtin table, analyses of the IR) and the runtime the emitted code calls are fine.
 */
export const EMITTERS_MUST_NOT_REACH = [/^grammar\//, /^compiler\/check(\.ts$|\/)/];
/** Source positions are declared with the syntax tree and carried by the IR: these types from grammar/ast.ts do not count as reaching it. */
export const SPAN_TYPES = ["Span", "Pos"];
const spanTypesOnly = (e: ImportEdge) => e.target === "grammar/ast.ts" && e.typeOnly && e.names.length > 0 && e.names.every((n) => SPAN_TYPES.includes(n));
const EMITTER_RULE = `an emitter sees only the IR: it must not reach the parser, the syntax tree (but the ${SPAN_TYPES.join("/")} types) or the checker`;
export const isEmitter = (file: string) => /^compiler\/emit[^/]*\.ts$/.test(file);

export interface Violation {
  file: string;
  line: number;
  /** the import as written, or the cycle */
  import: string;
  rule: string;
  message: string;
}

export const folderOf = (file: string): string => file.split("/")[0]!;
const isFolder = (f: string): f is Folder => (FOLDERS as readonly string[]).includes(f);

/**
 * The CLI's verb modules: the files cli/verbs.ts loads with `import()` (when the verb runs).
 * A static import of a verb from verbs.ts is a violation of its own (checkImportRules).
 */
export function verbModules(edges: readonly ImportEdge[]): Set<string> {
  return new Set(edges.filter((e) => e.from === "cli/verbs.ts" && e.kind === "dynamic" && e.target?.startsWith("cli/")).map((e) => e.target!));
}

/**
 * Cycles known and left to their owners, each as its files (any order) and why. A cycle not
 * listed fails the test; fix one listed and its entry can go.
 */
export const ALLOWED_CYCLES: { files: string[]; why: string }[] = [
  {
    files: ["compiler/fuzz/deepen.ts", "compiler/fuzz/examples.ts"],
    why: "examples.ts runs deepen(), deepen.ts uses examples.ts's edgeKey and MAX_INLINE_STATE; both are being reworked by the fuzzing work, which can move those two to a module of their own",
  },
];

function violation(e: ImportEdge, rule: string, why: string): Violation {
  const shown = e.target ? `${e.specifier} (${e.target})` : e.specifier;
  return { file: e.from, line: e.line, import: e.specifier, rule, message: `${e.from}:${e.line} imports ${shown}: ${why}` };
}

/** Every import that breaks a rule, in file and line order; cycles (but the allowed ones) last. */
export function checkImportRules(files: readonly string[], edges: readonly ImportEdge[], allowedCycles: readonly { files: string[] }[] = []): Violation[] {
  const out: Violation[] = [];
  const verbs = verbModules(edges);
  const byFile = new Map<string, ImportEdge[]>();
  for (const e of edges) byFile.set(e.from, [...(byFile.get(e.from) ?? []), e]);
  const verbsTs = edges.filter((e) => e.from === "cli/verbs.ts" && e.kind !== "dynamic" && !e.typeOnly && e.target?.startsWith("cli/") && e.target !== "cli/io.ts");
  for (const e of edges) {
    const from = folderOf(e.from);
    if (e.computed) {
      out.push(violation(e, "literal-imports", "a dynamic import must name its module literally, so that these rules can see it"));
      continue;
    }
    if (!e.target) continue; // a package or node: module

    // layers: what each top-level folder may import
    const to = folderOf(e.target);
    if (isFolder(from) && to !== from) {
      if (!isFolder(to)) out.push(violation(e, "layers", `${to}/ is not part of the sources (${FOLDERS.join(", ")}); sources never import tests, bench or scripts`));
      else if (!LAYERS[from].mayImport.includes(to)) {
        const may = LAYERS[from].mayImport.length ? `only ${[from, ...LAYERS[from].mayImport].map((f) => `${f}/`).join(", ")}` : `nothing outside ${from}/`;
        out.push(violation(e, "layers", `${from}/ may import ${may} and packages (${LAYERS[from].why})`));
      }
    }

    // emitters see only the IR (another emitter is checked on its own)
    if (isEmitter(e.from) && !isEmitter(e.target) && !spanTypesOnly(e)) {
      if (EMITTERS_MUST_NOT_REACH.some((r) => r.test(e.target!))) out.push(violation(e, "emitters", EMITTER_RULE));
      else {
        const via = forbiddenPath(e.target, byFile);
        if (via) out.push(violation(e, "emitters", `it reaches ${via.at(-1)} (${[e.target, ...via].join(" -> ")}); ${EMITTER_RULE}`));
      }
    }

    // CLI verbs share helpers only through the non-verb modules (cli/common.ts, cli/common-llm.ts, cli/io.ts)
    if (verbs.has(e.target) && e.from !== "cli/verbs.ts") {
      const why = verbs.has(e.from)
        ? "a verb module must not import another verb module: move what they share to cli/common.ts (or cli/common-llm.ts, cli/io.ts)"
        : "only cli/verbs.ts loads verb modules (a shared helper that imports a verb shares the whole verb)";
      out.push(violation(e, "cli-verbs", why));
    }
    if (verbsTs.includes(e))
      out.push(violation(e, "cli-verbs", "cli/verbs.ts loads a verb module with import() when the verb runs, never statically (envc --help loads none)"));

    // the LLM layer has one door
    if (to === "llm" && from !== "llm" && e.target !== "llm/index.ts")
      out.push(violation(e, "llm-api", "outside llm/, import the LLM layer from llm/index.ts, its API"));
  }
  out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const allowed = new Set(allowedCycles.map((c) => [...c.files].sort().join(" ")));
  for (const cycle of importCycles(files, edges))
    if (!allowed.has([...cycle].sort().join(" "))) out.push({ file: cycle[0]!, line: 0, import: cycle.join(" -> "), rule: "no-cycles", message: `import cycle: ${[...cycle, cycle[0]].join(" -> ")}` });
  return out;
}

/**
 * The shortest chain of imports from `start` to a module an emitter must not reach (the
 * modules after `start`, the last one forbidden), or undefined. Other emitters are not
 * followed: each is checked on its own, so a violation is reported once, where it is.
 */
function forbiddenPath(start: string, byFile: Map<string, ImportEdge[]>): string[] | undefined {
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set(queue);
  while (queue.length) {
    const n = queue.shift()!;
    for (const e of byFile.get(n) ?? []) {
      if (!e.target || spanTypesOnly(e) || seen.has(e.target) || isEmitter(e.target)) continue;
      prev.set(e.target, n);
      if (EMITTERS_MUST_NOT_REACH.some((r) => r.test(e.target!))) {
        const chain = [e.target];
        while (prev.get(chain[0]!) !== start) chain.unshift(prev.get(chain[0]!)!);
        return chain;
      }
      seen.add(e.target);
      queue.push(e.target);
    }
  }
  return undefined;
}

/**
 * The import cycles among `files`: each strongly connected component of more than one file
 * (or a file importing itself), as one path through it. Only imports that stay in the
 * JavaScript count: they decide the order modules are evaluated in, and in a cycle one module
 * runs before the other's exports exist. A cycle through a type-only import is erased by tsc.
 */
export function importCycles(files: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (!e.typeOnly && e.target && next.has(e.target) && next.has(e.from)) next.get(e.from)!.push(e.target);
  // Tarjan's algorithm, iterative so that a deep chain cannot overflow the stack
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  for (const start of files) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = next.get(top.node)!;
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== top.node);
        if (component.length > 1 || next.get(top.node)!.includes(top.node)) cycles.push(pathThrough(component, next));
      }
    }
  }
  return cycles;
}

/** A cycle through a strongly connected component, from its first file in sorted order back to it. */
function pathThrough(component: string[], next: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  // breadth-first from start until an edge leads back to it: the shortest cycle through start
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const n = queue.shift()!;
    for (const w of next.get(n)!) {
      if (w === start) {
        const path = [n];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return path;
      }
      if (members.has(w) && !seen.has(w)) {
        seen.add(w);
        prev.set(w, n);
        queue.push(w);
      }
    }
  }
  return [start];
}
