// Shared test helpers: compile spec text in memory and build environments from it.
import { checkSource } from "../compiler/pipeline.js";
import { loadDefinition } from "../compiler/load.js";
import { Environment, type EnvOptions } from "../runtime/index.js";
import type { IEnv } from "../compiler/ir.js";
import { runCli } from "../cli/main.js";

export function mustCheck(source: string, file = "test.env"): IEnv {
  const r = checkSource(source, file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length || !r.env)
    throw new Error(`expected no errors, got:\n${errors.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.code} ${d.message}`).join("\n")}`);
  return r.env;
}

export function codesOf(source: string, file = "test.env"): string[] {
  return checkSource(source, file).diagnostics.map((d) => d.code);
}

export function envFrom(source: string, state: unknown, options: EnvOptions = {}): Environment {
  return Environment.createFrom(loadDefinition(mustCheck(source)), state, options);
}

/** Run the CLI in-process, collecting what it prints. */
export async function runEnvc(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}
