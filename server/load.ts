// Loads what `envc serve` serves from spec files, folders and JSONL datasets: checks the specs
// (with their `scenarios for` files) and the datasets, compiles each environment in memory (or
// takes it from the cache of compiled specs when every input is unchanged), validates every
// scenario's initial state once (scenarios sharing a state file share one environment) and the
// state.json beside the spec, if any, as the default state. The only part of server/ that
// imports the compiler; the parser and checker only when something must be compiled.
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { checkInputs, findSpecFiles } from "../compiler/project.js";
import type { CheckedSpec } from "../compiler/pipeline.js";
import type { DatasetNames } from "../compiler/dataset.js";
import { hasErrors, type Diagnostic } from "../compiler/diagnostics.js";
import type { CompiledEnv } from "../compiler/emit-definition.js";
import { instantiate } from "../compiler/instantiate.js";
import { InitialStates } from "../compiler/initial-states.js";
import { cacheKey, throughCache, type CacheOptions } from "../compiler/spec-cache.js";
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

/** What a compile of the inputs gives: the environments, or none when there are errors. */
interface Compiled {
  envs: CompiledEnv[];
  /** the specs' and datasets' diagnostics (only warnings when kept in the cache) */
  diagnostics: Diagnostic[];
  /** the spec files compiled, which must be those the key was made of */
  files: string[];
}

/**
 * The environments of `inputs`. `cache`: where compiled specs are kept (none: always compile);
 * what is cached is the compile, never the initial states, which are read and checked anew.
 */
export async function loadServedEnvs(inputs: string[], cache: CacheOptions = { dir: undefined }): Promise<LoadResult> {
  const datasetFiles = inputs.filter((i) => i.endsWith(".jsonl"));
  const specInputs = inputs.filter((i) => !i.endsWith(".jsonl"));
  const found = await findSpecFiles(specInputs);
  // the key is made of exactly the texts compiled
  const texts = new Map<string, string>();
  let unreadable = false;
  for (const file of found.files) {
    try {
      texts.set(file, await fs.readFile(file, "utf8"));
    } catch {
      unreadable = true; // the check reports it; nothing is cached
    }
  }
  const datasetTexts = new Map<string, string>();
  for (const file of datasetFiles) {
    try {
      datasetTexts.set(file, await fs.readFile(file, "utf8"));
    } catch (err) {
      throw new Error(`cannot read the dataset ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
  }
  const key = cacheKey(`serve\0${datasetFiles.join("\0")}`, [...texts, ...datasetTexts]);
  const { value: compiled } = await throughCache<Compiled>(key, unreadable || !found.files.length ? { ...cache, dir: undefined } : cache, async () => {
    const made = await compileInputs(specInputs, texts, datasetTexts);
    const same = made.files.length === texts.size && made.files.every((f) => texts.has(f));
    return { value: made, keep: same && !hasErrors(made.diagnostics) };
  });
  const sources = new Map([...texts, ...datasetTexts]);
  const diagnostics = [...found.problems, ...compiled.diagnostics];

  const envs: ServedEnv[] = [];
  const skipped: LoadResult["skipped"] = [];
  const badDefaults: LoadResult["badDefaults"] = [];
  for (const c of compiled.envs) {
    const { def, scenarios: loadedScenarios } = instantiate(c);
    const initials = new InitialStates(def);
    const scenarios: ServedScenario[] = [];
    // ids are unique per environment: the checker refuses a repeated one (ENV5003), wherever written
    for (const sc of loadedScenarios) {
      const got = initials.get(sc.start);
      if ("diagnostic" in got) {
        skipped.push({ env: def.name, scenario: sc.def.id, diagnostic: got.diagnostic(sc.start) });
        continue;
      }
      scenarios.push({ def: sc.def, initial: got.env });
    }
    let defaultState: Environment | undefined;
    const stateFile = path.join(path.dirname(c.file), "state.json");
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

/** Check the specs and datasets and compile every environment that has no errors. */
async function compileInputs(specInputs: string[], texts: ReadonlyMap<string, string>, datasets: ReadonlyMap<string, string>): Promise<Compiled> {
  const { found, specs, diagnostics: all } = await checkInputs(specInputs, texts);
  // the files' problems (a missing input) come first; they are found again on every load, not kept
  const diagnostics = all.slice(found.problems.length);
  const extra = new Map<CheckedSpec, IScenario[]>();
  if (datasets.size) {
    const { loadDataset } = await import("../compiler/dataset.js");
    const names: DatasetNames = new Map(); // one set of scenario names per environment, across the datasets
    for (const [file, text] of datasets) {
      const d = loadDataset(text, file, specs, names);
      diagnostics.push(...d.diagnostics);
      for (const { spec, scenario } of d.scenarios) {
        const list = extra.get(spec) ?? [];
        list.push(scenario);
        extra.set(spec, list);
      }
    }
  }
  const { compiledEnv } = await import("../compiler/emit-definition.js");
  const envs: CompiledEnv[] = [];
  for (const spec of specs) {
    if (!spec.env || spec.scenariosFor) continue;
    const own = [spec, ...specs.filter((s) => (spec.scenarioFiles ?? []).includes(s.file))];
    if (own.some((s) => hasErrors(s.diagnostics))) continue; // reported; the caller refuses to serve
    envs.push(compiledEnv(spec.env, [...spec.env.scenarios, ...(extra.get(spec) ?? [])]));
  }
  return { envs, diagnostics, files: found.files };
}
