// The checker: resolves names, types every expression, enforces the language's static rules
// (query purity, key fields, inserts, returns) and lowers the AST to the IR. A chain of passes
// around one symbol table, which only the first builds:
//   declarations (symbol table) -> invariants -> tools -> purity -> ranges -> scenarios -> limits
// Assumes a parsed AST (possibly partial after syntax errors); never throws on any input.
import type * as A from "../../grammar/ast.js";
import type { Diagnostic } from "../diagnostics.js";
import type { ICheck, IEnv, IExpr, IRecordDecl, IScenario, IStep } from "../ir.js";
import { unboundedRanges } from "../bounds.js";
import { Cx, type Rules } from "./context.js";
import { RULES } from "./rules.js";
import { Sink, ZERO_SPAN } from "./sink.js";
import { declarationsPass, limitsPass } from "./declarations.js";
import { invariantsPass, toolsPass } from "./tools.js";
import { purityPass } from "./purity.js";
import { ScenarioChecker, jsonToExpr, type ScenarioNames } from "./scenarios.js";
import type { SymbolTable } from "./symbols.js";

export { jsonToExpr, type ScenarioNames };
export { alwaysExits } from "./statements.js";
export { assignable } from "../types.js";

export interface CheckResult {
  env?: IEnv;
  diagnostics: Diagnostic[];
  /** kept to check scenarios written elsewhere (`scenarios for` files, JSONL) against this spec */
  checker?: Checker;
}

/**
 * A checked spec's checker, kept after the check: scenarios written in other files (`scenarios
 * for`, JSONL datasets) are checked against its symbol table, through the same front end.
 */
export class Checker {
  private readonly scenarios: ScenarioChecker;

  constructor(readonly symbols: SymbolTable, private readonly sink: Sink, cx: Cx) {
    this.scenarios = new ScenarioChecker(cx, sink);
  }

  /** Run `fn` (checking more scenarios) and return what it reported, leaving the spec's own list alone. */
  collect<R>(fn: () => R): { value: R; diagnostics: Diagnostic[] } {
    const diags = this.sink.diags;
    const mark = diags.length;
    try {
      const value = fn();
      return { value, diagnostics: diags.splice(mark) };
    } catch (err) {
      diags.splice(mark);
      this.sink.internal(ZERO_SPAN, err);
      return { value: undefined as R, diagnostics: diags.splice(mark) };
    }
  }

  checkScenarios(decls: A.Decl[], file: string): IScenario[] {
    return this.scenarios.checkScenarios(decls, file);
  }
  checkExpression(e: A.Expr, file?: string): IExpr {
    return this.scenarios.checkExpression(e, file);
  }
  /** A scenario check with whether it reads `reply` (an answer check). */
  scenarioCheck(text: string, e: A.Expr, span: A.Span, file?: string): ICheck {
    return this.scenarios.scenarioCheck(text, e, span, file);
  }
  /** `reward`: "all" or "fraction" (ENV5018 otherwise). */
  rewardMode(value: unknown, span: A.Span, file?: string): "all" | "fraction" | undefined {
    return this.scenarios.rewardMode(value, span, file);
  }
  /** An outcome's fields, a list of state field names (ENV5019 otherwise). */
  outcomeFields(e: A.Expr, file?: string): string[] {
    return this.scenarios.outcomeFields(e, file);
  }
  /** ENV5020 when a check reads `reply` and the scenario has no reference reply. */
  needsReply(checks: readonly ICheck[], hasReply: boolean, span: A.Span, name: string, file?: string): void {
    this.scenarios.needsReply(checks, hasReply, span, name, file);
  }
  solutionStep(step: A.Expr, file?: string): IStep | undefined {
    return this.scenarios.solutionStep(step, file);
  }
  /** The names of the spec's scenarios so far (its own and its `scenarios for` files'), a copy. */
  scenarioNames(): ScenarioNames {
    return new Map(this.scenarios.names);
  }
  /** ENV5003 when `name` is in `names` (see scenarioNames); else it is added, declared in `file`. */
  claimScenarioName(name: A.Ident, file: string, names: ScenarioNames): boolean {
    return this.sink.inFile(file, () => this.scenarios.claimName(name, file, names));
  }
}

/** Check a spec: its IR (when it has a header) and every diagnostic. `rules`: for tests. */
export function checkSpec(ast: A.SpecFile, rules: Rules = RULES): CheckResult {
  try {
    return runPasses(ast, rules);
  } catch (err) {
    // The checker must never crash on any input; if it does, say so as a diagnostic.
    const sink = new Sink(ast.file);
    sink.internal(ZERO_SPAN, err);
    return { diagnostics: sink.diags };
  }
}

function runPasses(ast: A.SpecFile, rules: Rules): CheckResult {
  const sink = new Sink(ast.file);
  if (!ast.header) {
    const first = ast.decls[0]?.span ?? ZERO_SPAN;
    sink.report("ENV1005", first, "A spec starts with `env Name \"Title\"`", { fix: "add a first line like `env Shop \"Online shop\"`" });
  }
  const sym = declarationsPass(ast, sink);
  const cx = new Cx(sym, sink, rules);
  const { invariants, calls: invariantCalls } = invariantsPass(ast, cx);
  const tools = purityPass(toolsPass(cx), invariantCalls, sink);
  sink.diags.push(...unboundedRanges(tools, sink.file));
  const checker = new Checker(sym, sink, cx);
  const scenarios = checker.checkScenarios(ast.decls, ast.file);
  const maxSteps = limitsPass(ast, sink);
  if (!ast.header) return { diagnostics: sink.diags };
  const env: IEnv = {
    name: ast.header.name.name,
    title: ast.header.title,
    description: ast.header.description,
    file: sink.file,
    enums: [...sym.enums.values()].map(({ span: _s, ...e }) => e),
    records: [...sym.records.entries()].map(([name, r]) => ({ name, description: r.description, type: r.type }) as IRecordDecl),
    entities: [...sym.entities.values()].map(({ span: _s, ...e }) => e),
    state: [...sym.state.values()].map(({ span: _s, ...s }) => s),
    rules: ast.decls.filter((d): d is Extract<A.Decl, { kind: "Rule" }> => d.kind === "Rule").map((d) => d.text),
    invariants,
    tools,
    scenarios,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  };
  return { env, diagnostics: sink.diags, checker };
}
