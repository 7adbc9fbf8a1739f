// `envc compile` and `envc check`: check specs (with their `scenarios for` files), print the
// diagnostics, and for compile emit each environment into <out>/<spec>/ or, with --verify,
// compare what would be emitted with what is on disk. The only verbs that load the emitter
// (ts-morph and prettier), through compiler/project.ts.
import type { Command } from "commander";
import { toJson, hasErrors } from "../compiler/diagnostics.js";
import { emitChecked, writeOutput, staleFiles, envFolderName } from "../compiler/project.js";
import { type Io, type Format, ExitError, formatOption, checkAll, printDiagnostics, usage, summary } from "./common.js";

/** "8 specs" or "8 specs, 8 scenario files" */
function countOf(files: { scenariosFor?: unknown }[]): string {
  const scen = files.filter((f) => f.scenariosFor).length;
  const specs = files.length - scen;
  return `${specs} spec${specs === 1 ? "" : "s"}${scen ? `, ${scen} scenario file${scen === 1 ? "" : "s"}` : ""}`;
}

export function registerCompile(program: Command, io: Io) {
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
}

export function registerCheck(program: Command, io: Io) {
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
}
