// The compiler's phases chained for one source text: parse, then check (only when the
// syntax is clean, so that one typo does not cascade into dozens of bogus type errors).
// A `scenarios for Name` file is parsed here and checked later against its environment.
import { parseSpec } from "../grammar/parser.js";
import type * as A from "../grammar/ast.js";
import { checkSpec, type Checker } from "./check.js";
import { closest, makeDiagnostic, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import type { IEnv, IScenario } from "./ir.js";

export interface CheckedSpec {
  file: string;
  source: string;
  env?: IEnv;
  diagnostics: Diagnostic[];
  /** the spec's checker, kept to check scenarios written in other files */
  checker?: Checker;
  /** set for a `scenarios for Name` file: its syntax tree, checked by attachScenarioFiles */
  scenariosFor?: { name: A.Ident; ast: A.SpecFile };
  /** for a spec: the `scenarios for` files whose scenarios were added to its env */
  scenarioFiles?: string[];
}

export function checkSource(source: string, file: string): CheckedSpec {
  const { ast, errors } = parseSpec(source, file);
  const syntax = errors.map((e) => makeDiagnostic(e.code, file, e.span, e.message, e.fix ? { fix: e.fix } : {}));
  if (syntax.length) return { file, source, diagnostics: sortDiagnostics(syntax) };
  if (ast.scenariosFor && !ast.header) {
    const misplaced = ast.decls
      .filter((d) => d.kind !== "Scenario")
      .map((d) => makeDiagnostic("ENV5017", file, "name" in d ? d.name.span : d.span, "A scenarios file holds only scenarios", {
        fix: `move this declaration into the spec of ${ast.scenariosFor!.name}`,
      }));
    return { file, source, diagnostics: misplaced, scenariosFor: { name: ast.scenariosFor, ast } };
  }
  const { env, diagnostics, checker } = checkSpec(ast);
  if (env) keepExprText(env.scenarios, source);
  return { file, source, env, checker, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * Check each `scenarios for Name` file against the spec of environment Name among `checked`
 * and add its scenarios to that environment (in the order of `checked`).
 */
export function attachScenarioFiles(checked: CheckedSpec[]): void {
  for (const sf of checked) {
    if (!sf.scenariosFor) continue;
    const { name, ast } = sf.scenariosFor;
    const target = checked.find((s) => s.env?.name === name.name && s.checker);
    if (!target) {
      const names = checked.flatMap((s) => (s.env ? [s.env.name] : []));
      const guess = closest(name.name, names);
      sf.diagnostics.push(
        makeDiagnostic("ENV5013", sf.file, name.span, `No environment named '${name.name}' among the inputs${names.length ? ` (found ${names.join(", ")})` : ""}`, {
          fix: guess ? `did you mean \`${guess}\`?` : "pass its spec as well, e.g. `envc verify specs/bank/`",
        }),
      );
      continue;
    }
    const { value, diagnostics } = target.checker!.collect(() => target.checker!.checkScenarios(ast.decls, sf.file));
    sf.diagnostics = sortDiagnostics([...sf.diagnostics, ...diagnostics]);
    if (value) {
      keepExprText(value, sf.source);
      target.env!.scenarios.push(...value);
    }
    (target.scenarioFiles ??= []).push(sf.file);
  }
}

function keepExprText(scenarios: IScenario[], source: string) {
  for (const sc of scenarios) for (const c of sc.checks) c.exprText ??= source.slice(c.expr.span.start.offset, c.expr.span.end.offset);
}
