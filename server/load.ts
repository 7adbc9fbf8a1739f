// Loads what `envc serve` serves from spec files, folders and JSONL datasets: checks the specs
// (with their `scenarios for` files), compiles each in memory, validates every scenario's initial
// state once (scenarios sharing a state file share one environment) and the state.json beside
// the spec, if any, as the default state. The only part of server/ that imports the compiler.
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { checkInputs } from "../compiler/project.js";
import type { CheckedSpec } from "../compiler/pipeline.js";
import { loadDataset } from "../compiler/dataset.js";
import { hasErrors, type Diagnostic } from "../compiler/diagnostics.js";
import { loadDefinition, loadScenarios } from "../compiler/load.js";
import { InitialStates } from "../compiler/verify.js";
import type { IScenario } from "../compiler/ir.js";
import { Environment, StateError, parseJsonOrdered } from "../runtime/index.js";
import type { ServedEnv, ServedScenario } from "./sessions.js";

export interface LoadResult {
  envs: ServedEnv[];
  /** every diagnostic of the specs and datasets; errors mean a spec could not be served */
  diagnostics: Diagnostic[];
  /** source texts by file, for printing diagnostics */
  sources: Map<string, string>;
  /** scenarios left out because their initial state is unreadable or invalid */
  skipped: { env: string; scenario: string; diagnostic: Diagnostic }[];
  /** default states (state.json beside a spec) that exist but do not fit their spec */
  badDefaults: { env: string; file: string; message: string }[];
  /** how many spec files were found */
  specFiles: number;
}

export async function loadServedEnvs(inputs: string[]): Promise<LoadResult> {
  const datasetFiles = inputs.filter((i) => i.endsWith(".jsonl"));
  const specInputs = inputs.filter((i) => !i.endsWith(".jsonl"));
  const { found, specs, sources, diagnostics } = await checkInputs(specInputs);
  const extra = new Map<CheckedSpec, IScenario[]>();
  for (const file of datasetFiles) {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      throw new Error(`cannot read the dataset ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    sources.set(file, text);
    const d = loadDataset(text, file, specs);
    diagnostics.push(...d.diagnostics);
    for (const { spec, scenario } of d.scenarios) {
      const list = extra.get(spec) ?? [];
      list.push(scenario);
      extra.set(spec, list);
    }
  }
  const envs: ServedEnv[] = [];
  const skipped: LoadResult["skipped"] = [];
  const badDefaults: LoadResult["badDefaults"] = [];
  for (const spec of specs) {
    if (!spec.env || spec.scenariosFor) continue;
    const own = [spec, ...specs.filter((s) => (spec.scenarioFiles ?? []).includes(s.file))];
    if (own.some((s) => hasErrors(s.diagnostics))) continue; // reported; the caller refuses to serve
    const def = loadDefinition(spec.env);
    const irScenarios = [...spec.env.scenarios, ...(extra.get(spec) ?? [])];
    const defs = loadScenarios(spec.env, irScenarios);
    const initials = new InitialStates(def);
    const scenarios: ServedScenario[] = [];
    const seen = new Set<string>();
    irScenarios.forEach((sc, i) => {
      const got = initials.get(sc);
      if ("diagnostic" in got) {
        skipped.push({ env: def.name, scenario: sc.name, diagnostic: got.diagnostic(sc) });
        return;
      }
      // a dataset may repeat an id of the spec's own scenarios: the first one wins, as in lookups
      if (seen.has(sc.name)) return;
      seen.add(sc.name);
      scenarios.push({ def: defs[i]!, initial: got.env });
    });
    let defaultState: Environment | undefined;
    const stateFile = path.join(path.dirname(spec.file), "state.json");
    if (existsSync(stateFile)) {
      try {
        defaultState = Environment.createFrom(def, parseJsonOrdered(await fs.readFile(stateFile, "utf8")));
      } catch (err) {
        const message = err instanceof StateError ? err.problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join("; ") : (err as Error).message;
        badDefaults.push({ env: def.name, file: stateFile, message });
      }
    }
    envs.push({ def, scenarios, ...(defaultState ? { defaultState } : {}) });
  }
  return { envs, diagnostics, sources, skipped, badDefaults, specFiles: found.files.length };
}
