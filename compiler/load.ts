// Loads a spec without a build step: check it, emit the environment module, transpile it to
// JavaScript in memory and evaluate it against the runtime. Used by call/replay/verify/serve.
// Scenario checks are lowered straight to JavaScript (no transpile), since datasets hold thousands.
import { ts } from "ts-morph";
import { z } from "zod";
import * as runtime from "../runtime/index.js";
import { emitModuleForEval, scenarioCheckSources, checkLocation } from "./emit.js";
import type { IEnv, IScenario } from "./ir.js";

function transpile(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, removeComments: true },
  }).outputText;
}

const RUNTIME_MODULE = Object.freeze({ ...runtime, __esModule: true });

/** Evaluate the emitted module for a checked environment and return its definition. */
export function loadDefinition(env: IEnv): runtime.EnvDefinition {
  const code = emitModuleForEval(env, transpile);
  // a plain object marked __esModule: the transpiled `import * as rt` then uses it as is,
  // instead of wrapping every export in a getter that each `rt.x` in tool code would call
  const modules: Record<string, unknown> = { zod: { z }, "envc-runtime": RUNTIME_MODULE };
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

/** Scenarios of a checked environment as the runtime runs them, checks compiled in memory. */
export function loadScenarios(env: IEnv, scenarios: readonly IScenario[] = env.scenarios): runtime.ScenarioDef[] {
  const sources = scenarios.flatMap((sc) => scenarioCheckSources(env, sc, false));
  // Our compiler's output for checked expressions, evaluated once for all scenarios.
  const fns = new Function("rt", `"use strict"; return [${sources.join(",\n")}];`)(runtime) as runtime.ScenarioCheckDef["check"][];
  let next = 0;
  return scenarios.map((sc) => ({
    id: sc.name,
    ...(sc.description !== undefined ? { description: sc.description } : {}),
    task: sc.task,
    ...(sc.persona !== undefined ? { persona: sc.persona } : {}),
    ...("file" in sc.init ? { initialFile: sc.init.file } : { initial: sc.init.value }),
    source: sc.file,
    checks: sc.checks.map((c, i) => ({ text: c.text, location: checkLocation(sc, i), check: fns[next++]! })),
    solution: sc.solution.map((s) => ({ name: s.tool, arguments: s.args })),
  }));
}
