// What the CLI verbs share: output streams, exit codes as exceptions, diagnostics printing,
// finding and checking specs (with their `scenarios for` files), loading an environment.
// Only argument handling and printing live in cli/; the work is in compiler/ and runtime/.
import { InvalidArgumentError, Option } from "commander";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { renderPretty, renderShort, hasErrors, type Diagnostic } from "../compiler/diagnostics.js";
import { checkInputs, findSpecFiles, checkFile, normalizePath } from "../compiler/project.js";
import { attachScenarioFiles, type CheckedSpec } from "../compiler/pipeline.js";
import type { IEnv } from "../compiler/ir.js";
import { loadDefinition } from "../compiler/load.js";
import {
  Environment, StateError, parseJsonOrdered, JsonSyntaxError, stringifyOrdered, diffIsEmpty, type StateDiff,
  type EnvDefinition, type EnvOptions, DEFAULT_MAX_STEPS, MAX_MAX_STEPS,
} from "../runtime/index.js";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
};

export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export type Format = "pretty" | "short" | "json";

export function printDiagnostics(io: Io, ds: Diagnostic[], sources: Map<string, string>, format: Format) {
  if (format === "json") return;
  const color = format === "pretty" && process.stderr.isTTY === true && !process.env.NO_COLOR;
  for (const d of ds) io.err(format === "pretty" ? renderPretty(d, sources, color) + "\n" : renderShort(d));
}

export function summary(ds: Diagnostic[]): string {
  const errors = ds.filter((d) => d.severity === "error").length;
  const warnings = ds.length - errors;
  return `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
}

export const checkAll = checkInputs;

/** checkAll, for verbs that need every input to check: no specs is a usage error, errors exit 1. */
export async function checkAllOrExit(io: Io, inputs: string[]) {
  const checked = await checkAll(inputs);
  const { found, sources, diagnostics } = checked;
  if (found.files.length === 0) {
    printDiagnostics(io, diagnostics, sources, "pretty");
    usage(io, "no spec files found");
  }
  if (hasErrors(diagnostics)) {
    printDiagnostics(io, diagnostics, sources, "pretty");
    io.err("fix the specs first");
    throw new ExitError(1);
  }
  return checked;
}

export function usage(io: Io, message: string): never {
  io.err(`envc: ${message}`);
  throw new ExitError(2);
}

/** A commander parser for an integer option of at least `min` (bad values are usage errors). */
export const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${v}'`);
  return n;
};

/** `--max-steps N`: the step budget of every tool call, 1 to MAX_MAX_STEPS (runtime/env.ts). */
export const maxStepsOption = (what: string) =>
  new Option("--max-steps <n>", `evaluation steps ${what} may take (default: the spec's limits { steps }, else ${DEFAULT_MAX_STEPS.toLocaleString("en-US")})`).argParser((v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_MAX_STEPS)
      throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_MAX_STEPS.toLocaleString("en-US")}, got '${v}'`);
    return n;
  });

export const formatOption = () =>
  new Option("--format <format>", "diagnostics as pretty (with source), short (file:line:col) or json").choices(["pretty", "short", "json"]).default("pretty");

export function formatDiff(diff: StateDiff): string {
  if (diffIsEmpty(diff)) return "state: unchanged";
  const lines = ["state changes:"];
  for (const [table, changes] of Object.entries(diff.tables)) {
    for (const [key, { before, after }] of Object.entries(changes)) {
      if (before === null) lines.push(`  + ${table}[${JSON.stringify(key)}] = ${stringifyOrdered(after)}`);
      else if (after === null) lines.push(`  - ${table}[${JSON.stringify(key)}]`);
      else {
        const b = before as Record<string, unknown>;
        const a = after as Record<string, unknown>;
        for (const field of new Set([...Object.keys(b), ...Object.keys(a)])) {
          const x = stringifyOrdered(b[field] ?? null);
          const y = stringifyOrdered(a[field] ?? null);
          if (x !== y) lines.push(`  ~ ${table}[${JSON.stringify(key)}].${field}: ${x} -> ${y}`);
        }
      }
    }
  }
  for (const [name, { before, after }] of Object.entries(diff.globals))
    lines.push(`  ~ ${name}: ${stringifyOrdered(before)} -> ${stringifyOrdered(after)}`);
  return lines.join("\n");
}

/**
 * Check a spec given as a file or a folder, with the `scenarios for` files beside it, and
 * exit with its diagnostics when it (or one of its scenario files) has errors.
 */
export async function loadSpec(io: Io, specArg: string, format: Format = "pretty"): Promise<CheckedSpec & { env: IEnv }> {
  let stat;
  try {
    stat = await fs.stat(specArg);
  } catch {
    usage(io, `no such spec: ${specArg}`);
  }
  const folder = stat.isDirectory() ? specArg : path.dirname(specArg);
  const found = await findSpecFiles([folder]);
  const inFolder = found.files.filter((f) => path.dirname(path.resolve(f)) === path.resolve(folder));
  const candidates = stat.isDirectory() ? inFolder : [...new Set([normalizePath(specArg), ...inFolder])];
  const checked: CheckedSpec[] = [];
  for (const f of candidates) checked.push(await checkFile(f));
  attachScenarioFiles(checked);
  let main: CheckedSpec | undefined;
  if (stat.isDirectory()) {
    const envs = checked.filter((c) => !c.scenariosFor);
    if (envs.length !== 1) usage(io, `${specArg} holds ${envs.length} spec files; name one`);
    main = envs[0]!;
  } else main = checked.find((c) => c.file === normalizePath(specArg))!;
  if (main.scenariosFor) usage(io, `${specArg} holds scenarios for ${main.scenariosFor.name.name}; name the spec itself`);
  const own = checked.filter((c) => c === main || (main!.scenarioFiles ?? []).includes(c.file));
  const diagnostics = own.flatMap((c) => c.diagnostics);
  if (!main.env || hasErrors(diagnostics)) {
    printDiagnostics(io, diagnostics, new Map(own.map((c) => [c.file, c.source])), format === "json" ? "short" : format);
    io.err(`${main.file}: ${summary(diagnostics)}; fix the spec first`);
    throw new ExitError(1);
  }
  return main as CheckedSpec & { env: IEnv };
}

/** Compile a spec in memory and create its environment from a state file. */
export async function loadEnvironment(
  io: Io,
  specArg: string,
  stateArg: string | undefined,
  options: EnvOptions,
  format: Format = "pretty",
): Promise<{ env: Environment; file: string; spec: CheckedSpec & { env: IEnv } }> {
  const spec = await loadSpec(io, specArg, format);
  const file = spec.file;
  const statePath = stateArg ?? path.join(path.dirname(file), "state.json");
  const initial = parseJsonInput(io, await readInput(io, statePath, stateArg ? "the state file" : "the state file (pass --state FILE)"), statePath);
  const env = createEnvironment(io, loadDefinition(spec.env), initial, statePath, spec.file, options);
  return { env, file, spec };
}

/** A file's text, or a usage error (exit 2) that says what could not be read and why. */
export async function readInput(io: Io, file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    usage(io, `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

/** JSON with its key order kept, or `file:line:col: message` and exit 2. */
export function parseJsonInput(io: Io, text: string, where: string): unknown {
  try {
    return parseJsonOrdered(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      io.err(`${where}:${err.line}:${err.column}: ${err.message}`);
      throw new ExitError(2);
    }
    throw err;
  }
}

/** An environment from a JSON state, or every problem with its JSON path and exit 1. */
export function createEnvironment(
  io: Io,
  def: EnvDefinition,
  initial: unknown,
  where: string,
  specFile: string,
  options: EnvOptions,
): Environment {
  try {
    return Environment.createFrom(def, initial, options);
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    io.err(`${where}: the state does not fit ${specFile}:`);
    for (const p of err.problems) io.err(`  ${p.path}: ${p.message}`);
    throw new ExitError(1);
  }
}

