// Turns the plain JavaScript that the compiler emits for loading (emit-definition.ts) into
// runtime objects: an environment's definition and its scenarios' check functions. Imports
// only the runtime and zod, so that a spec compiled earlier (the cache, spec-cache.ts) loads
// without the parser, the checker or any emitter.
// Assumes its input is our compiler's output for a checked spec, never user-written code.
import { z } from "zod";
import * as runtime from "../runtime/index.js";
import type { EnvDefinition, ScenarioDef } from "../runtime/index.js";
import type { CompiledEnv, ScenarioSource } from "./emit-definition.js";
import type { ScenarioStart } from "./initial-states.js";

// a plain object: each `rt.x` in tool code is an ordinary property read
const RT = Object.freeze({ ...runtime });

/** The rt.EnvDefinition that a definition script (definitionScript) returns, given the tool schemas it takes. */
export function definitionFrom(script: string, toolSchemas: unknown[]): EnvDefinition {
  return new Function("rt", "z", "toolSchemas", script)(RT, z, toolSchemas) as EnvDefinition;
}

/** Scenarios with their checks evaluated, all of them in one function (datasets hold thousands). */
export function scenariosFrom(sources: readonly ScenarioSource[]): ScenarioDef[] {
  const code = sources.flatMap((s) => s.checks);
  const fns = new Function("rt", `"use strict"; return [${code.join(",\n")}];`)(RT) as ScenarioDef["checks"][number]["check"][];
  let next = 0;
  return sources.map((s) => ({
    ...s.def,
    checks: s.def.checks.map((c) => ({ ...c, check: fns[next++]! })),
  }));
}

/** A compiled environment made live: its definition, and each scenario with where it starts. */
export interface LoadedEnv {
  name: string;
  file: string;
  def: EnvDefinition;
  scenarios: LoadedScenario[];
}

export interface LoadedScenario {
  def: ScenarioDef;
  /** what InitialStates needs to build (or refuse) the scenario's initial state */
  start: ScenarioStart;
}

export function instantiate(c: CompiledEnv): LoadedEnv {
  const defs = scenariosFrom(c.scenarios);
  return {
    name: c.name,
    file: c.file,
    def: definitionFrom(c.definition, c.toolSchemas),
    scenarios: c.scenarios.map((s, i) => ({ def: defs[i]!, start: { name: s.def.id, file: s.def.source, init: s.init, initSpan: s.initSpan } })),
  };
}
