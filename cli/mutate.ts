// `envc mutate`: mutation testing of a spec. Generates mutants of its tools and helpers and
// checks each against all the spec's evidence (recorded examples, scenarios, scenario datasets,
// fuzzing; see compiler/fuzz/evidence.ts); prints the mutation score (killed / scored), the
// counts per operator, what killed each mutant and every survivor with its location. A low
// score is information: exit 0. A spec whose original already fails fuzzing is measured against
// its findings (compiler/fuzz/baseline.ts), which the report lists first.
import { Option, type Command } from "commander";
import { BaselineError, OPERATORS, mutateSpec, type MutationOperator, type MutationReport } from "../compiler/fuzz/mutate.js";
import { EvidenceError, SpecError, gatherEvidence } from "../compiler/fuzz/evidence.js";
import { stringifyOrdered } from "../runtime/index.js";
import { type Io, ExitError, int, loadSpec, printDiagnostics, usage } from "./common.js";

interface MutateCliOptions {
  seed: number;
  runs: number;
  maxCalls: number;
  maxMutants?: number;
  operators?: string;
  generated: boolean;
  /** a file (--examples FILE), false (--no-examples), or undefined: examples.jsonl beside the spec */
  examples?: string | boolean;
  dataset: string[];
  datasets: boolean;
  format: "pretty" | "json";
}

export function registerMutate(program: Command, io: Io) {
  program
    .command("mutate")
    .description("mutation testing: mutate the spec's tools; check each mutant against all the evidence (recorded examples, scenarios, scenario datasets, fuzzing); print the mutation score, what killed each mutant and the survivors")
    .argument("<spec>", "a .env file, or a folder holding one (the `scenarios for` files under its folder are used)")
    .option("--seed <n>", "fuzz seed, and the seed of the sample taken with --max-mutants", int(0), 1)
    .option("--runs <n>", "fuzz runs per mutant", int(1), 100)
    .option("--max-calls <n>", "longest fuzz call sequence", int(1), 20)
    .option("--max-mutants <n>", "run at most N mutants, a sample chosen by --seed", int(1))
    .option("--operators <list>", `comma-separated operators (default all): ${OPERATORS.join(", ")}`)
    .option("--no-generated", "fuzz only from the sample and scenario states, not from generated ones")
    .option("--examples <file>", "recorded examples to replay on each mutant (default: examples.jsonl beside the spec, when there is one)")
    .option("--no-examples", "do not replay recorded examples")
    .option("--dataset <file>", "a JSONL scenario dataset (as envc scen writes) to verify on each mutant; repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--no-datasets", "do not look for scenario datasets beside the spec (files named with --dataset are still used)")
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
      // commander leaves `examples` undefined when neither --examples nor --no-examples is given
      const examples = opts.examples === false ? false : typeof opts.examples === "string" ? opts.examples : undefined;
      let gathered;
      try {
        gathered = await gatherEvidence(spec.file, { examples, datasets: opts.dataset, findDatasets: opts.datasets }, spec.source);
      } catch (err) {
        if (err instanceof EvidenceError) {
          io.err(`envc mutate: ${err.message}`);
          throw new ExitError(2);
        }
        if (err instanceof SpecError) {
          printDiagnostics(io, err.diagnostics, err.sources, opts.format === "json" ? "short" : "pretty");
          io.err(`envc mutate: ${err.message}; fix them first`);
          throw new ExitError(1);
        }
        throw err;
      }
      for (const n of gathered.notes) io.err(n);
      let report: MutationReport;
      try {
        report = mutateSpec(gathered.subject, {
          seed: opts.seed, runs: opts.runs, maxCalls: opts.maxCalls, generated: opts.generated,
          ...(opts.maxMutants ? { maxMutants: opts.maxMutants } : {}),
          ...(operators ? { operators } : {}),
          onProgress: (done, total) => {
            if (done % 10 === 0 || done === total) io.err(`mutate: ${done}/${total} mutants`);
          },
        });
      } catch (err) {
        if (!(err instanceof BaselineError)) throw err;
        io.err(`envc mutate: ${err.message}`);
        io.err("the original spec must pass all its evidence before its mutants mean anything");
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
  if (r.known?.length) {
    io.out(`the original already fails fuzzing (${r.known.length === 1 ? "1 finding" : `${r.known.length} findings`}); mutants were measured against it:` +
      " killed by fuzzing only for another finding, or when a finding's calls replay differently");
    for (const k of r.known) io.out(`  ${k.message}${k.location ? ` (at ${k.location})` : ""}; ${k.calls} call${k.calls === 1 ? "" : "s"}; run envc fuzz ${r.spec}`);
  }
  io.out(`  ${line(head)}`);
  io.out(`  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) io.out(`  ${line(row)}`);
  const killed = r.results.filter((x) => x.status === "killed");
  if (killed.length) {
    io.out(`killed (${killed.length}):`);
    for (const s of killed) io.out(`  ${s.location} ${s.operator}: ${s.description}: killed by ${s.killedBy!.evidence}`);
  }
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
  const e = r.evidence;
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const parts = [
    e.examples ? `${plural(e.examples, "recorded example")} (${e.examplesFile})` : "no recorded examples",
    `${plural(e.scenarios, "scenario")}${e.scenarioFiles.length ? ` (the spec's and ${e.scenarioFiles.join(", ")})` : ""}`,
    e.datasets.length ? e.datasets.map((d) => `${plural(d.scenarios, "dataset scenario")} (${d.file})`).join(", ") : "no datasets",
    `fuzzing (${e.fuzz.runs} runs of up to ${e.fuzz.maxCalls} calls from ${plural(e.fuzz.states, "state")})`,
  ];
  io.out(`evidence: ${parts.join(", ")}`);
  const k = r.killedBy;
  io.out(`killed by: examples ${k.example}, scenarios ${k.scenario}, datasets ${k.dataset}, fuzzing ${k.fuzz}`);
  const stillborn = r.results.filter((x) => x.status === "stillborn").length;
  io.out(`mutation score: ${r.killed}/${r.scored} (${pct(r.killed, r.scored)}) for ${r.spec}` +
    ` (${stillborn} stillborn, ${equivalent.length} equivalent, not scored); ${r.perSecond.toFixed(1)} mutants/s`);
}
