// `envc verify`: runs each scenario of a checked environment (initial state valid, checks
// false at the start, the solution works and makes them true, no vacuous check) and turns
// what the runtime finds into diagnostics pointing at the scenario's source.
// Assumes scenarios already type-checked; reads initial-state files (cached per path).
import * as path from "node:path";
import { verifyScenario, stringifyOrdered, type EnvDefinition, type ScenarioDef, type VerifyProblem } from "../runtime/index.js";
import { makeDiagnostic, hasErrors, type Diagnostic } from "./diagnostics.js";
import type { IScenario } from "./ir.js";
import type { CheckedSpec } from "./pipeline.js";
import type { DatasetResult } from "./dataset.js";
import { loadDefinition, loadScenarios } from "./load.js";
import { InitialStates, initialFileOf } from "./initial-states.js";

export { InitialStates, initialFileOf };

export interface VerifyOptions {
  /** report a check that already holds at the start as a warning, not an error */
  allowInitiallyTrue?: boolean;
}

export interface ScenarioVerdict {
  env: string;
  id: string;
  file: string;
  kept: boolean;
  diagnostics: Diagnostic[];
}

/** Verify scenarios of one environment; `defs[i]` is the runtime form of `scenarios[i]`. */
export function verifyScenarios(
  def: EnvDefinition,
  scenarios: readonly IScenario[],
  defs: readonly ScenarioDef[],
  options: VerifyOptions = {},
  initials = new InitialStates(def),
): ScenarioVerdict[] {
  return scenarios.map((sc, i) => {
    const diagnostics: Diagnostic[] = [];
    const initial = initials.get(sc);
    if ("diagnostic" in initial) diagnostics.push(initial.diagnostic(sc));
    else for (const p of verifyScenario(defs[i]!, initial.env)) diagnostics.push(problemDiagnostic(sc, p, options));
    return {
      env: def.name,
      id: sc.name,
      file: sc.file,
      kept: !diagnostics.some((d) => d.severity === "error"),
      diagnostics,
    };
  });
}

function callText(sc: IScenario, step: number): string {
  const s = sc.solution[step]!;
  const args = Object.entries(s.args).map(([k, v]) => `${k}: ${stringifyOrdered(v)}`);
  const text = `${s.tool}(${args.join(", ")})`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function problemDiagnostic(sc: IScenario, p: VerifyProblem, options: VerifyOptions): Diagnostic {
  switch (p.kind) {
    case "initially_true": {
      const c = sc.checks[p.check]!;
      return makeDiagnostic("ENV5008", sc.file, c.span, `Check "${c.text}" is already true in the initial state, so it cannot tell a solved task from an untouched one`, {
        severity: options.allowInitiallyTrue ? "warning" : "error",
        fix: "check for the change the task asks for; a check that guards what must stay as it was can pass with --allow-initially-true",
      });
    }
    case "step_failed": {
      const s = sc.solution[p.step]!;
      const fault = p.result.kind === "env_fault";
      return makeDiagnostic(fault ? "ENV5010" : "ENV5009", sc.file, s.span,
        fault
          ? `Solution step ${p.step + 1}, ${callText(sc, p.step)}, hit an environment fault: ${p.result.error}${p.result.location ? ` (at ${p.result.location})` : ""}`
          : `Solution step ${p.step + 1}, ${callText(sc, p.step)}, fails (${p.result.kind}): ${p.result.error}`,
        { fix: fault ? "the spec has a bug on this path: fix the tool, then verify again" : "fix the call or the initial state so that the reference solution succeeds" });
    }
    case "check_false": {
      const c = sc.checks[p.check]!;
      return makeDiagnostic("ENV5011", sc.file, c.span, `After the solution, check "${c.text}" is false${p.error ? ` (evaluating it failed: ${p.error})` : ""}`, {
        fix: "fix the check or complete the solution",
      });
    }
    case "vacuous": {
      const c = sc.checks[p.check]!;
      return makeDiagnostic("ENV5012", sc.file, c.span, `Check "${c.text}" is vacuous: it holds in every broken variant of the solution (each call dropped, each early stop)`, {
        fix: "make the check depend on what the solution changes",
      });
    }
  }
}

export interface EnvVerdicts {
  env: string;
  spec: string;
  verdicts: (ScenarioVerdict & { scenario: IScenario })[];
}

/**
 * Verify every scenario of the checked specs (their own and their `scenarios for` files) and
 * of the datasets' lines. Specs with errors are skipped: their scenarios cannot run.
 */
export function verifyAll(specs: readonly CheckedSpec[], datasets: readonly DatasetResult[], options: VerifyOptions = {}): EnvVerdicts[] {
  const out: EnvVerdicts[] = [];
  for (const spec of specs) {
    if (!spec.env || spec.scenariosFor || hasErrors(spec.diagnostics)) continue;
    const scenarios = [
      ...spec.env.scenarios,
      ...datasets.flatMap((d) => d.scenarios.filter((s) => s.spec === spec).map((s) => s.scenario)),
    ];
    if (scenarios.length === 0) continue;
    const def = loadDefinition(spec.env);
    const defs = loadScenarios(spec.env, scenarios);
    const verdicts = verifyScenarios(def, scenarios, defs, options);
    out.push({ env: spec.env.name, spec: spec.file, verdicts: verdicts.map((v, i) => ({ ...v, scenario: scenarios[i]! })) });
  }
  return out;
}

/** A scenario as one JSONL dataset line; an initial-state path is made relative to `outFile`. */
export function scenarioToJsonLine(env: string, sc: IScenario, outFile: string): string {
  const initial = "file" in sc.init
    ? path.relative(path.dirname(path.resolve(outFile)), initialFileOf(sc)!).split(path.sep).join("/")
    : sc.init.value;
  return stringifyOrdered({
    env,
    id: sc.name,
    initial,
    task: sc.task,
    ...(sc.persona !== undefined ? { persona: sc.persona } : {}),
    checks: sc.checks.map((c) => ({ text: c.text, expr: c.exprText ?? "" })),
    solution: sc.solution.map((s) => ({ name: s.tool, arguments: s.args })),
    ...(sc.reply !== undefined ? { reply: sc.reply } : {}),
    ...(sc.outcomes?.length ? { outcomes: sc.outcomes.map((o) => ({ text: o.text, ...(o.fields ? { fields: o.fields } : {}) })) } : {}),
    ...(sc.reward ? { reward: sc.reward } : {}),
  });
}
