// The envc command line: parses arguments, calls the compiler and runtime, prints results.
// Exit codes: 0 success; 1 the input has errors (diagnostics, stale output, failed tool call);
// 2 bad usage or unreadable input; 70 an internal error in envc itself.
import { Command, CommanderError, Option } from "commander";
import * as path from "node:path";
import { toJson, explain, hasErrors, CODES } from "../compiler/diagnostics.js";
import { emitChecked, writeOutput, staleFiles, writeAtomic, envFolderName } from "../compiler/project.js";
import { OutputError, checkOutputFile } from "../compiler/output-files.js";
import { renderResult, RENDERERS, stringifyOrdered, type RendererName } from "../runtime/index.js";
import {
  type Io, type Format, defaultIo, ExitError, formatOption, maxStepsOption, checkAll, printDiagnostics, usage, summary, loadEnvironment, formatDiff, int,
  userError, readCallArgs,
} from "./common.js";
import { registerVerify } from "./verify.js";
import { registerReplay } from "./replay.js";
import { registerFuzz } from "./fuzz.js";
import { registerMutate } from "./mutate.js";
import { registerExamples } from "./examples.js";
import { registerSynth } from "./synth.js";
import { registerScen } from "./scen.js";
import { registerServe } from "./serve.js";
import { registerExport } from "./export.js";
import { registerRollout } from "./rollout.js";

export type { Io } from "./common.js";
export { formatDiff, loadEnvironment } from "./common.js";

/** "8 specs" or "8 specs, 8 scenario files" */
function countOf(files: { scenariosFor?: unknown }[]): string {
  const scen = files.filter((f) => f.scenariosFor).length;
  const specs = files.length - scen;
  return `${specs} spec${specs === 1 ? "" : "s"}${scen ? `, ${scen} scenario file${scen === 1 ? "" : "s"}` : ""}`;
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
      const scenarioFileErrors = (spec: (typeof specs)[number]) =>
        (spec.scenarioFiles ?? []).some((f) => hasErrors(specs.find((s) => s.file === f)?.diagnostics ?? []));
      for (const s of specs) {
        if (s.scenariosFor) continue;
        const folder = envFolderName(s.file);
        if (folders.has(folder)) usage(io, `${s.file} and ${folders.get(folder)} would both be written to ${opts.out}/${folder}; rename one`);
        folders.set(folder, s.file);
      }
      const results: { file: string; env?: string; tools?: number; written?: string[]; stale?: { file: string; diff: string }[] }[] = [];
      for (const spec of specs) {
        if (spec.scenariosFor) continue; // compiled into the scenarios of its environment
        if (!spec.env || hasErrors(spec.diagnostics) || scenarioFileErrors(spec)) {
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
        io.err(`${countOf(specs)}: ${summary(diagnostics)}${opts.verify ? `, ${staleCount} stale file${staleCount === 1 ? "" : "s"}` : ""}`);
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
      if (found.files.length === 0 && found.problems.length) {
        printDiagnostics(io, diagnostics, sources, opts.format); // why nothing was found: with the usage error
        usage(io, "no spec files found");
      }
      printDiagnostics(io, diagnostics, sources, opts.format, "out"); // the report: stdout
      if (opts.format === "json") io.out(JSON.stringify({ ok: !hasErrors(diagnostics), files: specs.map((s) => s.file), diagnostics: diagnostics.map(toJson) }, null, 2));
      else io.out(`${countOf(specs)} checked: ${summary(diagnostics)}`);
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
    .argument("[args]", "arguments as a JSON object; - reads them from stdin", "{}")
    .option("--args <json>", "the arguments, instead of the positional [args]; - reads them from stdin")
    .option("--args-file <file>", "read the arguments (a JSON object) from this file; - is stdin")
    .option("--state <file>", "initial state JSON (default: state.json next to the spec)")
    .addOption(new Option("--renderer <name>", "how to print the result").choices([...RENDERERS]).default("json"))
    .option("--no-checks", "do not check ensure, invariants and references after the call")
    .option("--seed <n>", "seed for new_id counters", int(0))
    .option("--save <file>", "write the state after the call to this file")
    .addOption(maxStepsOption("the call"))
    .addOption(formatOption())
    .action(async (specArg: string, tool: string, argsText: string, opts: { args?: string; argsFile?: string; state?: string; renderer: RendererName; checks: boolean; seed?: number; save?: string; maxSteps?: number; format: Format }) => {
      const args = await readCallArgs(io, argsText, opts);
      if (opts.save) await checkOutputFile(opts.save); // before the call: a --save that cannot be written is refused up front
      const { env } = await loadEnvironment(io, specArg, opts.state, { checks: opts.checks, seed: opts.seed, ...(opts.maxSteps ? { maxSteps: opts.maxSteps } : {}) }, opts.format);
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

  registerVerify(program, io);
  registerReplay(program, io);
  registerFuzz(program, io);
  registerMutate(program, io);
  registerExamples(program, io);
  registerSynth(program, io);
  registerScen(program, io);
  registerServe(program, io);
  registerRollout(program, io);
  registerExport(program, io);

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof OutputError) return userError(io, err.message);
    io.err(`envc: internal error: ${(err as Error).message ?? String(err)} (this is a bug in envc; please report it)`);
    return 70;
  }
}

// Allow `tsx cli/main.ts ...` during development as well as the bin entry.
import { pathToFileURL } from "node:url";
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
