// The evidence `envc mutate` checks mutants against, found for a spec file by default: the
// recorded examples beside it (examples.jsonl), every `scenarios for` file under its folder, and
// the JSONL scenario datasets beside it that `envc scen` wrote (recognised by their content:
// lines with a task, checks and a solution, for this environment), plus datasets named by hand.
// Used by the CLI and by synth (which puts a mutation score in its report).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { parseJsonOrdered } from "../../runtime/index.js";
import { loadDataset } from "../dataset.js";
import { hasErrors, type Diagnostic } from "../diagnostics.js";
import type { IEnv } from "../ir.js";
import { attachScenarioFiles, checkSource, type CheckedSpec } from "../pipeline.js";
import { checkFile, findSpecFiles, normalizePath } from "../project.js";
import { defaultExamplesFile, expectationsFileOf, loadExamples, ExamplesError } from "./examples.js";
import { mutateSpec, type DatasetEvidence, type MutateOptions, type MutationReport, type MutationSubject } from "./mutate.js";
import { seedStates } from "./seeds.js";

export interface EvidenceOptions {
  /** the examples file; undefined: examples.jsonl beside the spec when there is one; false: none */
  examples?: string | false;
  /** datasets named by hand (JSONL, as `envc scen` writes them); always read */
  datasets?: readonly string[];
  /** also use the scenario datasets found beside the spec (default true) */
  findDatasets?: boolean;
}

/** Evidence that cannot be read: a missing or malformed file. The message names file:line. */
export class EvidenceError extends Error {}

/** The spec has errors (itself or its `scenarios for` files): nothing to mutate. */
export class SpecError extends Error {
  constructor(message: string, readonly diagnostics: Diagnostic[], readonly sources: Map<string, string>) {
    super(message);
  }
}

export interface GatheredEvidence {
  subject: MutationSubject;
  /** things looked at and left out, one line each (an unreadable seed state, a JSONL file that is not a dataset) */
  notes: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A JSON line that `envc scen` could have written: a task, checks and a solution. */
function datasetLine(v: unknown): v is Record<string, unknown> {
  return isObject(v) && typeof v.task === "string" && Array.isArray(v.checks) && Array.isArray(v.solution);
}

/**
 * The lines of `text` that belong to environment `env`, other lines blanked (so line numbers
 * stay): a dataset for many environments gives this spec its own scenarios. `recognised`: some
 * line is a scenario line of this environment.
 */
function linesFor(text: string, env: string): { text: string; recognised: boolean } {
  let recognised = false;
  const lines = text.split("\n").map((raw) => {
    if (!raw.trim()) return raw;
    let v: unknown;
    try {
      v = parseJsonOrdered(raw);
    } catch {
      return raw; // left for loadDataset to report, if the file is a dataset
    }
    if (isObject(v) && typeof v.env === "string" && v.env !== env) return "";
    if (datasetLine(v)) recognised = true;
    return raw;
  });
  return { text: lines.join("\n"), recognised };
}

/** `file:line:col: message` for each error, the first few. */
function describe(ds: Diagnostic[]): string {
  const errors = ds.filter((d) => d.severity === "error");
  const shown = errors.slice(0, 5).map((d) => `${d.file}:${d.span.start.line}:${d.span.start.column}: ${d.code} ${d.message.split("\n")[0]}`);
  if (errors.length > 5) shown.push(`... and ${errors.length - 5} more`);
  return shown.join("\n");
}

/**
 * The spec at `file` (its text, or `source` when given) with all its evidence, checked.
 * Throws SpecError when the spec or a `scenarios for` file has errors, EvidenceError when an
 * examples file or a dataset is missing or malformed.
 */
export async function gatherEvidence(file: string, options: EvidenceOptions = {}, source?: string): Promise<GatheredEvidence> {
  const notes: string[] = [];
  const specFile = normalizePath(file);
  const text = source ?? readFileSync(file, "utf8");
  const spec = checkSource(text, specFile);
  const sources = new Map([[specFile, text]]);
  if (!spec.env || hasErrors(spec.diagnostics)) throw new SpecError(`${specFile} has errors`, spec.diagnostics, sources);
  const env: IEnv = spec.env;

  // every `scenarios for <Env>` file under the spec's folder, as the project loader finds them
  const dir = path.dirname(specFile);
  const found = await findSpecFiles([dir]);
  const scenarioFiles: CheckedSpec[] = [];
  for (const f of found.files) {
    if (f === specFile) continue;
    const checked = await checkFile(f);
    if (checked.scenariosFor?.name.name !== env.name) continue;
    scenarioFiles.push(checked);
    sources.set(f, checked.source);
  }
  attachScenarioFiles([spec, ...scenarioFiles]);
  const bad = scenarioFiles.flatMap((f) => f.diagnostics);
  if (hasErrors(bad)) throw new SpecError(`the scenarios of ${specFile} have errors`, bad, sources);

  // recorded examples
  let examples: MutationSubject["examples"];
  let examplesFile: string | undefined;
  if (options.examples !== false) {
    const given = typeof options.examples === "string";
    examplesFile = given ? (options.examples as string) : defaultExamplesFile(specFile);
    if (given || existsSync(examplesFile)) {
      try {
        examples = loadExamples(examplesFile);
      } catch (err) {
        if (err instanceof ExamplesError) throw new EvidenceError(err.message);
        throw err;
      }
    } else examplesFile = undefined;
  }

  // scenario datasets: named ones, then JSONL files beside the spec that hold scenarios of this env
  const datasets: DatasetEvidence[] = [];
  const named = (options.datasets ?? []).map(normalizePath);
  const candidates: { file: string; given: boolean }[] = named.map((f) => ({ file: f, given: true }));
  if (options.findDatasets !== false) {
    const skip = new Set([...named, ...(examplesFile ? [normalizePath(examplesFile), normalizePath(expectationsFileOf(examplesFile))] : [])]);
    const ex = defaultExamplesFile(specFile);
    skip.add(normalizePath(ex));
    skip.add(normalizePath(expectationsFileOf(ex)));
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort();
    } catch {
      entries = [];
    }
    for (const n of entries) {
      const f = normalizePath(path.join(dir, n));
      if (!skip.has(f)) candidates.push({ file: f, given: false });
    }
  }
  for (const { file: f, given } of candidates) {
    let raw: string;
    try {
      raw = readFileSync(f, "utf8");
    } catch (err) {
      if (!given) continue;
      throw new EvidenceError(`cannot read the dataset ${f}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    const own = linesFor(raw, env.name);
    // a file named by hand is read as a dataset whatever it holds; one found beside the spec
    // only when it holds scenarios of this environment
    if (!own.recognised && !given) {
      notes.push(`${f}: not a scenario dataset of ${env.name}, not used`);
      continue;
    }
    const loaded = loadDataset(own.text, f, [spec]);
    if (hasErrors(loaded.diagnostics)) throw new EvidenceError(`the dataset ${f} is malformed or does not check against ${specFile}:\n${describe(loaded.diagnostics)}`);
    if (!loaded.scenarios.length)
      throw new EvidenceError(`${f}: no scenario of ${env.name} in it (expected JSON lines with "env", "id", "initial", "task", "checks" and "solution", as envc scen writes)`);
    datasets.push({ file: f, scenarios: loaded.scenarios.map((s) => s.scenario) });
  }

  const seeds = seedStates(specFile, env);
  for (const s of seeds.skipped) notes.push(`skipped as a seed state: ${s}`);
  return {
    subject: {
      file: specFile, source: text, env, scenarioFiles, seedStates: seeds.states,
      ...(examples ? { examples, examplesFile: normalizePath(examplesFile!) } : {}),
      ...(datasets.length ? { datasets } : {}),
    },
    notes,
  };
}

/**
 * Mutation testing of the spec at `file` with all its evidence (see gatherEvidence): what
 * synth calls to put a mutation score in its report. `report.score` is killed / scored;
 * `report.results` has every mutant with its status and, when killed, the evidence that did.
 */
export async function mutateSpecFile(file: string, options: MutateOptions & EvidenceOptions): Promise<MutationReport & { notes: string[] }> {
  const { subject, notes } = await gatherEvidence(file, options);
  return { ...mutateSpec(subject, options), notes };
}
