// `envc verify`: check specs, their scenario files and JSONL datasets, run every scenario's
// verification, print the diagnostics and a summary (the report: stdout), optionally write
// the kept scenarios.
import type { Command } from "commander";
import { toJson, hasErrors, sortDiagnostics, type Diagnostic } from "../compiler/diagnostics.js";
import { writeAtomic } from "../compiler/project.js";
import { checkOutputFile } from "../util/output-files.js";
import { loadDataset, type DatasetResult, type DatasetNames } from "../compiler/dataset.js";
import { verifyAll, scenarioToJsonLine } from "../compiler/verify.js";
import { type Io, type Format, ExitError, formatOption, checkAll, printDiagnostics, usage, summary, readInput } from "./common.js";

export function registerVerify(program: Command, io: Io) {
  program
    .command("verify")
    .description("verify scenarios: valid initial state, checks false at the start, the solution works and makes them true, no vacuous check")
    .argument("<inputs...>", "spec files or folders (with their scenarios), and JSONL datasets (*.jsonl)")
    .option("--allow-initially-true", "report a check that already holds at the start as a warning, not an error")
    .option("--write-kept <file>", "write the scenarios that pass to this JSONL file (exit 0 even when some are dropped)")
    .addOption(formatOption())
    .action(async (inputs: string[], opts: { allowInitiallyTrue?: boolean; writeKept?: string; format: Format }) => {
      const datasetFiles = inputs.filter((i) => i.endsWith(".jsonl"));
      const specInputs = inputs.filter((i) => !i.endsWith(".jsonl"));
      if (specInputs.length === 0) usage(io, "name the specs the datasets belong to as well, e.g. `envc verify specs/bank data.jsonl`");
      if (opts.writeKept) await checkOutputFile(opts.writeKept); // before the work, not after it
      const { found, specs, sources, diagnostics } = await checkAll(specInputs);
      if (found.files.length === 0) {
        printDiagnostics(io, diagnostics, sources, opts.format);
        usage(io, "no spec files found");
      }
      const datasets: DatasetResult[] = [];
      // one set of names across the datasets: an id used in two of them is a duplicate too
      const names: DatasetNames = new Map();
      for (const file of datasetFiles) {
        const text = await readInput(io, file, "the dataset");
        const d = loadDataset(text, file, specs, names);
        datasets.push(d);
        sources.set(file, text);
        diagnostics.push(...d.diagnostics);
      }
      const results = verifyAll(specs, datasets, { allowInitiallyTrue: opts.allowInitiallyTrue });
      const scenarioDiagnostics: Diagnostic[] = results.flatMap((r) => r.verdicts.flatMap((v) => v.diagnostics));
      const all = sortDiagnostics([...diagnostics, ...scenarioDiagnostics]);
      printDiagnostics(io, all, sources, opts.format, "out"); // the report goes to stdout, as check's

      const verdicts = results.flatMap((r) => r.verdicts);
      const kept = verdicts.filter((v) => v.kept);
      const datasetLines = datasets.reduce((n, d) => n + d.lines, 0);
      const rejectedLines = datasetLines - datasets.reduce((n, d) => n + d.scenarios.length, 0);
      const total = verdicts.length + rejectedLines;
      if (opts.writeKept) {
        const lines = results.flatMap((r) => r.verdicts.filter((v) => v.kept).map((v) => scenarioToJsonLine(r.env, v.scenario, opts.writeKept!)));
        await writeAtomic(opts.writeKept, lines.map((l) => l + "\n").join(""));
      }
      if (opts.format === "json") {
        io.out(JSON.stringify({
          ok: !hasErrors(all),
          kept: kept.length,
          total,
          scenarios: verdicts.map((v) => ({ env: v.env, id: v.id, file: v.file, kept: v.kept, diagnostics: v.diagnostics.map(toJson) })),
          diagnostics: all.map(toJson),
        }, null, 2));
      } else {
        for (const r of results) {
          const k = r.verdicts.filter((v) => v.kept).length;
          io.out(`${r.env} (${r.spec}): ${k}/${r.verdicts.length} scenario${r.verdicts.length === 1 ? "" : "s"} pass`);
        }
        for (const v of verdicts.filter((x) => !x.kept)) {
          const first = v.diagnostics.find((d) => d.severity === "error")!;
          io.out(`dropped ${v.env}/${v.id}: ${first.code} ${first.message.split("\n")[0]}`);
        }
        if (rejectedLines) io.out(`dropped ${rejectedLines} dataset line${rejectedLines === 1 ? "" : "s"} that do not check (see the diagnostics above)`);
        if (opts.writeKept) io.out(`wrote ${kept.length} scenario${kept.length === 1 ? "" : "s"} to ${opts.writeKept}`);
        io.out(`verify: ${kept.length}/${total} scenarios kept; ${summary(all)}`);
      }
      const specErrors = hasErrors(diagnostics.filter((d) => !datasetFiles.includes(d.file)));
      if (specErrors || (!opts.writeKept && hasErrors(all))) throw new ExitError(1);
    });
}
