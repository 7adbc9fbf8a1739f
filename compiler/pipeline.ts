// The compiler's phases chained for one source text: parse, then check (only when the
// syntax is clean, so that one typo does not cascade into dozens of bogus type errors).
import { parseSpec } from "../grammar/parser.js";
import { checkSpec } from "./check.js";
import { makeDiagnostic, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import type { IEnv } from "./ir.js";

export interface CheckedSpec {
  file: string;
  source: string;
  env?: IEnv;
  diagnostics: Diagnostic[];
}

export function checkSource(source: string, file: string): CheckedSpec {
  const { ast, errors } = parseSpec(source, file);
  const syntax = errors.map((e) => makeDiagnostic(e.code, file, e.span, e.message));
  if (syntax.length) return { file, source, diagnostics: sortDiagnostics(syntax) };
  const { env, diagnostics } = checkSpec(ast);
  return { file, source, env, diagnostics: sortDiagnostics(diagnostics) };
}
