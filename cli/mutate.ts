// `envc mutate`: mutation testing of a spec. Generates mutants of its tools and helpers, fuzzes
// each and verifies its scenarios; prints the mutation score (killed / scored), the counts per
// operator and every survivor with its location. A low score is information: exit 0.
import { Option, type Command } from "commander";
import { checkFile } from "../compiler/project.js";
import { seedStates } from "../compiler/fuzz/seeds.js";
import { BaselineError, OPERATORS, mutateSpec, type MutationOperator, type MutationReport } from "../compiler/fuzz/mutate.js";
import { stringifyOrdered } from "../runtime/index.js";
import { ExamplesError, loadExamples, defaultExamplesFile, type LoadedExample } from "../compiler/fuzz/examples.js";
import { existsSync } from "node:fs";
import { type Io, ExitError, int, loadSpec, usage } from "./common.js";

interface MutateCliOptions {
  seed: number;
  runs: number;
  maxCalls: number;
  maxMutants?: number;
  operators?: string;
  generated: boolean;
  examples: string | boolean;
  format: "pretty" | "json";
}

export function registerMutate(program: Command, io: Io) {
  program
    .command("mutate")
    .description("mutation testing: mutate the spec's tools; fuzz each mutant, verify its scenarios and replay its recorded examples; print the mutation score and the survivors")
    .argument("<spec>", "a .env file, or a folder holding one (its `scenarios for` files are used)")
    .option("--seed <n>", "fuzz seed, and the seed of the sample taken with --max-mutants", int(0), 1)
    .option("--runs <n>", "fuzz runs per mutant", int(1), 100)
    .option("--max-calls <n>", "longest fuzz call sequence", int(1), 20)
    .option("--max-mutants <n>", "run at most N mutants, a sample chosen by --seed", int(1))
    .option("--operators <list>", `comma-separated operators (default all): ${OPERATORS.join(", ")}`)
    .option("--no-generated", "fuzz only from the sample and scenario states, not from generated ones")
    .option("--examples <file>", "recorded examples to replay on each mutant (default: examples.jsonl beside the spec, when there is one)")
    .option("--no-examples", "do not replay recorded examples")
    .addOption(new Option("--format <format>", "human text or one JSON document").choices(["pretty", "json"]).default("pretty"))
    .action(async (specArg: string, opts: MutateCliOptions) => {
      let operators: MutationOperator[] | undefined;
      if (opts.operators !== undefined) {
        const names = opts.operators.split(",").map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !(OPERATORS as readonly string[]).includes(n));
        if (unknown.length || names.length === 0)
          usage(io, `unknown operator${unknown.length === 1 ? "" : "s"} '${unknown.join(", ")}' (known: ${OPERATORS.join(", ")})`);
        operators = names as MutationOperator[];
      }
      const spec = await loadSpec(io, specArg, opts.format === "json" ? "json" : "pretty");
      const scenarioFiles = [];
      for (const f of spec.scenarioFiles ?? []) scenarioFiles.push(await checkFile(f));
      const { states, skipped } = seedStates(spec.file, spec.env);
      for (const sk of skipped) io.err(`skipped as a seed state: ${sk}`);
      const examplesFile = typeof opts.examples === "string" ? opts.examples : opts.examples ? defaultExamplesFile(spec.file) : undefined;
      let examples: LoadedExample[] | undefined;
      if (examplesFile && (typeof opts.examples === "string" || existsSync(examplesFile))) {
        try {
          examples = loadExamples(examplesFile);
        } catch (err) {
          if (!(err instanceof ExamplesError)) throw err;
          io.err(`envc mutate: ${err.message}`);
          throw new ExitError(2);
        }
      }
      let report: MutationReport;
      try {
        report = mutateSpec(
          { file: spec.file, source: spec.source, env: spec.env, scenarioFiles, seedStates: states, ...(examples ? { examples } : {}) },
          {
            seed: opts.seed, runs: opts.runs, maxCalls: opts.maxCalls, generated: opts.generated,
            ...(opts.maxMutants ? { maxMutants: opts.maxMutants } : {}),
            ...(operators ? { operators } : {}),
            onProgress: (done, total) => {
              if (done % 10 === 0 || done === total) io.err(`mutate: ${done}/${total} mutants`);
            },
          },
        );
      } catch (err) {
        if (!(err instanceof BaselineError)) throw err;
        io.err(`envc mutate: ${err.message}`);
        io.err("the original spec must pass fuzzing and verify before its mutants mean anything");
        throw new ExitError(1);
      }
      if (opts.format === "json") io.out(stringifyOrdered(report, 2));
      else printReport(io, report);
    });
}

const pct = (k: number, n: number) => (n ? `${((100 * k) / n).toFixed(1)}%` : "-");

function printReport(io: Io, r: MutationReport) {
  const ran = r.results.length;
  io.out(`${r.env} (${r.spec}): ${ran} mutant${ran === 1 ? "" : "s"}${ran < r.generated ? ` (a sample of ${r.generated})` : ""} in ${(r.ms / 1000).toFixed(1)} s`);
  const head = ["operator", "mutants", "killed", "survived", "stillborn", "equivalent", "score"];
  const rows = Object.entries(r.byOperator).map(([op, c]) => [
    op, String(c.mutants), String(c.killed), String(c.survived), String(c.stillborn), String(c.equivalent), pct(c.killed, c.killed + c.survived),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  io.out(`  ${line(head)}`);
  io.out(`  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) io.out(`  ${line(row)}`);
  const survivors = r.results.filter((x) => x.status === "survived");
  if (survivors.length) {
    io.out(`survivors (${survivors.length}):`);
    for (const s of survivors) io.out(`  ${s.location} ${s.operator}: ${s.description}`);
  }
  const equivalent = r.results.filter((x) => x.status === "equivalent");
  if (equivalent.length) {
    io.out(`equivalent, not scored (${equivalent.length}):`);
    for (const s of equivalent) io.out(`  ${s.location} ${s.operator}: ${s.description} (${s.reason})`);
  }
  const killers = { fuzz: 0, scenario: 0, example: 0 };
  for (const x of r.results) if (x.killedBy) killers[x.killedBy.by]++;
  io.out(`killed by: fuzzing ${killers.fuzz}, scenarios ${killers.scenario}, examples ${killers.example}`);
  const stillborn = r.results.filter((x) => x.status === "stillborn").length;
  io.out(`mutation score: ${r.killed}/${r.scored} (${pct(r.killed, r.scored)}) for ${r.spec}` +
    ` (${stillborn} stillborn, ${equivalent.length} equivalent, not scored)`);
}
