// `envc fuzz`: property-based testing of every tool of each spec, starting from its sample
// state, its scenarios' initial states and generated states; prints a coverage table per
// spec and, on a finding, the shrunk counterexample and the files `envc replay` reproduces.
import * as path from "node:path";
import { Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { loadDefinition } from "../compiler/load.js";
import { fuzzEnv, coverageReport, coverageSummary, type FuzzReport } from "../compiler/fuzz/engine.js";
import { seedStates } from "../compiler/fuzz/seeds.js";
import { stringifyOrdered } from "../runtime/index.js";
import { type Io, ExitError, checkAllOrExit, int } from "./common.js";

interface FuzzCliOptions {
  seed: number;
  runs: number;
  maxCalls: number;
  time?: number;
  out: string;
  generated: boolean;
  format: "pretty" | "json";
}

export function registerFuzz(program: Command, io: Io) {
  program
    .command("fuzz")
    .description("fuzz every tool: no environment fault, failed calls and queries change nothing, results have their types, runs are deterministic")
    .argument("<inputs...>", "spec files or folders")
    .option("--seed <n>", "fast-check seed (same seed, same runs)", int(0), 1)
    .option("--runs <n>", "runs per spec (an initial state and a call sequence each)", int(1), 200)
    .option("--max-calls <n>", "longest call sequence", int(1), 20)
    .option("--time <seconds>", "time budget per spec; stops early, keeping what was found", int(1))
    .option("--out <dir>", "where counterexamples are written", "fuzz-failures")
    .option("--no-generated", "start only from the sample and scenario states, not from generated ones")
    .addOption(new Option("--format <format>", "human text or one JSON document").choices(["pretty", "json"]).default("pretty"))
    .action(async (inputs: string[], opts: FuzzCliOptions) => {
      const { specs } = await checkAllOrExit(io, inputs);
      const reports: (FuzzReport & { spec: string; summary: ReturnType<typeof coverageSummary>; files?: string[] })[] = [];
      for (const spec of specs) {
        if (!spec.env) continue;
        const { states: seeds, skipped } = seedStates(spec.file, spec.env);
        for (const sk of skipped) io.err(`skipped as a seed state: ${sk}`);
        const def = loadDefinition(spec.env);
        const report = fuzzEnv(spec.env, def, seeds, {
          seed: opts.seed, runs: opts.runs, maxCalls: opts.maxCalls, generated: opts.generated,
          ...(opts.time ? { timeMs: opts.time * 1000 } : {}),
        });
        const entry: (typeof reports)[number] = { ...report, spec: spec.file, summary: coverageSummary(report) };
        if (report.finding) entry.files = await writeCounterexample(opts.out, spec.env.name, report);
        reports.push(entry);
        if (opts.format === "pretty") printReport(io, entry);
      }
      if (opts.format === "json") io.out(stringifyOrdered({ ok: reports.every((r) => !r.finding), specs: reports }, 2));
      else {
        const calls = reports.reduce((n, r) => n + r.calls, 0);
        const ms = reports.reduce((n, r) => n + r.ms, 0);
        const bad = reports.filter((r) => r.finding).length;
        io.out(`fuzz: ${reports.length} spec${reports.length === 1 ? "" : "s"}, ${calls.toLocaleString("en-US")} calls in ${(ms / 1000).toFixed(1)} s, ${bad ? `${bad} with a finding` : "no finding"}`);
      }
      if (reports.some((r) => r.finding)) throw new ExitError(1);
    });
}

async function writeCounterexample(out: string, envName: string, report: FuzzReport): Promise<string[]> {
  const f = report.finding!;
  const base = path.join(out, `${envName}-${f.property}`);
  const state = `${base}.state.json`;
  const calls = `${base}.calls.jsonl`;
  await writeAtomic(state, stringifyOrdered(f.initial, 2) + "\n");
  await writeAtomic(calls, f.calls.map((c) => stringifyOrdered(c)).join("\n") + "\n");
  return [state, calls];
}

function printReport(io: Io, r: FuzzReport & { spec: string; files?: string[] }) {
  io.out(`${r.env} (${r.spec}): ${r.runs} runs, ${r.calls.toLocaleString("en-US")} calls in ${(r.ms / 1000).toFixed(1)} s` +
    (r.generated.tried ? `; generated states accepted: ${r.generated.valid}/${r.generated.tried}` : ""));
  const { table, gaps } = coverageReport(r);
  for (const l of table) io.out(`  ${l}`);
  for (const g of gaps) io.out(`  note: ${g}`);
  const f = r.finding;
  if (!f) return;
  io.err(`\nFINDING in ${r.env}: ${f.message}${f.location ? `\n  at ${f.location}` : ""}`);
  io.err(`  shrunk to ${f.calls.length} call${f.calls.length === 1 ? "" : "s"} from a state of ${stateSize(f.initial)}:`);
  f.calls.forEach((c, i) => io.err(`  [${i + 1}] ${c.name}(${stringifyOrdered(c.arguments)})`));
  if (r.files) io.err(`  reproduce: envc replay ${r.spec} --init ${r.files[0]} --calls ${r.files[1]}`);
}

function stateSize(state: unknown): string {
  if (!state || typeof state !== "object") return "nothing";
  const parts = Object.entries(state as Record<string, unknown>)
    .filter(([, v]) => v && typeof v === "object" && !Array.isArray(v))
    .map(([k, v]) => `${Object.keys(v as object).length} ${k}`);
  return parts.join(", ") || "globals only";
}
