// `envc mutate`: mutation testing of a spec. Mutants are small source edits at syntax-tree
// spans in the spec's tools and helpers (never its invariants or scenarios: they are the
// oracle): drop a `require`, an assignment, an insert or delete, or an `ensure`; negate a
// comparison or move its boundary; change a constant; swap two arguments of the same type.
// Each mutant that still compiles (with the spec's `scenarios for` files re-checked against
// it) is fuzzed with a small budget and, when fuzzing finds nothing, its scenarios are
// verified. It is killed only by a fuzz finding or by a scenario that fails verify; nothing is
// compared with the original spec's outputs. A mutant that does not compile is stillborn and
// not scored. A mutant that no call can tell apart from the original is marked equivalent,
// with the reason, and not scored either.
import type * as A from "../../grammar/ast.js";
import { parseSpec } from "../../grammar/parser.js";
import { hasErrors, type Diagnostic } from "../diagnostics.js";
import { typeToString, type IEnv } from "../ir.js";
import { loadDefinition, loadScenarios } from "../load.js";
import { attachScenarioFiles, checkSource, type CheckedSpec } from "../pipeline.js";
import { verifyScenarios } from "../verify.js";
import { fuzzEnv, type Finding } from "./engine.js";
import { firstExampleMismatch, type LoadedExample } from "./examples.js";
import { prng } from "./args.js";

export const OPERATORS = [
  "drop-require",
  "negate-comparison",
  "flip-comparison",
  "drop-assignment",
  "drop-insert-delete",
  "change-constant",
  "swap-args",
  "drop-ensure",
] as const;
export type MutationOperator = (typeof OPERATORS)[number];

interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Mutant {
  /** position in the full, deterministic list of the spec's mutants */
  index: number;
  operator: MutationOperator;
  description: string;
  /** `file:line:col` of the mutated text */
  location: string;
  line: number;
  column: number;
  edits: Edit[];
  /** set when the mutant is known to be equivalent without running it */
  equivalent?: string;
}

export type Kill =
  | { by: "fuzz"; property: Finding["property"]; tool: string; message: string; location?: string }
  | { by: "scenario"; scenario: string; message: string }
  | { by: "example"; example: string; message: string };

export interface MutantResult {
  index: number;
  operator: MutationOperator;
  description: string;
  location: string;
  status: "killed" | "survived" | "stillborn" | "equivalent";
  killedBy?: Kill;
  /** why it is stillborn (the first error) or equivalent */
  reason?: string;
  ms: number;
}

export interface OperatorCounts {
  mutants: number;
  killed: number;
  survived: number;
  stillborn: number;
  equivalent: number;
}

export interface MutationReport {
  spec: string;
  env: string;
  /** mutants generated for the chosen operators, before sampling */
  generated: number;
  results: MutantResult[];
  killed: number;
  /** killed + survived: what the score is over */
  scored: number;
  /** killed / scored, 0..1 (1 when nothing is scored) */
  score: number;
  byOperator: Record<string, OperatorCounts>;
  ms: number;
}

export interface MutateOptions {
  /** fuzz seed, and the seed of the sample taken with maxMutants */
  seed: number;
  /** fuzz runs per mutant */
  runs: number;
  maxCalls: number;
  /** run at most this many mutants, a deterministic sample (by seed) of all of them */
  maxMutants?: number;
  operators?: readonly MutationOperator[];
  /** fuzz also from states generated from the schema (default true) */
  generated?: boolean;
  /** called after each mutant */
  onProgress?: (done: number, total: number, result: MutantResult) => void;
}

/** What mutation testing needs of a spec: its text and its `scenarios for` files, checked. */
export interface MutationSubject {
  file: string;
  source: string;
  env: IEnv;
  /** the checked `scenarios for` files of this spec (their syntax trees are re-checked per mutant) */
  scenarioFiles: CheckedSpec[];
  /** initial states to fuzz from (see seedStates); mutants do not change them */
  seedStates: unknown[];
  /** recorded examples (see envc examples): a mutant that replays one differently is killed */
  examples?: LoadedExample[];
}

/** The original spec fails its own oracle: mutation testing would be meaningless. */
export class BaselineError extends Error {
  constructor(message: string, readonly kill: Kill) {
    super(message);
  }
}

// ---- generation ----

const NEGATE: Record<string, string> = { "==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">", in: "not in", "not in": "in" };
const BOUNDARY: Record<string, string> = { "<": "<=", "<=": "<", ">": ">=", ">=": ">" };
const LIST_CHANGES = new Set(["append", "remove", "insert_at", "pop", "clear"]);
/** builtins whose result does not depend on the order of their arguments */
const SYMMETRIC = new Set(["min", "max"]);

const key = (s: A.Span) => `${s.start.offset}:${s.end.offset}`;
const validSpan = (s: A.Span) => s.end.offset > s.start.offset;

/** Every mutant of the spec's tools and helpers, in source order (then operator order). */
export function generateMutants(source: string, file: string, env: IEnv): Mutant[] {
  const { ast, errors } = parseSpec(source, file);
  if (errors.length) return [];
  // the checker's types of the expressions, by span: for same-type swaps and enum constants
  const types = new Map<string, { t: IEnv["tools"][number]["params"][number]["type"]; e: string; value?: unknown }>();
  const collect = (o: unknown) => {
    if (!o || typeof o !== "object") return;
    if (Array.isArray(o)) {
      for (const x of o) collect(x);
      return;
    }
    const r = o as Record<string, unknown>;
    if (typeof r.e === "string" && r.t && r.span) {
      const k = key(r.span as A.Span);
      if (!types.has(k)) types.set(k, { t: r.t as never, e: r.e, value: r.value });
    }
    for (const [k, v] of Object.entries(r)) if (k !== "t" && k !== "span") collect(v);
  };
  collect(env.tools);

  const out: Omit<Mutant, "index">[] = [];
  const text = (s: A.Span) => source.slice(s.start.offset, s.end.offset);
  const short = (s: A.Span) => {
    const t = text(s).replace(/\s+/g, " ").trim();
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  };
  const add = (operator: MutationOperator, at: A.Span, description: string, edits: Edit[], equivalent?: string) =>
    out.push({
      operator, description, location: `${file}:${at.start.line}:${at.start.column}`, line: at.start.line, column: at.start.column, edits,
      ...(equivalent ? { equivalent } : {}),
    });
  const drop = (s: A.Span): Edit[] => [{ start: s.start.offset, end: s.end.offset, text: "" }];

  let where = "";
  const stmts = (list: A.Stmt[]) => list.forEach(stmt);
  function stmt(s: A.Stmt) {
    if (!validSpan(s.span)) return;
    switch (s.kind) {
      case "Let":
        expr(s.value);
        return; // the else message is prose
      case "Assign":
        add("drop-assignment", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span));
        expr(s.target);
        expr(s.value);
        return;
      case "ExprStmt": {
        const e = s.expr;
        if (e.kind === "Insert") add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span));
        else if (e.kind === "Call" && e.callee.kind === "Member" && LIST_CHANGES.has(e.callee.name.name))
          add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span));
        expr(e);
        return;
      }
      case "If":
        expr(s.cond);
        stmts(s.then.statements);
        if (s.otherwise) stmts(s.otherwise.statements);
        return;
      case "For":
        expr(s.iterable);
        stmts(s.body.statements);
        return;
      case "Require":
        add("drop-require", s.span, `drop \`require ${short(s.cond.span)}\` in ${where}`, drop(s.span));
        expr(s.cond);
        return;
      case "Ensure":
        add("drop-ensure", s.span, `drop \`ensure ${short(s.cond.span)}\` in ${where}`, drop(s.span),
          undefined);
        expr(s.cond);
        return;
      case "Return":
        if (s.value) expr(s.value);
        return;
      case "Delete":
        add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span));
        expr(s.target);
        return;
      case "Fail":
      case "Break":
      case "Continue":
        return;
    }
  }

  function constant(e: A.Expr) {
    const at = e.span;
    const was = text(at);
    const change = (to: string) =>
      add("change-constant", at, `\`${was}\` -> \`${to}\` in ${where}`, [{ start: at.start.offset, end: at.end.offset, text: to }]);
    switch (e.kind) {
      case "Int":
        change(String(e.value + 1));
        change(String(e.value - 1));
        return;
      case "Number": {
        const v = e.value + 1;
        change(Number.isInteger(v) ? v.toFixed(1) : String(v));
        return;
      }
      case "Bool":
        change(String(!e.value));
        return;
      case "String": {
        if (e.parts.some((p) => typeof p !== "string")) return;
        const typed = types.get(key(at));
        if (typed?.t.k === "enum" && typed.t.values.length > 1) {
          const vs = typed.t.values;
          const i = vs.indexOf(String(e.parts.join("")));
          if (i >= 0) change(JSON.stringify(vs[(i + 1) % vs.length]));
          return;
        }
        change(e.parts.join("") === "" ? `"x"` : `""`);
        return;
      }
    }
  }

  /** a bare or qualified enum member: another member of the same enum */
  function enumMember(e: A.Expr, name: A.Ident | undefined) {
    const typed = types.get(key(e.span));
    if (!typed || typed.e !== "lit" || typed.t.k !== "enum" || typed.t.values.length < 2 || typeof typed.value !== "string") return;
    const vs = typed.t.values;
    const i = vs.indexOf(typed.value);
    const at = name?.span ?? e.span;
    if (i < 0 || text(at) !== typed.value) return;
    const to = vs[(i + 1) % vs.length]!;
    add("change-constant", at, `\`${typed.value}\` -> \`${to}\` in ${where}`, [{ start: at.start.offset, end: at.end.offset, text: to }]);
  }

  function expr(e: A.Expr | undefined) {
    if (!e || !validSpan(e.span)) return;
    switch (e.kind) {
      case "Int":
      case "Number":
      case "Bool":
        constant(e);
        return;
      case "String":
        constant(e);
        for (const p of e.parts) if (typeof p !== "string") expr(p);
        return;
      case "Null":
      case "Error":
        return;
      case "Name":
        enumMember(e, undefined);
        return;
      case "List":
        e.items.forEach(expr);
        return;
      case "RecordLit":
        for (const f of e.fields) expr(f.value);
        return;
      case "Member":
        if (e.object.kind === "Name" && types.get(key(e.span))?.e === "lit") enumMember(e, e.name);
        else expr(e.object);
        return;
      case "Index":
        expr(e.object);
        expr(e.index);
        return;
      case "Call":
        swaps(e);
        if (e.callee.kind === "Member") expr(e.callee.object);
        for (const a of e.args) expr(a.value);
        return;
      case "Unary":
        expr(e.operand);
        return;
      case "Binary": {
        const op = text(e.opSpan).replace(/\s+/g, " ");
        if (op === e.op && NEGATE[e.op]) {
          const to = NEGATE[e.op]!;
          add("negate-comparison", e.opSpan, `\`${e.op}\` -> \`${to}\` in \`${short(e.span)}\` in ${where}`,
            [{ start: e.opSpan.start.offset, end: e.opSpan.end.offset, text: to }]);
          const flip = BOUNDARY[e.op];
          if (flip)
            add("flip-comparison", e.opSpan, `\`${e.op}\` -> \`${flip}\` in \`${short(e.span)}\` in ${where}`,
              [{ start: e.opSpan.start.offset, end: e.opSpan.end.offset, text: flip }]);
        }
        expr(e.left);
        expr(e.right);
        return;
      }
      case "Ternary":
        expr(e.cond);
        expr(e.then);
        expr(e.otherwise);
        return;
      case "Lambda":
        expr(e.body);
        return;
      case "Quantifier":
        expr(e.collection);
        expr(e.where);
        expr(e.body);
        return;
      case "Insert":
        expr(e.value);
        return;
    }
  }

  function swaps(call: Extract<A.Expr, { kind: "Call" }>) {
    const name = call.callee.kind === "Name" ? call.callee.name : call.callee.kind === "Member" ? call.callee.name.name : "";
    const args = call.args;
    for (let i = 0; i < args.length; i++) {
      for (let j = i + 1; j < args.length; j++) {
        const a = args[i]!.value;
        const b = args[j]!.value;
        if (!validSpan(a.span) || !validSpan(b.span)) continue;
        const ta = types.get(key(a.span));
        const tb = types.get(key(b.span));
        if (!ta || !tb || typeToString(ta.t) !== typeToString(tb.t)) continue;
        if (text(a.span) === text(b.span)) continue;
        const symmetric = call.callee.kind === "Name" && SYMMETRIC.has(name) && args.every((x) => !x.name);
        add("swap-args", a.span, `swap \`${short(a.span)}\` and \`${short(b.span)}\` in \`${name}(...)\` in ${where}`, [
          { start: a.span.start.offset, end: a.span.end.offset, text: text(b.span) },
          { start: b.span.start.offset, end: b.span.end.offset, text: text(a.span) },
        ], symmetric ? `${name}(...) gives the same result whatever the order of its arguments` : undefined);
      }
    }
  }

  for (const d of ast.decls) {
    if (d.kind !== "Tool") continue;
    where = `${d.toolKind === "fn" ? "fn" : d.toolKind} ${d.name.name}`;
    for (const p of d.params) if (p.default) expr(p.default);
    stmts(d.body.statements);
  }
  // source order, then the order they were made in (stable)
  return out
    .map((m, i) => ({ m, i, at: m.edits[0]!.start }))
    .sort((x, y) => x.at - y.at || x.i - y.i)
    .map(({ m }, index) => ({ index, ...m }));
}

export function applyMutant(source: string, m: Pick<Mutant, "edits">): string {
  let out = source;
  for (const e of [...m.edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Up to n of the mutants, chosen by seed, kept in their order. */
export function sampleMutants<T extends { index: number }>(mutants: readonly T[], n: number | undefined, seed: number): T[] {
  if (n === undefined || n >= mutants.length) return [...mutants];
  const rand = prng(seed);
  const idx = mutants.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => mutants[i]!);
}

// ---- running ----

const firstError = (ds: Diagnostic[]) => {
  const d = ds.find((x) => x.severity === "error");
  return d ? `${d.code} at ${d.file}:${d.span.start.line}:${d.span.start.column}: ${d.message.split("\n")[0]}` : "does not compile";
};

/** Compile a (mutated) source with the subject's scenario files; its env, or why not. */
function compile(subject: MutationSubject, source: string): { env: IEnv } | { error: string } {
  const checked = checkSource(source, subject.file);
  if (!checked.env || hasErrors(checked.diagnostics)) return { error: firstError(checked.diagnostics) };
  const files: CheckedSpec[] = subject.scenarioFiles.map((sf) => ({ ...sf, diagnostics: [] }));
  attachScenarioFiles([checked, ...files]);
  const bad = files.find((f) => hasErrors(f.diagnostics));
  if (bad) return { error: `its scenarios do not check against it: ${firstError(bad.diagnostics)}` };
  return { env: checked.env };
}

/** Fuzz, then verify the scenarios; what killed it, if anything. */
function attack(subject: MutationSubject, env: IEnv, options: MutateOptions): Kill | undefined {
  const def = loadDefinition(env);
  const report = fuzzEnv(env, def, subject.seedStates, {
    seed: options.seed, runs: options.runs, maxCalls: options.maxCalls, generated: options.generated ?? true,
  });
  if (report.finding) {
    const f = report.finding;
    return { by: "fuzz", property: f.property, tool: f.tool, message: f.message, ...(f.location ? { location: f.location } : {}) };
  }
  if (env.scenarios.length) {
    const verdicts = verifyScenarios(def, env.scenarios, loadScenarios(env));
    const failed = verdicts.find((v) => !v.kept);
    if (failed) {
      const d = failed.diagnostics.find((x) => x.severity === "error");
      return { by: "scenario", scenario: failed.id, message: d ? `${d.code}: ${d.message.split("\n")[0]}` : "fails verify" };
    }
  }
  const mismatch = subject.examples?.length ? firstExampleMismatch(def, subject.examples) : undefined;
  return mismatch ? { by: "example", example: mismatch.id, message: mismatch.message } : undefined;
}

const DROPPED_ENSURE =
  "an ensure only turns a call into an environment fault; without it a call differs only where the original faults, and fuzzing and the scenarios found no fault in the original";

export function mutateSpec(subject: MutationSubject, options: MutateOptions): MutationReport {
  const started = performance.now();
  // the oracle must accept the original, or every mutant would be "killed"
  const baseline = compile(subject, subject.source);
  if ("error" in baseline) throw new BaselineError(`${subject.file} does not compile: ${baseline.error}`, { by: "scenario", scenario: "", message: baseline.error });
  const base = attack(subject, baseline.env, options);
  if (base)
    throw new BaselineError(
      base.by === "fuzz"
        ? `fuzzing the original spec already fails (${base.property}): ${base.message}; run envc fuzz ${subject.file}`
        : base.by === "scenario"
          ? `scenario ${base.scenario} of the original spec fails verify: ${base.message}; run envc verify ${subject.file}`
          : `example ${base.example} of the original spec no longer replays as recorded: ${base.message}; if the change is intended, re-record with envc examples ${subject.file}`,
      base,
    );

  const chosen = new Set(options.operators ?? OPERATORS);
  const all = generateMutants(subject.source, subject.file, subject.env).filter((m) => chosen.has(m.operator));
  const sample = sampleMutants(all, options.maxMutants, options.seed);
  const results: MutantResult[] = [];
  for (const m of sample) {
    const t0 = performance.now();
    const r: MutantResult = { index: m.index, operator: m.operator, description: m.description, location: m.location, status: "survived", ms: 0 };
    if (m.equivalent) {
      r.status = "equivalent";
      r.reason = m.equivalent;
    } else {
      const compiled = compile(subject, applyMutant(subject.source, m));
      if ("error" in compiled) {
        r.status = "stillborn";
        r.reason = compiled.error;
      } else {
        let kill: Kill | undefined;
        try {
          kill = attack(subject, compiled.env, options);
        } catch (err) {
          // the compiler or runtime failing on a mutant is a bug in envc, not a kill
          r.status = "stillborn";
          r.reason = `envc failed on it: ${(err as Error).message}`;
        }
        if (kill) {
          r.status = "killed";
          r.killedBy = kill;
        } else if (r.status === "survived" && m.operator === "drop-ensure") {
          r.status = "equivalent";
          r.reason = DROPPED_ENSURE;
        }
      }
    }
    r.ms = performance.now() - t0;
    results.push(r);
    options.onProgress?.(results.length, sample.length, r);
  }

  const byOperator: Record<string, OperatorCounts> = {};
  for (const op of OPERATORS) {
    if (!chosen.has(op)) continue;
    const rs = results.filter((r) => r.operator === op);
    byOperator[op] = {
      mutants: rs.length,
      killed: rs.filter((r) => r.status === "killed").length,
      survived: rs.filter((r) => r.status === "survived").length,
      stillborn: rs.filter((r) => r.status === "stillborn").length,
      equivalent: rs.filter((r) => r.status === "equivalent").length,
    };
  }
  const killed = results.filter((r) => r.status === "killed").length;
  const scored = killed + results.filter((r) => r.status === "survived").length;
  return {
    spec: subject.file, env: subject.env.name, generated: all.length, results, killed, scored,
    score: scored ? killed / scored : 1, byOperator, ms: performance.now() - started,
  };
}
