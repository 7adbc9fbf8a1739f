// `envc mutate`: mutation testing of a spec. Mutants are small source edits at syntax-tree
// spans in the spec's tools and helpers (never its invariants or scenarios: they are the
// oracle): drop a `require`, an assignment, an insert or delete, or an `ensure`; negate a
// comparison or move its boundary; change a constant; swap two arguments of the same type.
// Each mutant that still compiles (with the spec's `scenarios for` files re-checked against it)
// is checked against the spec's evidence, cheapest first, until one piece kills it: recorded
// examples (compared with their committed recording), scenarios and dataset scenarios (verified
// as `envc verify` does), then fuzzing (as `envc fuzz`). Nothing else is compared with the
// original's outputs, except where fuzzing the original already finds a problem: its findings
// are then the baseline (compiler/fuzz/baseline.ts). A mutant that does not compile is stillborn and not scored; one that no
// call can tell apart from the original is marked equivalent, with the reason, and not scored.
// Finding the evidence for a spec file is compiler/fuzz/evidence.ts.
import { readFileSync } from "node:fs";
import type * as A from "../../grammar/ast.js";
import { parseSpec } from "../../grammar/parser.js";
import * as runtime from "../../runtime/index.js";
import { Environment, compareEpisode, parseJsonOrdered, runEpisode, type EnvDefinition, type ScenarioDef } from "../../runtime/index.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { checkSpec } from "../check.js";
import { JsEmitter, toolFn } from "../emit-js.js";
import { toolSchemas } from "../emit-definition.js";
import { invariantReads, perRecordJoins } from "../invariant-reads.js";
import { typeToString, type IEnv, type IScenario, type ITool } from "../ir.js";
import { walkIr, type INode } from "../ir-walk.js";
import { loadDefinition, loadScenarios } from "../load.js";
import { attachScenarioFiles, checkSource, type CheckedSpec } from "../pipeline.js";
import { InitialStates, initialFileOf, verifyScenarios } from "../verify.js";
import { fuzzEnv, generatedPool, validSeedStates, type Finding, type FuzzOptions } from "./engine.js";
import { knownFindings, replaysDifferently, type KnownFinding } from "./baseline.js";
import { EXAMPLE_RENDERER, firstExampleMismatch, type LoadedExample } from "./examples.js";
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
  /** the tool or helper (`fn`) it edits */
  tool: string;
  line: number;
  column: number;
  edits: Edit[];
  /** set when the mutant is known to be equivalent without running it */
  equivalent?: string;
}

/**
 * What killed a mutant. `evidence` names it in one line (`example checkout.ok.1`, `scenario
 * withdraw_alice check 2`, `dataset data/scen.jsonl:4 (late_fee) step 1`, `fuzz: env_fault in
 * checkout`); `message` says what differed.
 */
export type Kill =
  | { by: "example"; evidence: string; example: string; file?: string; message: string }
  | { by: "scenario"; evidence: string; scenario: string; file: string; check?: number; step?: number; message: string }
  | { by: "dataset"; evidence: string; scenario: string; file: string; line: number; check?: number; step?: number; message: string }
  | { by: "fuzz"; evidence: string; property: Finding["property"]; tool: string; message: string; location?: string };

export type EvidenceKind = Kill["by"];
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ["example", "scenario", "dataset", "fuzz"];

export interface MutantResult {
  index: number;
  operator: MutationOperator;
  description: string;
  location: string;
  /** the tool or helper it edits */
  tool: string;
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

/** The evidence a run used: what each mutant is checked against. */
export interface EvidenceSummary {
  /** recorded examples replayed (see envc examples), and their file */
  examples: number;
  examplesFile?: string;
  /** scenarios of the spec and of its `scenarios for` files */
  scenarios: number;
  /** the `scenarios for` files */
  scenarioFiles: string[];
  /** JSONL scenario datasets (as `envc scen` writes them) and how many scenarios each gave */
  datasets: { file: string; scenarios: number }[];
  /** fuzz runs per mutant, and the states they start from (sample, scenario and generated) */
  fuzz: { runs: number; maxCalls: number; states: number };
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
  /** killed mutants per kind of evidence that killed them */
  killedBy: Record<EvidenceKind, number>;
  evidence: EvidenceSummary;
  /**
   * what fuzzing the original already finds (see baseline.ts): mutants were judged against it,
   * killed by fuzzing only for another finding or when its counterexample replays differently
   */
  known?: { property: Finding["property"]; tool: string; message: string; location?: string; calls: number }[];
  ms: number;
  /** mutants run per second, the checks of the original included */
  perSecond: number;
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
  /**
   * parse each mutant's text, load it as envc loads any spec (the whole module through
   * TypeScript) and run all its evidence, not only what calls the mutated tool: slower, the same
   * report (tests prove it) except that positions in messages are the mutant text's
   */
  exhaustive?: boolean;
  /** called after each mutant */
  onProgress?: (done: number, total: number, result: MutantResult) => void;
}

/** The scenarios of one JSONL dataset, checked against the spec (see compiler/dataset.ts). */
export interface DatasetEvidence {
  file: string;
  /** each scenario's span is its line in the file */
  scenarios: IScenario[];
}

/** What mutation testing needs of a spec: its text, its evidence, all checked. */
export interface MutationSubject {
  file: string;
  source: string;
  /** the checked spec, its `scenarios for` files' scenarios attached */
  env: IEnv;
  /** the checked `scenarios for` files of this spec (their syntax trees are re-checked per mutant) */
  scenarioFiles: CheckedSpec[];
  /** initial states to fuzz from (see seedStates); mutants do not change them */
  seedStates: unknown[];
  /** recorded examples (see envc examples): a mutant that replays one differently is killed */
  examples?: LoadedExample[];
  /** where the examples came from, to name them */
  examplesFile?: string;
  /** scenario datasets: each scenario is verified on each mutant as `envc verify FILE.jsonl` does */
  datasets?: DatasetEvidence[];
}

/** The original spec fails its own oracle: mutation testing would be meaningless. */
export class BaselineError extends Error {
  constructor(message: string, readonly kill?: Kill) {
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
/** The same edit made on the syntax tree: applies it and returns what undoes it. */
type AstEdit = () => () => void;

/** Every mutant of the spec's tools and helpers, in source order (then operator order). */
export function generateMutants(source: string, file: string, env: IEnv): Mutant[] {
  return prepareMutants(source, file, env).mutants;
}

/** Set `key` of `node` to `value`; the undo puts the old value back. */
function setting<T extends object, K extends keyof T>(node: T, key: K, value: T[K]): AstEdit {
  return () => {
    const was = node[key];
    node[key] = value;
    return () => {
      node[key] = was;
    };
  };
}

/**
 * The mutants, the syntax tree of `source` they were found in, and for each mutant the same
 * edit made on that tree (so that a mutant is checked without parsing its text again).
 */
function prepareMutants(source: string, file: string, env: IEnv): { ast?: A.SpecFile; mutants: Mutant[]; astEdits: AstEdit[] } {
  const { ast, errors } = parseSpec(source, file);
  if (errors.length) return { mutants: [], astEdits: [] };
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
  const edits: AstEdit[] = [];
  const text = (s: A.Span) => source.slice(s.start.offset, s.end.offset);
  const short = (s: A.Span) => {
    const t = text(s).replace(/\s+/g, " ").trim();
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  };
  const add = (operator: MutationOperator, at: A.Span, description: string, textEdits: Edit[], astEdit: AstEdit, equivalent?: string) => {
    out.push({
      operator, description, tool, location: `${file}:${at.start.line}:${at.start.column}`, line: at.start.line, column: at.start.column, edits: textEdits,
      ...(equivalent ? { equivalent } : {}),
    });
    edits.push(astEdit);
  };
  const drop = (s: A.Span): Edit[] => [{ start: s.start.offset, end: s.end.offset, text: "" }];
  const dropFrom = (list: A.Stmt[], s: A.Stmt): AstEdit => () => {
    const i = list.indexOf(s);
    list.splice(i, 1);
    return () => void list.splice(i, 0, s);
  };

  let where = "";
  let tool = "";
  const stmts = (list: A.Stmt[]) => list.forEach((s) => stmt(s, list));
  function stmt(s: A.Stmt, list: A.Stmt[]) {
    if (!validSpan(s.span)) return;
    switch (s.kind) {
      case "Let":
        expr(s.value);
        return; // the else message is prose
      case "Assign":
        add("drop-assignment", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
        expr(s.target);
        expr(s.value);
        return;
      case "ExprStmt": {
        const e = s.expr;
        if (e.kind === "Insert") add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
        else if (e.kind === "Call" && e.callee.kind === "Member" && LIST_CHANGES.has(e.callee.name.name))
          add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
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
        add("drop-require", s.span, `drop \`require ${short(s.cond.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
        expr(s.cond);
        return;
      case "Ensure":
        add("drop-ensure", s.span, `drop \`ensure ${short(s.cond.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
        expr(s.cond);
        return;
      case "Return":
        if (s.value) expr(s.value);
        return;
      case "Delete":
        add("drop-insert-delete", s.span, `drop \`${short(s.span)}\` in ${where}`, drop(s.span), dropFrom(list, s));
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
    const change = (to: string, astEdit: AstEdit) =>
      add("change-constant", at, `\`${was}\` -> \`${to}\` in ${where}`, [{ start: at.start.offset, end: at.end.offset, text: to }], astEdit);
    switch (e.kind) {
      case "Int":
        change(String(e.value + 1), setting(e, "value", e.value + 1));
        change(String(e.value - 1), setting(e, "value", e.value - 1));
        return;
      case "Number": {
        const v = e.value + 1;
        change(Number.isInteger(v) ? v.toFixed(1) : String(v), setting(e, "value", v));
        return;
      }
      case "Bool":
        change(String(!e.value), setting(e, "value", !e.value));
        return;
      case "String": {
        if (e.parts.some((p) => typeof p !== "string")) return;
        const typed = types.get(key(at));
        if (typed?.t.k === "enum" && typed.t.values.length > 1) {
          const vs = typed.t.values;
          const i = vs.indexOf(String(e.parts.join("")));
          if (i >= 0) change(JSON.stringify(vs[(i + 1) % vs.length]), setting(e, "parts", [vs[(i + 1) % vs.length]!]));
          return;
        }
        const empty = e.parts.join("") === "";
        change(empty ? `"x"` : `""`, setting(e, "parts", [empty ? "x" : ""]));
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
    const astEdit = e.kind === "Name" ? setting(e, "name", to) : name ? setting(name, "name", to) : undefined;
    if (!astEdit) return;
    add("change-constant", at, `\`${typed.value}\` -> \`${to}\` in ${where}`, [{ start: at.start.offset, end: at.end.offset, text: to }], astEdit);
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
            [{ start: e.opSpan.start.offset, end: e.opSpan.end.offset, text: to }], setting(e, "op", to as A.BinaryOp));
          const flip = BOUNDARY[e.op];
          if (flip)
            add("flip-comparison", e.opSpan, `\`${e.op}\` -> \`${flip}\` in \`${short(e.span)}\` in ${where}`,
              [{ start: e.opSpan.start.offset, end: e.opSpan.end.offset, text: flip }], setting(e, "op", flip as A.BinaryOp));
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

  const swapping = (x: A.Arg, y: A.Arg): AstEdit => () => {
    const [vx, vy] = [x.value, y.value];
    x.value = vy;
    y.value = vx;
    return () => {
      x.value = vx;
      y.value = vy;
    };
  };

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
        ], swapping(args[i]!, args[j]!), symmetric ? `${name}(...) gives the same result whatever the order of its arguments` : undefined);
      }
    }
  }

  for (const d of ast.decls) {
    if (d.kind !== "Tool") continue;
    where = `${d.toolKind === "fn" ? "fn" : d.toolKind} ${d.name.name}`;
    tool = d.name.name;
    for (const p of d.params) if (p.default) expr(p.default);
    stmts(d.body.statements);
  }
  // source order, then the order they were made in (stable)
  const order = out.map((m, i) => ({ m, i, at: m.edits[0]!.start })).sort((x, y) => x.at - y.at || x.i - y.i);
  return { ast, mutants: order.map(({ m }, index) => ({ index, ...m })), astEdits: order.map(({ i }) => edits[i]!) };
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

/**
 * `compile` of a mutant without parsing it: its edit made on the original's syntax tree, the
 * tree checked, the edit undone. The same checks on the same tree that parsing the mutant's
 * text would give; positions stay the original's.
 */
function compileEdited(subject: MutationSubject, ast: A.SpecFile, edit: AstEdit, source: string): { env: IEnv } | { error: string } {
  const undo = edit();
  try {
    const { env, diagnostics, checker } = checkSpec(ast);
    if (!env || hasErrors(diagnostics)) return { error: firstError(sortDiagnostics(diagnostics)) };
    const checked: CheckedSpec = { file: subject.file, source, env, diagnostics, ...(checker ? { checker } : {}) };
    const files: CheckedSpec[] = subject.scenarioFiles.map((sf) => ({ ...sf, diagnostics: [] }));
    attachScenarioFiles([checked, ...files]);
    const bad = files.find((f) => hasErrors(f.diagnostics));
    if (bad) return { error: `its scenarios do not check against it: ${firstError(bad.diagnostics)}` };
    return { env };
  } finally {
    undo();
  }
}

/** The names of the tools a piece of the IR calls (`e: "call"` nodes), anywhere inside it. */
function calleesIn(node: INode | readonly INode[], out = new Set<string>()): Set<string> {
  walkIr(node, (n) => {
    if ("e" in n && n.e === "call") out.add(n.callee);
  });
  return out;
}

/** The expressions of an invariant's per-record form (parts of its expression, as the checker builds it). */
function perRecordParts(inv: IEnv["invariants"][number]): INode[] {
  const pr = inv.perRecord;
  return pr ? (pr.where ? [pr.where, pr.body] : [pr.body]) : [];
}

/** `from` and everything that reaches it through `edges` (callee -> callers, or caller -> callees). */
function closure(from: Iterable<string>, edges: Map<string, Set<string>>): Set<string> {
  const out = new Set<string>();
  const todo = [...from];
  while (todo.length) {
    const n = todo.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    for (const m of edges.get(n) ?? []) todo.push(m);
  }
  return out;
}

/** A tool's parameters, defaults left out: what its argument schema is built from besides them. */
const paramShape = (t: ITool) =>
  JSON.stringify(t.params.map((p) => [p.name, typeToString(p.type), p.required, p.hasDefault, p.description ?? null]));
const paramDefaults = (t: ITool) => JSON.stringify(t.params.map((p) => (p.hasDefault ? p.default ?? null : null)));

/**
 * An environment of `def` on a copy-on-write fork of `base`'s state, not validated again: for a
 * mutant whose tables, references and invariants are the original's (`base` was validated
 * against those), building it from the JSON again would find the same state valid.
 */
class Rebound extends Environment {
  static of(base: Environment, def: EnvDefinition): Environment {
    const store = (base as unknown as { store: { fork(): unknown } }).store.fork();
    return new Rebound(def, store as never, { checks: base.checks });
  }
}

/** A scenario ready to verify on any mutant: its checks compiled once, its initial state read once. */
interface ScenarioItem {
  kind: "scenario" | "dataset";
  scenario: IScenario;
  def: ScenarioDef;
  /** tools its solution calls ("*": it depends on every tool) */
  tools: Set<string>;
}

interface ExampleItem {
  example: LoadedExample;
  tools: Set<string>;
}

/**
 * The oracle of a spec, prepared once: the original's definition, its scenarios' checks
 * compiled, initial-state files read, which tools each piece of evidence calls, and the states
 * fuzzing starts from. Each mutant then costs a check of its source, its tool bodies lowered to
 * JavaScript (no TypeScript, no formatting), and the evidence that can tell it apart.
 */
class Oracle {
  readonly baseDef: EnvDefinition;
  readonly scenarios: ScenarioItem[] = [];
  readonly examples: ExampleItem[] = [];
  /** states fuzzing starts from: the generated pool (built once, from the original) and the seeds */
  readonly fuzzStates: unknown[];
  /** what fuzzing the original finds (none, unless the spec has a bug fuzzing shows) */
  known: KnownFinding[] = [];
  /** tool -> the tools that call it */
  private callers = new Map<string, Set<string>>();
  /** tools the invariants call, directly or not: a mutant of one changes which states are valid */
  private invariantReach: Set<string>;
  /** tools the scenario checks call (none, as the checker stands; handled anyway) */
  private checkReach: Set<string>;
  /** the original's environments of the scenarios' and the examples' initial states, built once */
  private baseInitials: InitialStates;
  private exampleStarts = new Map<unknown, Environment | undefined>();

  constructor(readonly subject: MutationSubject, readonly env: IEnv, readonly options: MutateOptions) {
    this.baseDef = loadDefinition(env);
    const calls = new Map<string, Set<string>>();
    for (const t of env.tools) {
      const callees = calleesIn(t.body); // parameter defaults are JSON constants: they call nothing
      calls.set(t.name, callees);
      for (const c of callees) {
        if (!this.callers.has(c)) this.callers.set(c, new Set());
        this.callers.get(c)!.add(t.name);
      }
    }
    this.invariantReach = closure(calleesIn(env.invariants.map((i) => i.expr)), calls);

    const own: IScenario[] = env.scenarios;
    const fromDatasets = (subject.datasets ?? []).flatMap((d) => d.scenarios);
    const all = [...own, ...fromDatasets];
    this.checkReach = closure(calleesIn(all.flatMap((s) => s.checks.map((c) => c.expr))), calls);
    const defs = loadScenarios(env, all);
    const files = new Map<string, unknown>();
    all.forEach((sc, i) => {
      const tools = this.checkReach.size ? new Set(["*"]) : new Set(sc.solution.map((s) => s.tool));
      this.scenarios.push({ kind: i < own.length ? "scenario" : "dataset", scenario: resolveInitial(sc, files), def: defs[i]!, tools });
    });
    this.baseInitials = new InitialStates(this.baseDef);
    for (const example of subject.examples ?? []) this.examples.push({ example, tools: new Set(example.calls.map((c) => c.name)) });

    // the pool of generated states depends on the schema, references and invariants, which
    // mutants leave alone: generated once (a third evolved from the valid seed states by the
    // original's actions, as envc fuzz does) and passed with the seed states to every fuzz run
    const seeds = subject.seedStates;
    const pool = options.generated !== false || seeds.length === 0
      ? generatedPool(env, this.baseDef, options.seed, 24, undefined, validSeedStates(this.baseDef, seeds)).map((e) => e.toJSON())
      : [];
    this.fuzzStates = [...pool, ...seeds];
  }

  /**
   * The first example that does not replay as recorded on `def`, as firstExampleMismatch finds
   * it, each initial state built once (from the original, validated) and rebound to `def`.
   */
  private exampleMismatch(def: EnvDefinition, examples: readonly LoadedExample[]): { id: string; message: string } | undefined {
    const rebound = new Map<unknown, Environment>();
    for (const ex of examples) {
      let start = rebound.get(ex.initial);
      if (!start) {
        if (!this.exampleStarts.has(ex.initial)) {
          let env: Environment | undefined;
          try {
            env = Environment.createFrom(this.baseDef, ex.initial);
          } catch {
            env = undefined;
          }
          this.exampleStarts.set(ex.initial, env);
        }
        const base = this.exampleStarts.get(ex.initial);
        // an invalid initial state: the slow path says why (the original's check failed on it)
        if (!base) return firstExampleMismatch(def, [ex]);
        rebound.set(ex.initial, (start = Rebound.of(base, def)));
      }
      const problems = compareEpisode(runEpisode(start, ex.calls, EXAMPLE_RENDERER), start, ex.expected);
      if (problems.length) return { id: ex.id, message: problems[0]!.split("\n").map((l) => l.trim()).join(" ") };
    }
    return undefined;
  }

  /** The tools whose behaviour a mutant of `tool` may change; undefined: every tool's. */
  affected(tool: string): Set<string> | undefined {
    if (this.invariantReach.has(tool) || this.checkReach.has(tool)) return undefined;
    return closure([tool], this.callers);
  }

  /**
   * The runtime definition of a mutant: the original's, with the tool bodies (and invariants
   * that call tools) lowered from the mutant's IR straight to JavaScript. Tables and argument
   * schemas are the original's (a mutated parameter default is set on a copy of its tool's);
   * anything else different and the whole module is emitted as `envc` loads any spec.
   */
  definition(env: IEnv): EnvDefinition {
    const base = this.env;
    const same = env.tools.length === base.tools.length && env.invariants.length === base.invariants.length &&
      env.tools.every((t, i) => t.name === base.tools[i]!.name && t.kind === base.tools[i]!.kind && paramShape(t) === paramShape(base.tools[i]!));
    if (!same) return loadDefinition(env);
    // a mutated parameter default: that tool's argument schema with the new default, as the
    // emitted `z.strictObject({ p: <type>.default(<json>) })` would have it
    const agentTools = env.tools.filter((t) => t.kind !== "fn");
    const baseAgent = base.tools.filter((t) => t.kind !== "fn");
    const args = new Map<number, EnvDefinition["tools"][number]["args"]>();
    for (let i = 0; i < agentTools.length; i++) {
      const t = agentTools[i]!;
      if (paramDefaults(t) === paramDefaults(baseAgent[i]!)) continue;
      const schema = this.baseDef.tools[i]!.args as unknown as {
        shape: Record<string, { unwrap(): { default(v: unknown): unknown } }>;
        extend(s: Record<string, unknown>): EnvDefinition["tools"][number]["args"];
      };
      const changed: Record<string, unknown> = {};
      t.params.forEach((p, j) => {
        const was = baseAgent[i]!.params[j]!;
        if (p.hasDefault && JSON.stringify(p.default) !== JSON.stringify(was.default))
          changed[p.name] = schema.shape[p.name]!.unwrap().default(JSON.parse(JSON.stringify(p.default ?? null)));
      });
      args.set(i, schema.extend(changed));
    }
    const js = new JsEmitter(env, false);
    const fns = env.tools.map((t) => `function ${toolFn(t.name)}($s, $a) {\n${js.toolBody(t)}\n}`);
    const agent = env.tools.filter((t) => t.kind !== "fn");
    const invariants: string[] = [];
    for (const inv of env.invariants) {
      if (!calleesIn(inv.expr).size && !calleesIn(perRecordParts(inv)).size) {
        invariants.push("null");
        continue;
      }
      // an untyped emitter gives plain JavaScript: `($s, r) => ...`
      const per = js.perRecordCheck(inv) ?? "undefined";
      invariants.push(`{ check: ($s) => ${js.invariantCheck(inv)}, per: ${per} }`);
    }
    const code = `"use strict";\n${fns.join("\n")}\nreturn { runs: [${agent.map((t) => toolFn(t.name)).join(", ")}], invariants: [${invariants.join(", ")}] };`;
    // our compiler's output for a checked spec, not user-supplied JavaScript
    const made = new Function("rt", code)(runtime) as {
      runs: EnvDefinition["tools"][number]["run"][];
      invariants: ({ check: EnvDefinition["invariants"][number]["check"]; per?: (s: runtime.Ctx, r: unknown) => boolean } | null)[];
    };
    const def = this.baseDef;
    return {
      ...def,
      tools: def.tools.map((t, i) => ({ ...t, run: made.runs[i]!, location: JSON.parse(js.loc(agent[i]!.span)) as string, ...(args.has(i) ? { args: args.get(i)! } : {}) })),
      ...(args.size ? { toolSchemas: toolSchemas(env) } : {}),
      invariants: def.invariants.map((inv, i) => {
        const m = made.invariants[i];
        if (!m) return inv;
        // a mutated helper may read other state fields: what to re-check after an action follows it
        const ir = env.invariants[i]!;
        return {
          ...inv, reads: invariantReads(env, ir), check: m.check,
          ...(inv.perRecord && m.per ? { perRecord: { table: inv.perRecord.table, check: m.per, joins: perRecordJoins(env, ir) ?? {} } } : {}),
        };
      }),
    };
  }

  /** How each mutant (and the original) is fuzzed: the states are fuzzStates, the known findings known. */
  fuzzOptions(): FuzzOptions {
    return {
      seed: this.options.seed, runs: this.options.runs, maxCalls: this.options.maxCalls, generated: false,
      ...(this.known.length ? { known: new Set(this.known.map((k) => k.key)) } : {}),
    };
  }

  /**
   * The first piece of evidence that tells this definition apart from the spec, cheapest first:
   * recorded examples, then the counterexamples of known findings, then scenarios, then
   * datasets, then fuzzing. With `affected`, evidence
   * that calls none of those tools is skipped: it runs exactly as on the original, which passed.
   */
  attack(env: IEnv, def: EnvDefinition, affected: Set<string> | undefined): Kill | undefined {
    const touches = (tools: Set<string>) => !affected || tools.has("*") || [...tools].some((t) => affected.has(t));
    // with `affected`, the invariants are the original's: start from its validated states
    const rebind = affected !== undefined;
    const examples = this.examples.filter((x) => touches(x.tools)).map((x) => x.example);
    if (examples.length) {
      const m = rebind ? this.exampleMismatch(def, examples) : firstExampleMismatch(def, examples);
      if (m) return { by: "example", evidence: `example ${m.id}`, example: m.id, ...(this.subject.examplesFile ? { file: this.subject.examplesFile } : {}), message: m.message };
    }
    for (const k of this.known) {
      if (!touches(k.tools)) continue;
      const why = replaysDifferently(k, def);
      const f = k.finding;
      if (why) return { by: "fuzz", evidence: `fuzz: the original's finding (${f.property} in ${f.tool}) replays differently`, property: f.property, tool: f.tool, message: why };
    }
    const initials = rebind
      ? ({
          get: (sc: IScenario) => {
            const got = this.baseInitials.get(sc);
            return "env" in got ? { env: Rebound.of(got.env, def) } : got;
          },
        } as unknown as InitialStates)
      : new InitialStates(def);
    for (const kind of ["scenario", "dataset"] as const) {
      const items = this.scenarios.filter((s) => s.kind === kind && touches(s.tools));
      if (!items.length) continue;
      const verdicts = verifyScenarios(def, items.map((s) => s.scenario), items.map((s) => s.def), {}, initials);
      const at = verdicts.findIndex((v) => !v.kept);
      if (at >= 0) return scenarioKill(kind, items[at]!.scenario, verdicts[at]!.diagnostics);
    }
    const report = fuzzEnv(env, def, this.fuzzStates, this.fuzzOptions());
    if (report.finding) {
      const f = report.finding;
      return {
        by: "fuzz", evidence: `fuzz: ${f.property}${f.tool ? ` in ${f.tool}` : ""}`, property: f.property, tool: f.tool, message: f.message,
        ...(f.location ? { location: f.location } : {}),
      };
    }
    return undefined;
  }
}

/** A scenario whose initial state is a file, with the file read (once per file) into its value. */
function resolveInitial(sc: IScenario, files: Map<string, unknown>): IScenario {
  const file = initialFileOf(sc);
  if (!file) return sc;
  if (!files.has(file)) {
    try {
      files.set(file, parseJsonOrdered(readFileSync(file, "utf8")));
    } catch {
      files.set(file, undefined);
    }
  }
  const value = files.get(file);
  // an unreadable file stays a file: verify reports it as it always does
  return value === undefined ? sc : { ...sc, init: { value } };
}

function scenarioKill(kind: "scenario" | "dataset", sc: IScenario, diagnostics: Diagnostic[]): Kill {
  const d = diagnostics.find((x) => x.severity === "error")!;
  const same = (s: A.Span) => s.start.line === d.span.start.line && s.start.column === d.span.start.column;
  const check = sc.checks.findIndex((c) => same(c.span));
  const step = check < 0 ? sc.solution.findIndex((s) => same(s.span)) : -1;
  const part = check >= 0 ? ` check ${check + 1}` : step >= 0 ? ` step ${step + 1}` : d.code === "ENV5007" || d.code === "ENV5006" ? " initial state" : "";
  const message = `${d.code}: ${d.message.split("\n")[0]}`;
  const where = { ...(check >= 0 ? { check: check + 1 } : {}), ...(step >= 0 ? { step: step + 1 } : {}) };
  if (kind === "dataset") {
    const line = sc.span.start.line;
    return { by: "dataset", evidence: `dataset ${sc.file}:${line} (${sc.name})${part}`, scenario: sc.name, file: sc.file, line, ...where, message };
  }
  return { by: "scenario", evidence: `scenario ${sc.name}${part}`, scenario: sc.name, file: sc.file, ...where, message };
}

const DROPPED_ENSURE =
  "an ensure only turns a call into an environment fault; without it a call differs only where the original faults, and fuzzing and the scenarios found no fault in the original";

function baselineMessage(subject: MutationSubject, k: Kill): string {
  switch (k.by) {
    case "fuzz":
      return `fuzzing the original spec already fails (${k.property}): ${k.message}; run envc fuzz ${subject.file}`;
    case "scenario":
      return `scenario ${k.scenario} of the original spec fails verify: ${k.message}; run envc verify ${subject.file}`;
    case "dataset":
      return `${k.file}:${k.line}: scenario ${k.scenario} fails verify on the original spec: ${k.message}; run envc verify ${subject.file} ${k.file}`;
    case "example":
      return `example ${k.example} of the original spec no longer replays as recorded: ${k.message}; if the change is intended, re-record with envc examples ${subject.file}`;
  }
}

/**
 * Mutation testing of one spec against all its evidence. Every mutant (or a sample of
 * `maxMutants`, chosen by `seed`) is compiled and, when it compiles, checked against the
 * evidence cheapest first until one piece kills it: recorded examples, scenarios (the spec's
 * and its `scenarios for` files'), dataset scenarios, then fuzzing. Throws BaselineError when the
 * original fails its own examples or scenarios; findings of fuzzing the original become the
 * baseline instead (baseline.ts), listed in `known`. Deterministic for a given subject and options.
 */
export function mutateSpec(subject: MutationSubject, options: MutateOptions): MutationReport {
  const started = performance.now();
  // the oracle must accept the original, or every mutant would be "killed"
  const baseline = compile(subject, subject.source);
  if ("error" in baseline) throw new BaselineError(`${subject.file} does not compile: ${baseline.error}`);
  const oracle = new Oracle(subject, baseline.env, options);
  let base = oracle.attack(baseline.env, oracle.baseDef, undefined);
  if (base?.by === "fuzz") {
    // a bug of the spec's that fuzzing shows: measure the mutants against it (baseline.ts)
    const found = knownFindings(baseline.env, oracle.baseDef, oracle.fuzzStates, oracle.fuzzOptions());
    if ("problem" in found)
      throw new BaselineError(`${found.problem} (the last: ${found.finding.property} in ${found.finding.tool}: ${found.finding.message}); run envc fuzz ${subject.file}`, base);
    oracle.known = found.known;
    base = undefined;
  }
  if (base) throw new BaselineError(baselineMessage(subject, base), base);

  const chosen = new Set(options.operators ?? OPERATORS);
  const prepared = prepareMutants(subject.source, subject.file, baseline.env);
  const all = prepared.mutants.filter((m) => chosen.has(m.operator));
  const sample = sampleMutants(all, options.maxMutants, options.seed);
  const results: MutantResult[] = [];
  for (const m of sample) {
    const t0 = performance.now();
    const r: MutantResult = { index: m.index, operator: m.operator, description: m.description, location: m.location, tool: m.tool, status: "survived", ms: 0 };
    if (m.equivalent) {
      r.status = "equivalent";
      r.reason = m.equivalent;
    } else {
      const text = applyMutant(subject.source, m);
      const compiled = options.exhaustive || !prepared.ast ? compile(subject, text) : compileEdited(subject, prepared.ast, prepared.astEdits[m.index]!, text);
      if ("error" in compiled) {
        r.status = "stillborn";
        r.reason = compiled.error;
      } else {
        let kill: Kill | undefined;
        try {
          kill = options.exhaustive
            ? oracle.attack(compiled.env, loadDefinition(compiled.env), undefined)
            : oracle.attack(compiled.env, oracle.definition(compiled.env), oracle.affected(m.tool));
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
  const killedBy = { example: 0, scenario: 0, dataset: 0, fuzz: 0 } as Record<EvidenceKind, number>;
  for (const r of results) if (r.killedBy) killedBy[r.killedBy.by]++;
  const killed = results.filter((r) => r.status === "killed").length;
  const scored = killed + results.filter((r) => r.status === "survived").length;
  const ms = performance.now() - started;
  return {
    spec: subject.file, env: subject.env.name, generated: all.length, results, killed, scored,
    score: scored ? killed / scored : 1, byOperator, killedBy,
    evidence: {
      examples: subject.examples?.length ?? 0,
      ...(subject.examples?.length && subject.examplesFile ? { examplesFile: subject.examplesFile } : {}),
      scenarios: baseline.env.scenarios.length,
      scenarioFiles: subject.scenarioFiles.map((f) => f.file),
      datasets: (subject.datasets ?? []).map((d) => ({ file: d.file, scenarios: d.scenarios.length })),
      fuzz: { runs: options.runs, maxCalls: options.maxCalls, states: oracle.fuzzStates.length },
    },
    ...(oracle.known.length
      ? { known: oracle.known.map(({ finding: f }) => ({ property: f.property, tool: f.tool, message: f.message, ...(f.location ? { location: f.location } : {}), calls: f.calls.length })) }
      : {}),
    ms, perSecond: ms > 0 ? (results.length / ms) * 1000 : 0,
  };
}
