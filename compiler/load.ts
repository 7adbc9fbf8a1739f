// Loads a checked spec without a build step: its definition and scenario checks are emitted
// as plain JavaScript (emit-definition.ts) and evaluated against the runtime (instantiate.ts).
// No TypeScript is involved (the generated env.ts is for builds; this is what call, replay,
// verify, serve, fuzz and mutate run). Used with a checked IEnv; see spec-cache.ts for loading
// a spec compiled before.
import type { EnvDefinition, ScenarioDef } from "../runtime/index.js";
import { definitionScript, scenarioSources, toolSchemas } from "./emit-definition.js";
import { definitionFrom, scenariosFrom } from "./instantiate.js";
import type { IEnv, IScenario } from "./ir.js";

/** The runtime definition of a checked environment. */
export function loadDefinition(env: IEnv): EnvDefinition {
  return definitionFrom(definitionScript(env), toolSchemas(env));
}

/** Scenarios of a checked environment as the runtime runs them, checks compiled in memory. */
export function loadScenarios(env: IEnv, scenarios: readonly IScenario[] = env.scenarios): ScenarioDef[] {
  return scenariosFrom(scenarioSources(env, scenarios));
}
