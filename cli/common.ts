// What the CLI verbs share: output streams, exit codes as exceptions (from io.ts), diagnostics
// printing, finding and checking specs (with their `scenarios for` files), loading an
// environment through the cache of compiled specs, loading the environments that serve and
// rollout run (server/load.ts, imported when used). Only argument handling and printing live
// in cli/; the work is in compiler/ and runtime/. The parser, checker and emitters are
// imported only when a spec is compiled: a cache hit loads the runtime and nothing else.
import { InvalidArgumentError, Option } from "commander";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { renderPretty, renderShort, hasErrors, type Diagnostic } from "../compiler/diagnostics.js";
import { checkInputs, findSpecFiles, checkFile, normalizePath } from "../compiler/project.js";
import type { CheckedSpec } from "../compiler/pipeline.js";
import type { IEnv, IScenario } from "../compiler/ir.js";
import type { CompiledEnv } from "../compiler/emit-definition.js";
import { instantiate, type LoadedEnv } from "../compiler/instantiate.js";
import { cacheDir, cacheKey, readEntry, throughCache, writeEntry, type CacheOptions } from "../compiler/spec-cache.js";
import type { LoadResult } from "../server/load.js";
import {
  Environment, StateError, parseJsonOrdered, JsonSyntaxError, stringifyOrdered, orderedKeys, diffIsEmpty, type StateDiff,
  type EnvDefinition, type EnvOptions, DEFAULT_MAX_STEPS, MAX_MAX_STEPS,
} from "../runtime/index.js";
import { type Io, type Format, ExitError, usage, readStdin } from "./io.js";

export { type Io, type Format, defaultIo, ExitError, usage, userError, int, num, formatOption, noCacheOption } from "./io.js";

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

/** `--max-steps N`: the step budget of every tool call, 1 to MAX_MAX_STEPS (runtime/env.ts). */
export const maxStepsOption = (what: string) =>
  new Option("--max-steps <n>", `evaluation steps ${what} may take (default: the spec's limits { steps }, else ${DEFAULT_MAX_STEPS.toLocaleString("en-US")})`).argParser((v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_MAX_STEPS)
      throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_MAX_STEPS.toLocaleString("en-US")}, got '${v}'`);
    return n;
  });

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

/** A regular file's text; undefined for anything else (reading a FIFO named x.env would wait forever) or a file that cannot be read. */
async function readRegular(file: string): Promise<string | undefined> {
  try {
    return (await fs.stat(file)).isFile() ? await fs.readFile(file, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

/** A spec argument resolved: its main file and the texts of the regular `.env` files in its folder. */
interface SpecFolder {
  main: string;
  texts: Map<string, string>;
}

/**
 * The spec a spec argument names (a file, or the one spec in a folder) and the texts of the
 * `.env` files beside it, where its `scenarios for` files are. Which file is which is decided
 * from each file's first words, not a parse.
 */
async function specFolder(io: Io, specArg: string): Promise<SpecFolder> {
  let stat;
  try {
    stat = await fs.stat(specArg);
  } catch {
    usage(io, `no such spec: ${specArg}`);
  }
  const folder = stat.isDirectory() ? specArg : path.dirname(specArg);
  const found = await findSpecFiles([folder]);
  const inFolder = found.files.filter((f) => path.dirname(path.resolve(f)) === path.resolve(folder));
  const texts = new Map<string, string>();
  for (const f of inFolder) {
    const text = await readRegular(f);
    if (text !== undefined) texts.set(f, text);
  }
  let main: string;
  if (stat.isDirectory()) {
    const envs = inFolder.filter((f) => !texts.has(f) || !scenariosForName(texts.get(f)!));
    if (envs.length !== 1) usage(io, `${specArg} holds ${envs.length} spec files; name one`);
    main = envs[0]!;
  } else {
    main = normalizePath(specArg);
    if (!texts.has(main)) {
      const text = await readRegular(main);
      if (text !== undefined) texts.set(main, text);
    }
  }
  return { main, texts };
}

/**
 * Check a spec given as a file or a folder, with the `scenarios for` files of its environment
 * beside it, and exit with its diagnostics when it (or one of those) has errors. Only those
 * files are parsed: an unrelated broken `.env` in the same folder does not stop it. `known`:
 * what specFolder found (not looked up again).
 */
export async function loadSpec(io: Io, specArg: string, format: Format = "pretty", known?: SpecFolder): Promise<CheckedSpec & { env: IEnv }> {
  const { main: mainFile, texts } = known ?? (await specFolder(io, specArg));
  const main = await checkFile(mainFile, texts.get(mainFile));
  if (main.scenariosFor) usage(io, `${specArg} holds scenarios for ${main.scenariosFor.name.name}; name the spec itself`);
  const checked: CheckedSpec[] = [main];
  const envName = main.env?.name;
  if (envName)
    for (const [f, text] of texts) if (f !== mainFile && scenariosForName(text) === envName) checked.push(await checkFile(f, text));
  const { attachScenarioFiles } = await import("../compiler/pipeline.js");
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

/** Where the cache of compiled specs is for this run (nowhere when `enabled` is false), and its log: ENVC_DEBUG=cache prints what it does. */
export function cacheOptions(io: Io, enabled: boolean): CacheOptions {
  const debug = (process.env.ENVC_DEBUG ?? "").split(",").map((s) => s.trim());
  return {
    dir: enabled ? cacheDir() : undefined,
    ...(debug.includes("cache") || debug.includes("all") ? { log: (line: string) => io.err(`envc: ${line}`) } : {}),
  };
}

export interface CompiledSpecOptions {
  /** use the cache of compiled specs (the verbs' --no-cache turns it off) */
  cache: boolean;
  /** files besides the spec's folder that the result depends on (a dataset), path and text */
  extraFiles?: [string, string][];
  /** scenarios to compile with the spec's own (a dataset's); keep: false when the result must not be cached (the dataset has errors) */
  extraScenarios?: (spec: CheckedSpec & { env: IEnv }) => Promise<{ scenarios: IScenario[]; keep: boolean }>;
}

/**
 * A spec's environment, live: from the cache when the spec, the files beside it and envc are
 * unchanged, else checked (diagnostics and exit 1 on errors, as loadSpec), compiled and cached.
 */
export async function loadCompiledSpec(
  io: Io,
  specArg: string,
  format: Format,
  options: CompiledSpecOptions,
): Promise<{ loaded: LoadedEnv; fromCache: boolean; states?: StateCache }> {
  // the key is made of exactly the texts compiled, so an edit during the compile cannot leave
  // an entry that does not match its key
  const known = await specFolder(io, specArg);
  const files = [...known.texts, ...(options.extraFiles ?? [])];
  const key = cacheKey(`spec\0${normalizePath(specArg)}`, files);
  // a spec that could not be read: loadSpec reports it; nothing is cached
  const cache = cacheOptions(io, options.cache && known.texts.has(known.main));
  const { value, fromCache } = await throughCache<CompiledEnv>(key, cache, async () => {
    const spec = await loadSpec(io, specArg, format, known);
    const extra = options.extraScenarios ? await options.extraScenarios(spec) : { scenarios: [], keep: true };
    const { compiledEnv } = await import("../compiler/emit-definition.js");
    return { value: compiledEnv(spec.env, [...spec.env.scenarios, ...extra.scenarios]), keep: extra.keep };
  });
  return { loaded: instantiate(value), fromCache, ...(cache.dir ? { states: { spec: key, cache } } : {}) };
}

/** Where validated states of one compiled spec are kept: under its cache key, in its cache. */
export interface StateCache {
  spec: string;
  cache: CacheOptions;
}

/**
 * An environment from a state file's text: parsed and validated (exit 2 on bad JSON, 1 on a
 * state that does not fit, as parseJsonInput and createEnvironment), or, when this text was
 * validated against this compiled spec before, rebuilt from the cache of validated states
 * without parsing and checking it again (Environment.fromValidated). A 1.3 MB state's schema,
 * reference and invariant checks were most of a whole `envc replay`.
 */
export async function stateEnvironment(
  io: Io,
  loaded: LoadedEnv,
  text: string,
  where: string,
  options: EnvOptions,
  states: StateCache | undefined,
): Promise<Environment> {
  const key = states ? cacheKey(`state\0${states.spec}`, [["", text]]) : undefined;
  if (key) {
    const cached = await readEntry<Record<string, unknown>>(key, states!.cache);
    if (cached !== undefined && cached !== null && typeof cached === "object") return Environment.fromValidated(loaded.def, cached, options);
  }
  const env = createEnvironment(io, loaded.def, parseJsonInput(io, text, where), where, loaded.file, options);
  if (key) {
    // kept only when its JSON gives it back exactly (a -0 would come back as 0)
    const state = env.toJSON();
    const again = parseJsonOrdered(stringifyOrdered(state));
    if (sameJson(state, again)) await writeEntry(key, state, states!.cache);
  }
  return env;
}

/** Equal JSON values, numbers by Object.is, objects' keys in the same order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameJson(x, (b as unknown[])[i]));
  const ka = orderedKeys(a);
  const kb = orderedKeys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Load a spec (through the cache) and create its environment from a state file. */
export async function loadEnvironment(
  io: Io,
  specArg: string,
  stateArg: string | undefined,
  options: EnvOptions & { cache?: boolean },
  format: Format = "pretty",
): Promise<{ env: Environment; file: string; loaded: LoadedEnv }> {
  const { loaded, states } = await loadCompiledSpec(io, specArg, format, { cache: options.cache ?? true });
  const file = loaded.file;
  const statePath = stateArg ?? path.join(path.dirname(file), "state.json");
  const text = await readInput(io, statePath, stateArg ? "the state file" : "the state file (pass --state FILE)");
  const env = await stateEnvironment(io, loaded, text, statePath, { checks: options.checks, seed: options.seed, maxSteps: options.maxSteps }, states);
  return { env, file, loaded };
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

/**
 * The environments of spec files, folders and datasets (server/load.ts), or the diagnostics
 * printed and an exit: 2 when no spec is found or a dataset is unreadable, 1 when a spec or
 * dataset has errors. For every verb that serves loaded environments (serve, rollout); `cache`:
 * take unchanged specs from the cache of compiled specs.
 */
export async function loadOrExit(io: Io, inputs: string[], verb: string, fixWith: string, cache = true): Promise<LoadResult> {
  // imported here, not at the top: the other verbs never need server/
  const { loadServedEnvs } = await import("../server/load.js");
  let loaded: LoadResult;
  try {
    loaded = await loadServedEnvs(inputs, cacheOptions(io, cache));
  } catch (err) {
    usage(io, (err as Error).message);
  }
  const { diagnostics, sources } = loaded;
  if (loaded.specFiles === 0) {
    printDiagnostics(io, diagnostics, sources, "short");
    usage(io, "no spec files found");
  }
  if (hasErrors(diagnostics)) {
    printDiagnostics(io, diagnostics, sources, "pretty");
    io.err(`envc ${verb}: ${summary(diagnostics)}; fix the inputs first (${fixWith})`);
    throw new ExitError(1);
  }
  return loaded;
}
