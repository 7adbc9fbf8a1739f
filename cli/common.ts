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
  /** all of standard input (for `-` arguments); tests pass their own */
  stdin?: () => Promise<string>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  stdin: readStdin,
};

/**
 * A tool call's arguments for `envc call`: the positional JSON text, `--args TEXT`, or the
 * contents of `--args-file FILE`; `-` in any of them reads standard input. Invalid JSON is a
 * usage error naming the file, line and column, with an example.
 */
export async function readCallArgs(io: Io, positional: string, opts: { args?: string; argsFile?: string }): Promise<unknown> {
  const given = [positional !== "{}" ? "[args]" : "", opts.args !== undefined ? "--args" : "", opts.argsFile !== undefined ? "--args-file" : ""].filter(Boolean);
  if (given.length > 1) usage(io, `give the arguments once: ${given.join(" and ")} both name them`);
  const fromText = opts.args ?? positional;
  const file = opts.argsFile ?? (fromText === "-" ? "-" : undefined);
  let text: string;
  let where = "";
  if (file === "-") {
    text = await (io.stdin ?? readStdin)();
    where = "<stdin>";
  } else if (file !== undefined) {
    text = await readInput(io, file, "the arguments file");
    where = file;
  } else text = fromText;
  text = text.replace(/^\uFEFF/, "");
  try {
    return parseJsonOrdered(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    usage(io, `arguments are not valid JSON${where ? ` in ${where}` : ""}: ${err.message}. Example: '{"order_id": "O1"}'`);
  }
}

export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export type Format = "pretty" | "short" | "json";

/**
 * Print diagnostics (none for json: the verb prints its JSON document). `to`: stderr for
 * verbs whose stdout is their output (compile, call); stdout for check and verify, whose
 * diagnostics are the report (so that `envc check x > report.txt` holds it).
 */
export function printDiagnostics(io: Io, ds: Diagnostic[], sources: Map<string, string>, format: Format, to: "err" | "out" = "err") {
  if (format === "json") return;
  const stream = to === "out" ? process.stdout : process.stderr;
  const color = format === "pretty" && stream.isTTY === true && !process.env.NO_COLOR;
  for (const d of ds) io[to](format === "pretty" ? renderPretty(d, sources, color) + "\n" : renderShort(d));
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

/** A problem with the user's files or system (an output that cannot be written): `envc: message`, exit 2. */
export function userError(io: Io, message: string): number {
  io.err(`envc: ${message}`);
  return 2;
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
 * The environment a `scenarios for Name` file belongs to, read from its first words (after
 * comments), or undefined for any other text. A look at the text, not a parse, so that
 * deciding which files a spec needs never parses the unrelated ones.
 */
export function scenariosForName(text: string): string | undefined {
  const m = /^\uFEFF?(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*scenarios\s+for\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(text);
  return m?.[1];
}

/**
 * Check a spec given as a file or a folder, with the `scenarios for` files of its environment
 * beside it, and exit with its diagnostics when it (or one of those) has errors. Only those
 * files are parsed: an unrelated broken `.env` in the same folder does not stop it.
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
  const texts = new Map<string, string | undefined>();
  // regular files only: reading a FIFO named x.env would wait forever
  const readRegular = async (f: string) => ((await fs.stat(f)).isFile() ? fs.readFile(f, "utf8") : undefined);
  for (const f of inFolder) texts.set(f, await readRegular(f).catch(() => undefined));
  let mainFile: string;
  if (stat.isDirectory()) {
    const envs = inFolder.filter((f) => texts.get(f) === undefined || !scenariosForName(texts.get(f)!));
    if (envs.length !== 1) usage(io, `${specArg} holds ${envs.length} spec files; name one`);
    mainFile = envs[0]!;
  } else mainFile = normalizePath(specArg);
  const main = await checkFile(mainFile);
  if (main.scenariosFor) usage(io, `${specArg} holds scenarios for ${main.scenariosFor.name.name}; name the spec itself`);
  const checked: CheckedSpec[] = [main];
  const envName = main.env?.name;
  if (envName)
    for (const f of inFolder)
      if (f !== mainFile && texts.get(f) !== undefined && scenariosForName(texts.get(f)!) === envName) checked.push(await checkFile(f));
  attachScenarioFiles(checked);
  const own = checked.filter((c) => c === main || (main.scenarioFiles ?? []).includes(c.file));
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

