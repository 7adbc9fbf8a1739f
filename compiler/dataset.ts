// JSONL scenario datasets: one scenario per line ({env, id, initial, task, persona?, checks:
// [{text, expr}], solution: [{name, arguments}]}), checked against the named environment's spec
// by the same scenario front end as scenarios written in .env files (compiler/check/scenarios.ts).
// Diagnostics point at the dataset line, and inside a check at the column within its expression.
import { parseExpression } from "../grammar/parser.js";
import type * as A from "../grammar/ast.js";
import { parseJsonOrdered, JsonSyntaxError, stringifyOrdered } from "../runtime/index.js";
import { closest, hasErrors, makeDiagnostic, type Code, type Diagnostic } from "./diagnostics.js";
import { jsonToExpr, type Checker, type ScenarioNames } from "./check.js";
import type { CheckedSpec } from "./pipeline.js";
import type { ICheck, IExpr, IScenario, IStep } from "./ir.js";
import { walkIr } from "./ir-walk.js";

export interface DatasetResult {
  /** scenarios that type-checked, with the spec of their environment */
  scenarios: { spec: CheckedSpec; scenario: IScenario }[];
  diagnostics: Diagnostic[];
  lines: number;
}

function pos(line: number, column: number, offset = 0): A.Pos {
  return { offset, line, column };
}
function lineSpan(line: number, column = 1, length = 1): A.Span {
  return { start: pos(line, column), end: pos(line, column + Math.max(length, 1) - 1) };
}

/** Column (1-based) of the value after the n-th `"key":` in a raw line, searching from `from`. */
function keyColumn(raw: string, key: string, n = 0, from = 0): number | undefined {
  const re = new RegExp(`"${key}"\\s*:\\s*`, "g");
  re.lastIndex = from;
  let m: RegExpExecArray | null = null;
  for (let i = 0; i <= n; i++) {
    m = re.exec(raw);
    if (!m) return undefined;
  }
  return m!.index + m![0].length + 1;
}

/** Raw column of the decoded character `offset` of the JSON string starting at column `col`. */
function rawColumn(raw: string, col: number, offset: number): number {
  let i = col; // index just after the opening quote (col is 1-based, so raw[col] follows it)
  for (let k = 0; k < offset && i < raw.length; k++) {
    if (raw[i] === "\\") i += raw[i + 1] === "u" ? 6 : 2;
    else i++;
  }
  return i + 1;
}

function remap(span: A.Span, raw: string, line: number, col: number): A.Span {
  return {
    start: pos(line, rawColumn(raw, col, span.start.offset)),
    end: pos(line, Math.max(rawColumn(raw, col, span.start.offset), rawColumn(raw, col, Math.max(span.end.offset - 1, span.start.offset)))),
  };
}

/** Move every span of a typed expression from expression-relative to dataset positions. */
function remapTree(expr: IExpr, map: (s: A.Span) => A.Span): void {
  walkIr(expr, (n) => {
    n.span = map(n.span);
  });
}

/** One dataset line being checked: where it is, its environment's checker, where problems go. */
interface LineAt {
  raw: string;
  line: number;
  file: string;
  checker: Checker;
  diagnostics: Diagnostic[];
  /** report a problem with the line's shape (ENV5014 unless told) at a column of it */
  bad: (message: string, column?: number, length?: number, code?: Code, fix?: string) => void;
  /** the column of a top-level key's value */
  col: (key: string) => number;
}

/** The line's checks, typed as the checks of a written scenario; undefined when one has an error. */
function lineChecks(at: LineAt, checksRaw: unknown[]): ICheck[] | undefined {
  const { raw, line, file, checker, diagnostics } = at;
  const checksFrom = raw.indexOf('"checks"');
  const checks: ICheck[] = [];
  let ok = true;
  checksRaw.forEach((c, i) => {
    const exprCol = keyColumn(raw, "expr", i, Math.max(checksFrom, 0)) ?? at.col("checks");
    if (!isObject(c) || typeof c.text !== "string" || typeof c.expr !== "string") {
      ok = false;
      return void at.bad(`checks[${i}] must be {"text": "question", "expr": "expression"}`, exprCol);
    }
    const parsed = parseExpression(c.expr);
    if (parsed.errors.length || !parsed.expr) {
      ok = false;
      for (const e of parsed.errors) diagnostics.push(makeDiagnostic(e.code, file, remap(e.span, raw, line, exprCol), `${e.message} (in checks[${i}].expr)`, e.fix ? { fix: e.fix } : {}));
      if (!parsed.errors.length) at.bad(`checks[${i}].expr is empty`, exprCol);
      return;
    }
    const { value: check, diagnostics: found } = checker.collect(() => checker.scenarioCheck(c.text as string, parsed.expr!, parsed.expr!.span, file));
    for (const d of found) {
      diagnostics.push({ ...d, span: remap(d.span, raw, line, exprCol), related: undefined });
      if (d.severity === "error") ok = false;
    }
    remapTree(check.expr, (s) => remap(s, raw, line, exprCol));
    checks.push({ ...check, span: check.expr.span, exprText: c.expr });
  });
  return ok ? checks : undefined;
}

/** The line's solution, each step checked as a written call; undefined when one has an error. */
function lineSolution(at: LineAt, solutionRaw: unknown[]): IStep[] | undefined {
  const { raw, line, file, checker, diagnostics } = at;
  const solution: IStep[] = [];
  const solutionFrom = raw.indexOf('"solution"');
  let ok = true;
  solutionRaw.forEach((s, i) => {
    const nameCol = keyColumn(raw, "name", i, Math.max(solutionFrom, 0)) ?? at.col("solution");
    if (!isObject(s) || typeof s.name !== "string" || (s.arguments !== undefined && !isObject(s.arguments))) {
      ok = false;
      return void at.bad(`solution[${i}] must be {"name": "tool", "arguments": {...}}`, nameCol);
    }
    const args = (s.arguments as Record<string, unknown>) ?? {};
    const call = stepCall(s.name, args, raw, line, nameCol);
    const checked = checker.collect(() => checker.solutionStep(call, file));
    diagnostics.push(...checked.diagnostics);
    if (!checked.value || hasErrors(checked.diagnostics)) ok = false;
    // the arguments as written: the checker's constants are equal, this keeps them as they were read
    else solution.push({ tool: s.name, args, span: call.span });
  });
  return ok ? solution : undefined;
}

/**
 * A solution step of a dataset as the call that writes it (`tool(name: value, ...)`), so that it
 * is checked as a step written in a spec; each argument at its key in the line when it is found.
 */
function stepCall(tool: string, args: Record<string, unknown>, raw: string, line: number, nameCol: number): Extract<A.Expr, { kind: "Call" }> {
  const span = lineSpan(line, nameCol, tool.length + 2);
  return {
    kind: "Call",
    callee: { kind: "Name", name: tool, span },
    args: Object.keys(args).map((k) => {
      const column = keyColumn(raw, k.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&"), 0, nameCol - 1);
      const at = column === undefined ? span : lineSpan(line, column, 1);
      return { name: { name: k, span: at }, value: jsonToExpr(args[k], at) };
    }),
    span,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The scenario names taken in each environment while loading datasets: those of the spec and
 * its `scenarios for` files, then each dataset line's. Pass one to several loadDataset calls to
 * refuse an id that an earlier dataset used too.
 */
export type DatasetNames = Map<CheckedSpec, ScenarioNames>;

/**
 * Read a dataset's text; `specs` are the checked specs its lines may name. Each line goes
 * through the checker's scenario front end (compiler/check/scenarios.ts), as a scenario written
 * in a spec does: an id already taken in its environment is ENV5003, checks are typed, and the
 * solution's calls and their arguments are checked against the tools' parameters.
 */
export function loadDataset(text: string, file: string, specs: CheckedSpec[], names: DatasetNames = new Map()): DatasetResult {
  const diagnostics: Diagnostic[] = [];
  const scenarios: DatasetResult["scenarios"] = [];
  const envs = specs.filter((s) => s.env && s.checker);
  const namesOf = (spec: CheckedSpec): ScenarioNames => {
    let n = names.get(spec);
    if (!n) names.set(spec, (n = spec.checker!.scenarioNames()));
    return n;
  };
  const rawLines = text.split("\n");
  rawLines.forEach((rawLine, index) => {
    const line = index + 1;
    const raw = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (!raw.trim()) return;
    const bad = (message: string, column = 1, length = 1, code: Code = "ENV5014", fix?: string) =>
      diagnostics.push(makeDiagnostic(code, file, lineSpan(line, column, length), message, fix ? { fix } : {}));
    let value: unknown;
    try {
      value = parseJsonOrdered(raw);
    } catch (err) {
      const column = err instanceof JsonSyntaxError ? err.column : 1;
      bad(`Line ${line} is not valid JSON: ${(err as Error).message}`, column);
      return;
    }
    if (!isObject(value)) return void bad(`Line ${line} is not a JSON object`);
    const col = (key: string) => keyColumn(raw, key) ?? 1;
    const str = (key: string, optional = false): string | undefined => {
      const v = value[key];
      if (v === undefined && optional) return undefined;
      if (typeof v !== "string") {
        bad(v === undefined ? `Line ${line} has no "${key}"` : `"${key}" must be a string, got ${stringifyOrdered(v).slice(0, 40)}`, v === undefined ? 1 : col(key));
        return undefined;
      }
      return v;
    };
    const envName = value.env === undefined && envs.length === 1 ? envs[0]!.env!.name : str("env");
    const id = str("id");
    const task = str("task");
    const persona = str("persona", true);
    if (envName === undefined || id === undefined || task === undefined) return;
    const spec = envs.find((s) => s.env!.name === envName);
    if (!spec) {
      const guess = closest(envName, envs.map((s) => s.env!.name));
      bad(`No environment named '${envName}' among the inputs`, col("env"), envName.length + 2, "ENV5013", guess ? `did you mean \`${guess}\`?` : "pass its spec too, e.g. `envc verify specs/bank/ data.jsonl`");
      return;
    }
    const initial = value.initial;
    if (typeof initial !== "string" && !isObject(initial))
      return void bad(`"initial" must be a state object or the path of a JSON file, got ${initial === undefined ? "nothing" : stringifyOrdered(initial).slice(0, 40)}`, initial === undefined ? 1 : col("initial"));
    // a scenario is judged by checks, outcomes or both
    const checksRaw = value.checks ?? (Array.isArray(value.outcomes) && value.outcomes.length ? [] : undefined);
    if (!Array.isArray(checksRaw) || (checksRaw.length === 0 && !(Array.isArray(value.outcomes) && value.outcomes.length)))
      return void bad(`"checks" must be a non-empty list of {"text": ..., "expr": ...} (or give "outcomes")`, checksRaw === undefined ? 1 : col("checks"));
    const solutionRaw = value.solution;
    // empty only where nothing is the right thing to do: then outcomes judge that nothing changed
    if (!Array.isArray(solutionRaw) || (solutionRaw.length === 0 && !(Array.isArray(value.outcomes) && value.outcomes.length)))
      return void bad(`"solution" must be a non-empty list of {"name": ..., "arguments": {...}} (empty only with "outcomes")`, solutionRaw === undefined ? 1 : col("solution"));

    const checker = spec.checker!;
    const idName = { name: id, span: lineSpan(line, col("id"), id.length + 2) };
    const claimed = checker.collect(() => checker.claimScenarioName(idName, file, namesOf(spec)));
    diagnostics.push(...claimed.diagnostics);
    if (!claimed.value) return;

    const at: LineAt = { raw, line, file, checker, diagnostics, bad, col };
    const checks = lineChecks(at, checksRaw);
    const solution = lineSolution(at, solutionRaw);
    const extras = lineExtras(at, value, id, checks);
    if (!checks || !solution || !extras) return;
    const initCol = col("initial");
    scenarios.push({
      spec,
      scenario: {
        name: id,
        file,
        init: typeof initial === "string" ? { file: initial } : { value: initial },
        initSpan: lineSpan(line, initCol, typeof initial === "string" ? initial.length + 2 : 1),
        task,
        ...(persona !== undefined ? { persona } : {}),
        checks,
        solution,
        ...extras,
        span: lineSpan(line, col("id"), id.length + 2),
      },
    });
  });
  return { scenarios, diagnostics, lines: rawLines.filter((l) => l.trim()).length };
}

/**
 * A line's optional `reply` (a string), `reward` ("all" or "fraction") and `outcomes`
 * ([{"text": ..., "fields": [state field, ...]}], fields optional: the whole state), or
 * undefined after reporting what is wrong with them. Past the JSON shapes, the checks are the
 * ones `.env` scenarios get (the spec's checker), and ENV5020 when an answer check has no reply.
 */
function lineExtras(at: LineAt, value: Record<string, unknown>, id: string, checks: readonly ICheck[] | undefined): Pick<IScenario, "reply" | "outcomes" | "reward"> | undefined {
  const { line, file, checker, diagnostics, bad, col } = at;
  let ok = true;
  const through = <R>(fn: () => R): R => {
    const r = checker.collect(fn);
    diagnostics.push(...r.diagnostics);
    if (hasErrors(r.diagnostics)) ok = false;
    return r.value;
  };
  const out: Pick<IScenario, "reply" | "outcomes" | "reward"> = {};
  if (value.reply !== undefined) {
    if (typeof value.reply === "string") out.reply = value.reply;
    else (ok = false), bad(`"reply" must be a string`, col("reply"));
  }
  if (value.reward !== undefined) {
    const reward = through(() => checker.rewardMode(value.reward, lineSpan(line, col("reward"), 8), file));
    if (reward) out.reward = reward;
  }
  if (value.outcomes !== undefined) {
    const raw = value.outcomes;
    if (!Array.isArray(raw)) {
      bad(`"outcomes" must be a list of {"text": ..., "fields": [...]}`, col("outcomes"));
      return undefined;
    }
    const span = lineSpan(line, col("outcomes"), 10);
    const outcomes: NonNullable<IScenario["outcomes"]> = [];
    raw.forEach((o, i) => {
      if (!isObject(o) || typeof o.text !== "string" || (o.fields !== undefined && (!Array.isArray(o.fields) || !o.fields.every((f: unknown) => typeof f === "string")))) {
        ok = false;
        return void bad(`outcomes[${i}] must be {"text": "question"} or {"text": "question", "fields": ["table", ...]}`, col("outcomes"));
      }
      // the field names as the list an `outcome "...": [a, b]` item holds
      const fields = o.fields === undefined ? undefined : through(() => checker.outcomeFields({ kind: "List", items: (o.fields as string[]).map((name) => ({ kind: "Name", name, span })), span }, file));
      outcomes.push({ text: o.text, ...(fields ? { fields } : {}), span });
    });
    if (outcomes.length) out.outcomes = outcomes;
  }
  if (checks) through(() => checker.needsReply(checks, out.reply !== undefined, lineSpan(line, col("id"), id.length + 2), id, file));
  return ok ? out : undefined;
}
