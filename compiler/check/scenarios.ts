// The scenario front end: every way of writing a scenario (a `scenario` block in a spec or a
// `scenarios for` file, a line of a JSONL dataset, compiler/dataset.ts) goes through these
// checks and lowers to the same IR: a name unique in its environment (ENV5003), checks typed as
// bools over the final state with `initial` for the start, and a solution of calls of queries
// and actions whose arguments are constants of the parameters' types. A dataset's JSON
// arguments are lowered to the same syntax as a written call (jsonToExpr) and checked as one.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import type { ICheck, IExpr, IParam, IScenario, IStep } from "../ir.js";
import type { Cx } from "./context.js";
import type { Sink } from "./sink.js";

/** Where each scenario name of an environment was first declared. */
export type ScenarioNames = Map<string, { file: string; span: A.Span }>;

export class ScenarioChecker {
  /** the names of the spec's scenarios and of its `scenarios for` files */
  readonly names: ScenarioNames = new Map();

  constructor(private readonly cx: Cx, private readonly sink: Sink) {}

  /** Check the scenarios among `decls`, written in `file` (this spec or a `scenarios for` file). */
  checkScenarios(decls: A.Decl[], file: string): IScenario[] {
    return this.sink.inFile(file, () => {
      const out: IScenario[] = [];
      // other declarations in a `scenarios for` file are reported by the pipeline (ENV5017)
      for (const d of decls) if (d.kind === "Scenario") out.push(this.scenario(d, file));
      return out;
    });
  }

  /** ENV5003 when `name` is taken in `names`; else it is taken now, by `file`. */
  claimName(name: A.Ident, file: string, names: ScenarioNames = this.names): boolean {
    const first = names.get(name.name);
    if (first) {
      this.sink.report("ENV5003", name.span, `Scenario '${name.name}' is declared twice`, {
        related: [{ file: first.file, span: first.span, message: "first declared here" }],
        fix: "give each scenario its own name",
      });
      return false;
    }
    names.set(name.name, { file, span: name.span });
    return true;
  }

  private scenario(d: A.ScenarioDecl, file: string): IScenario {
    const name = d.name.name;
    this.claimName(d.name, file);
    const missing = [
      ...(d.init ? [] : ["init"]), ...(d.task ? [] : ["task"]), ...(d.checks.length || d.outcomes.length ? [] : ["check"]), ...(d.solution ? [] : ["solution"]),
    ];
    if (missing.length)
      this.sink.report("ENV5002", d.name.span, `Scenario '${name}' has no ${missing.join(", ")}`, {
        fix: "a scenario has `init from \"state.json\"`, `task \"...\"`, one or more `check \"...\": expr` and `solution { tool(arg: value) }`",
      });
    const checks = d.checks.map((c) => this.scenarioCheck(c.text, c.expr, c.span));
    const solution: IStep[] = [];
    for (const step of d.solution?.steps ?? []) {
      const s = this.solutionStep(step);
      if (s) solution.push(s);
    }
    const outcomes = d.outcomes.map((o) => ({ text: o.text, ...(o.fields ? { fields: this.outcomeFields(o.fields) } : {}), span: o.span }));
    const reward = d.reward ? this.rewardMode(d.reward.text, d.reward.span) : undefined;
    this.needsReply(checks, d.reply !== undefined, d.name.span, name);
    return {
      name, description: d.description, file,
      init: !d.init ? { value: {} } : "file" in d.init ? { file: d.init.file } : { value: d.init.value },
      initSpan: d.init?.span ?? d.name.span,
      task: d.task?.text ?? "", persona: d.persona?.text, checks, solution,
      ...(d.reply ? { reply: d.reply.text } : {}),
      ...(outcomes.length ? { outcomes } : {}),
      ...(reward ? { reward } : {}),
      span: d.name.span,
    };
  }

  /** A scenario check, typed, with whether it reads `reply` (an answer check). */
  scenarioCheck(text: string, expr: A.Expr, span: A.Span, file?: string): ICheck {
    this.cx.replyRead = false;
    const x = this.checkExpression(expr, file);
    return { text, expr: x, span, ...(this.cx.replyRead ? { readsReply: true } : {}) };
  }

  /** ENV5020: a scenario whose checks read `reply` needs a reference reply for verify to prove them. */
  needsReply(checks: readonly ICheck[], hasReply: boolean, span: A.Span, name: string, file?: string): void {
    const first = checks.find((c) => c.readsReply);
    if (!first || hasReply) return;
    this.sink.inFile(file, () =>
      this.sink.report("ENV5020", first.span, `Scenario '${name}' has an answer check (it reads \`reply\`) but no reference reply`, {
        related: [{ file: this.sink.file, span, message: "the scenario" }],
        fix: "add `reply \"...\"` (`\"reply\": \"...\"` in a dataset line): a reply that answers the task, which verify proves the answer checks accept",
      }),
    );
  }

  /** `reward "all"` or `reward "fraction"` (ENV5018 otherwise); `value` may be any JSON value (a dataset's). */
  rewardMode(value: unknown, span: A.Span, file?: string): "all" | "fraction" | undefined {
    if (value === "all" || value === "fraction") return value;
    this.sink.inFile(file, () =>
      this.sink.report("ENV5018", span, `A scenario's reward is "all" or "fraction", not ${JSON.stringify(value)}`, {
        fix: "write `reward \"all\"` (`\"reward\": \"all\"` in a dataset line: 1 only when every check and outcome holds, as tau-bench scores) or leave it out (the fraction that hold)",
      }),
    );
    return undefined;
  }

  /** An outcome's `[field, ...]`: names of state fields (ENV5019 otherwise). */
  outcomeFields(e: A.Expr, file?: string): string[] {
    const out: string[] = [];
    const state = this.cx.sym.state;
    this.sink.inFile(file, () => {
      if (e.kind !== "List") {
        this.sink.report("ENV5019", e.span, "An outcome compares state fields: write them as a list, like `[orders, users]`");
        return;
      }
      for (const item of e.items) {
        if (item.kind !== "Name" || !state.has(item.name)) {
          const guess = item.kind === "Name" ? closest(item.name, state.keys()) : undefined;
          this.sink.report("ENV5019", item.span, item.kind === "Name" ? `The state has no field '${item.name}'` : "An outcome lists state fields by name", guess ? { fix: `did you mean \`${guess}\`?` } : {});
          continue;
        }
        if (!out.includes(item.name)) out.push(item.name);
      }
    });
    return out;
  }

  /** Type a scenario check: a bool over the final state, with `initial` for the start. */
  checkExpression(e: A.Expr, file?: string): IExpr {
    return this.sink.inFile(file, () => {
      const cx = this.cx;
      cx.begin("check");
      const x = cx.expectBool(e, "A check");
      cx.scope.pop();
      return x;
    });
  }

  /** A solution step: a call of a query or action with constant arguments. */
  solutionStep(step: A.Expr, file?: string): IStep | undefined {
    return this.sink.inFile(file, () => {
      if (step.kind !== "Call" || step.callee.kind !== "Name") {
        this.sink.report("ENV5004", step.span, "A solution step is a tool call: `tool(arg: value, ...)`");
        return undefined;
      }
      const name = step.callee.name;
      const tool = this.cx.sym.tools.get(name);
      if (!tool || tool.decl.toolKind === "fn") {
        const agentTools = [...this.cx.sym.tools.values()].filter((t) => t.decl.toolKind !== "fn").map((t) => t.decl.name.name);
        const guess = closest(name, agentTools);
        this.sink.report("ENV5004", step.callee.span, tool ? `'${name}' is a helper (fn); agents call only queries and actions` : `Unknown tool '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        return undefined;
      }
      this.cx.begin("check", this.cx.currentTool);
      const { args, given } = this.stepArguments(name, tool.params, step.args);
      this.cx.scope.reset();
      for (const p of tool.params)
        if (p.required && !given.has(p.name)) this.sink.report("ENV3008", step.span, `'${name}' needs '${p.name}'`, { fix: `add \`${p.name}: ...\`` });
      return { tool: name, args, span: step.span };
    });
  }

  /** The constant arguments of a step, by parameter; each checked against its parameter's type. */
  private stepArguments(name: string, params: IParam[], raw: A.Arg[]): { args: Record<string, unknown>; given: Set<string> } {
    const cx = this.cx;
    const args: Record<string, unknown> = {};
    const given = new Set<string>();
    let positional = 0;
    for (const a of raw) {
      const p = a.name ? params.find((x) => x.name === a.name!.name) : params[positional++];
      if (!p) {
        if (a.name) {
          const guess = closest(a.name.name, params.map((x) => x.name));
          cx.report("ENV2016", a.name.span, `'${name}' has no parameter '${a.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        } else cx.report("ENV3007", a.value.span, `'${name}' takes ${params.length} argument${params.length === 1 ? "" : "s"}`);
        continue;
      }
      if (given.has(p.name)) {
        cx.report("ENV5005", a.value.span, `'${p.name}' is given twice`);
        continue;
      }
      given.add(p.name);
      const x = cx.expr(a.value, p.type);
      if (!cx.expectAssignable(x.t, p.type, a.value.span)) continue;
      const value = constantOf(x);
      if (value === NOT_CONSTANT)
        cx.report("ENV5005", a.value.span, "Solution arguments are constants: literals, lists, records or enum values", {
          fix: "write the value itself (ids made by new_id are deterministic: new_id(\"t\") gives \"t_1\", then \"t_2\")",
        });
      // defined, not assigned: an argument may be named "__proto__"
      else Object.defineProperty(args, p.name, { value, enumerable: true, writable: true, configurable: true });
    }
    return { args, given };
  }
}

/**
 * A JSON value as the expression that writes it (`{"a": [1, "x"]}` is `{ a: [1, "x"] }`), every
 * node at `span`: how a dataset's solution arguments reach the checks a written call gets.
 */
export function jsonToExpr(v: unknown, span: A.Span): A.Expr {
  if (v === null || v === undefined) return { kind: "Null", span };
  if (typeof v === "boolean") return { kind: "Bool", value: v, span };
  if (typeof v === "number") return Number.isInteger(v) ? { kind: "Int", value: v, span } : { kind: "Number", value: v, span };
  if (typeof v === "string") return { kind: "String", parts: [v], span };
  if (Array.isArray(v)) return { kind: "List", items: v.map((x) => jsonToExpr(x, span)), span };
  const o = v as Record<string, unknown>;
  return { kind: "RecordLit", fields: Object.keys(o).map((k) => ({ name: { name: k, span }, value: jsonToExpr(o[k], span) })), span };
}

const NOT_CONSTANT = Symbol("not constant");

/** The JSON value of a typed expression made only of literals, or NOT_CONSTANT. */
function constantOf(x: IExpr): unknown {
  switch (x.e) {
    case "lit":
      return x.value;
    case "str":
      return x.parts.every((p) => typeof p === "string") ? x.parts.join("") : NOT_CONSTANT;
    case "unary": {
      const v = constantOf(x.operand);
      return x.op === "-" && typeof v === "number" ? -v : NOT_CONSTANT;
    }
    case "list": {
      const out: unknown[] = [];
      for (const item of x.items) {
        const v = constantOf(item);
        if (v === NOT_CONSTANT) return v;
        out.push(v);
      }
      return out;
    }
    case "record": {
      const out: Record<string, unknown> = {};
      for (const f of x.fields) {
        const v = constantOf(f.value);
        if (v === NOT_CONSTANT) return v;
        Object.defineProperty(out, f.name, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return NOT_CONSTANT;
  }
}
