// The envc command line: parses arguments, calls the compiler and runtime, prints results.
// Exit codes: 0 success; 1 the input has errors (diagnostics, stale output, failed tool call);
// 2 bad usage or unreadable input; 70 an internal error in envc itself.
import { Command, CommanderError, Option } from "commander";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { renderPretty, renderShort, toJson, explain, hasErrors, CODES, type Diagnostic } from "../compiler/diagnostics.js";
import { findSpecFiles, checkFile, emitChecked, writeOutput, staleFiles, writeAtomic, envFolderName } from "../compiler/project.js";
import { loadDefinition } from "../compiler/load.js";
import {
  Environment, StateError, renderResult, RENDERERS, parseJsonOrdered, JsonSyntaxError, stringifyOrdered, diffIsEmpty,
  type RendererName, type StateDiff,
} from "../runtime/index.js";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
};

class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

type Format = "pretty" | "short" | "json";

function printDiagnostics(io: Io, ds: Diagnostic[], sources: Map<string, string>, format: Format) {
  if (format === "json") return;
  const color = format === "pretty" && process.stderr.isTTY === true && !process.env.NO_COLOR;
  for (const d of ds) io.err(format === "pretty" ? renderPretty(d, sources, color) + "\n" : renderShort(d));
}

function summary(ds: Diagnostic[]): string {
  const errors = ds.filter((d) => d.severity === "error").length;
  const warnings = ds.length - errors;
  return `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
}

async function checkAll(inputs: string[]) {
  const found = await findSpecFiles(inputs);
  const specs = [];
  for (const f of found.files) specs.push(await checkFile(f));
  const sources = new Map(specs.map((s) => [s.file, s.source]));
  const diagnostics = [...found.problems, ...specs.flatMap((s) => s.diagnostics)];
  return { found, specs, sources, diagnostics };
}

function usage(io: Io, message: string): never {
  io.err(`envc: ${message}`);
  throw new ExitError(2);
}

export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = new Command();
  program
    .name("envc")
    .description("Compile declarative .env specs into executable, verified tool environments for LLM agents.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `\nExit codes: 0 success, 1 errors in the input, 2 bad usage, 70 internal error.\nDocs: docs/language.md, docs/cli.md`);

  const formatOption = () => new Option("--format <format>", "diagnostics as pretty (with source), short (file:line:col) or json").choices(["pretty", "short", "json"]).default("pretty");

  program
    .command("compile")
    .description("check specs and emit TypeScript environments, zod schemas and tools.json into <out>/<spec>/")
    .argument("<inputs...>", "spec files or folders (searched for *.env; files named exactly .env are dotenv files and skipped)")
    .option("--out <dir>", "output folder", "generated")
    .addOption(formatOption())
    .option("--verify", "do not write; fail with a diff when the output on disk is stale")
    .action(async (inputs: string[], opts: { out: string; format: Format; verify?: boolean }) => {
      const { found, specs, sources, diagnostics } = await checkAll(inputs);
      printDiagnostics(io, diagnostics, sources, opts.format);
      if (found.files.length === 0 && found.problems.length) usage(io, "no spec files found");
      const folders = new Map<string, string>();
      for (const s of specs) {
        const folder = envFolderName(s.file);
        if (folders.has(folder)) usage(io, `${s.file} and ${folders.get(folder)} would both be written to ${opts.out}/${folder}; rename one`);
        folders.set(folder, s.file);
      }
      const results: { file: string; env?: string; tools?: number; written?: string[]; stale?: { file: string; diff: string }[] }[] = [];
      for (const spec of specs) {
        if (!spec.env || hasErrors(spec.diagnostics)) {
          results.push({ file: spec.file });
          continue;
        }
        const output = await emitChecked(spec, opts.out);
        const tools = spec.env.tools.filter((t) => t.kind !== "fn").length;
        if (opts.verify) {
          const stale = await staleFiles(output, opts.out);
          results.push({ file: spec.file, env: spec.env.name, tools, stale });
          if (opts.format !== "json")
            for (const s of stale) io.err(`stale: ${s.file} differs from what ${spec.file} compiles to:\n${s.diff}`);
        } else {
          const written = await writeOutput(output, opts.out);
          results.push({ file: spec.file, env: spec.env.name, tools, written });
          if (opts.format !== "json")
            io.out(`${spec.file} -> ${opts.out}/${output.folder}/ (${spec.env.name}, ${tools} tools${written.length ? "" : ", unchanged"})`);
        }
      }
      const failed = hasErrors(diagnostics) || results.some((r) => !r.env || (r.stale && r.stale.length > 0));
      if (opts.format === "json") {
        io.out(JSON.stringify({ ok: !failed, specs: results, diagnostics: diagnostics.map(toJson) }, null, 2));
      } else {
        const staleCount = results.reduce((n, r) => n + (r.stale?.length ?? 0), 0);
        io.err(`${specs.length} spec${specs.length === 1 ? "" : "s"}: ${summary(diagnostics)}${opts.verify ? `, ${staleCount} stale file${staleCount === 1 ? "" : "s"}` : ""}`);
        if (opts.verify && staleCount) io.err(`run \`envc compile ${inputs.join(" ")} --out ${opts.out}\` to update`);
      }
      if (failed) throw new ExitError(1);
    });

  program
    .command("check")
    .description("check specs without emitting anything")
    .argument("<inputs...>", "spec files or folders")
    .addOption(formatOption())
    .action(async (inputs: string[], opts: { format: Format }) => {
      const { found, specs, sources, diagnostics } = await checkAll(inputs);
      printDiagnostics(io, diagnostics, sources, opts.format);
      if (found.files.length === 0 && found.problems.length) usage(io, "no spec files found");
      if (opts.format === "json") io.out(JSON.stringify({ ok: !hasErrors(diagnostics), files: specs.map((s) => s.file), diagnostics: diagnostics.map(toJson) }, null, 2));
      else io.err(`${specs.length} spec${specs.length === 1 ? "" : "s"} checked: ${summary(diagnostics)}`);
      if (hasErrors(diagnostics)) throw new ExitError(1);
    });

  program
    .command("explain")
    .description("explain a diagnostic code, with an example")
    .argument("[code]", "a code like ENV2001; without one, list all codes")
    .action((code?: string) => {
      if (!code) {
        for (const [c, info] of Object.entries(CODES)) io.out(`${c}  ${info.severity.padEnd(7)}  ${info.title}`);
        return;
      }
      const text = explain(code);
      if (!text) usage(io, `unknown code '${code}' (run \`envc explain\` to list all codes)`);
      io.out(text);
    });

  program
    .command("call")
    .description("run one tool call on a JSON state; print the result and the state diff")
    .argument("<spec>", "a .env file, or a folder holding one")
    .argument("<tool>", "the tool to call")
    .argument("[args]", "arguments as a JSON object", "{}")
    .option("--state <file>", "initial state JSON (default: state.json next to the spec)")
    .addOption(new Option("--renderer <name>", "how to print the result").choices([...RENDERERS]).default("json"))
    .option("--no-checks", "do not check ensure, invariants and references after the call")
    .option("--seed <n>", "seed for new_id counters", (v) => Number.parseInt(v, 10))
    .option("--save <file>", "write the state after the call to this file")
    .addOption(formatOption())
    .action(async (specArg: string, tool: string, argsText: string, opts: { state?: string; renderer: RendererName; checks: boolean; seed?: number; save?: string; format: Format }) => {
      const { env } = await loadEnvironment(io, specArg, opts.state, { checks: opts.checks, seed: opts.seed }, opts.format);
      let args: unknown;
      try {
        args = JSON.parse(argsText);
      } catch (err) {
        usage(io, `arguments are not valid JSON: ${(err as Error).message}. Example: '{"order_id": "O1"}'`);
      }
      const before = env.snapshot();
      const result = env.call(tool, args);
      const diff = before.diff(env);
      if (opts.format === "json") {
        io.out(stringifyOrdered({ result, diff }, 2));
      } else {
        io.out(renderResult(result, opts.renderer));
        if (!result.ok) io.err(`${result.kind}${result.location ? ` at ${result.location}` : ""}: ${result.error}`);
        io.out(formatDiff(diff));
      }
      if (opts.save) await writeAtomic(opts.save, stringifyOrdered(env.toJSON(), 2) + "\n");
      if (!result.ok) throw new ExitError(1);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`envc: internal error: ${(err as Error).message ?? String(err)} (this is a bug in envc; please report it)`);
    return 70;
  }
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

async function resolveSpec(io: Io, specArg: string): Promise<string> {
  let stat;
  try {
    stat = await fs.stat(specArg);
  } catch {
    usage(io, `no such spec: ${specArg}`);
  }
  if (!stat.isDirectory()) return specArg;
  const found = await findSpecFiles([specArg]);
  if (found.files.length !== 1) usage(io, `${specArg} holds ${found.files.length} spec files; name one`);
  return found.files[0]!;
}

/** Compile a spec in memory and create its environment from a state file. */
export async function loadEnvironment(
  io: Io,
  specArg: string,
  stateArg: string | undefined,
  options: { checks?: boolean; seed?: number },
  format: Format = "pretty",
): Promise<{ env: Environment; file: string }> {
  const file = await resolveSpec(io, specArg);
  const spec = await checkFile(file);
  if (!spec.env || hasErrors(spec.diagnostics)) {
    printDiagnostics(io, spec.diagnostics, new Map([[spec.file, spec.source]]), format === "json" ? "short" : format);
    io.err(`${spec.file}: ${summary(spec.diagnostics)}; fix the spec first`);
    throw new ExitError(1);
  }
  const statePath = stateArg ?? path.join(path.dirname(file), "state.json");
  let text: string;
  try {
    text = await fs.readFile(statePath, "utf8");
  } catch (err) {
    usage(io, `cannot read the state file ${statePath}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}${stateArg ? "" : " (pass --state FILE)"}`);
  }
  let initial: unknown;
  try {
    initial = parseJsonOrdered(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      io.err(`${statePath}:${err.line}:${err.column}: ${err.message}`);
      throw new ExitError(2);
    }
    throw err;
  }
  const definition = loadDefinition(spec.env);
  try {
    return { env: Environment.createFrom(definition, initial, options), file };
  } catch (err) {
    if (err instanceof StateError) {
      io.err(`${statePath}: the state does not fit ${spec.file}:`);
      for (const p of err.problems) io.err(`  ${p.path}: ${p.message}`);
      throw new ExitError(1);
    }
    throw err;
  }
}

// Allow `tsx cli/main.ts ...` during development as well as the bin entry.
import { pathToFileURL } from "node:url";
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
