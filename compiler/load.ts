// Loads a spec without a build step: check it, emit the environment module, transpile it to
// JavaScript in memory and evaluate it against the runtime. Used by call/replay/verify/serve.
import { ts } from "ts-morph";
import { z } from "zod";
import * as runtime from "../runtime/index.js";
import { emitModuleForEval } from "./emit.js";
import type { IEnv } from "./ir.js";

function transpile(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, removeComments: true },
  }).outputText;
}

/** Evaluate the emitted module for a checked environment and return its definition. */
export function loadDefinition(env: IEnv): runtime.EnvDefinition {
  const code = emitModuleForEval(env, transpile);
  const modules: Record<string, unknown> = { zod: { z }, "envc-runtime": runtime };
  const exports: Record<string, unknown> = {};
  const require = (name: string) => {
    const m = modules[name];
    if (!m) throw new Error(`generated code imports unknown module ${name}`);
    return m;
  };
  // The code is our own compiler's output for a checked spec, not user-supplied JavaScript.
  new Function("exports", "require", code)(exports, require);
  return exports.definition as runtime.EnvDefinition;
}
