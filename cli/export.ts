// `envc export`: trajectory JSONL files (from `envc rollout`) → SFT files in OpenAI chat JSONL and
// ShareGPT/LlamaFactory JSONL, with filters. Options and printing only; the work is in agent/.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { writeAtomic } from "../compiler/project.js";
import { parseTrajectories, type Trajectory } from "../agent/trajectory.js";
import { exportTrajectories } from "../agent/export.js";
import { type Io, ExitError, int, readInput, usage } from "./common.js";

interface ExportOptions {
  openai?: string;
  sharegpt?: string;
  minReward?: number;
  faults: boolean;
  minTurns?: number;
  maxTurns?: number;
  skipInvalid?: boolean;
  format: "pretty" | "json";
}

const fraction = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`expected a number from 0 to 1, got '${v}'`);
  return n;
};

/** Files as given; folders expanded to their *.jsonl files, sorted, so runs are reproducible. */
async function expand(io: Io, inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      usage(io, `no such file or folder: ${input}`);
    }
    if (!stat.isDirectory()) {
      out.push(input);
      continue;
    }
    const names = (await fs.readdir(input)).filter((n) => n.endsWith(".jsonl")).sort();
    if (names.length === 0) usage(io, `${input} holds no .jsonl files`);
    out.push(...names.map((n) => path.join(input, n)));
  }
  return out;
}

export function registerExport(program: Command, io: Io) {
  program
    .command("export")
    .description("turn trajectories (JSONL from envc rollout) into SFT files: OpenAI chat JSONL and ShareGPT/LlamaFactory")
    .argument("<trajectories...>", "trajectory JSONL files, or folders of them")
    .option("--openai <file>", "write OpenAI chat fine-tuning JSONL: {messages, tools} per line")
    .option("--sharegpt <file>", "write ShareGPT JSONL as LlamaFactory reads it: {conversations: [{from, value}], system, tools}")
    .option("--min-reward <r>", "keep episodes with reward >= r (0 to 1); unscored episodes (environment fault) are dropped", fraction)
    .option("--no-faults", "drop episodes with any environment fault")
    .option("--min-turns <n>", "drop episodes with fewer agent turns (assistant messages)", int(0))
    .option("--max-turns <n>", "drop episodes with more agent turns (assistant messages)", int(0))
    .option("--skip-invalid", "skip lines that are not valid trajectories (reported) instead of stopping")
    .addOption(new Option("--format <format>", "summary as text (stderr) or one JSON document (stdout)").choices(["pretty", "json"]).default("pretty"))
    .addHelpText("after", "\nThe trajectory format and the two outputs: docs/serving.md#trajectories-and-export")
    .action(async (inputs: string[], opts: ExportOptions) => {
      if (!opts.openai && !opts.sharegpt) usage(io, "name at least one output: --openai FILE and/or --sharegpt FILE");
      if (opts.minTurns !== undefined && opts.maxTurns !== undefined && opts.minTurns > opts.maxTurns)
        usage(io, `--min-turns ${opts.minTurns} is more than --max-turns ${opts.maxTurns}`);
      const files = await expand(io, inputs);
      // an output that is an input, or both outputs one file, would silently lose data
      const outputs = [opts.openai, opts.sharegpt].filter((f): f is string => f !== undefined);
      if (outputs.length === 2 && path.resolve(outputs[0]!) === path.resolve(outputs[1]!))
        usage(io, `--openai and --sharegpt both name ${outputs[0]}; give each format its own file`);
      for (const out of outputs) {
        if (files.some((f) => path.resolve(f) === path.resolve(out))) usage(io, `the output ${out} is also an input; write the SFT file elsewhere`);
        const stat = await fs.stat(out).catch(() => undefined);
        if (stat?.isDirectory()) usage(io, `the output ${out} is a folder; name a file`);
      }
      const trajectories: Trajectory[] = [];
      const bad: string[] = [];
      let syntax = false;
      for (const file of files) {
        const text = await readInput(io, file, "the trajectories file");
        for (const p of parseTrajectories(text)) {
          if (p.ok) trajectories.push(p.trajectory);
          else {
            bad.push(`${file}:${p.line}: ${p.problem}`);
            syntax ||= p.syntax;
          }
        }
      }
      if (bad.length) {
        for (const b of bad.slice(0, 20)) io.err(opts.skipInvalid ? `warning: skipped ${b}` : b);
        if (bad.length > 20) io.err(`... and ${bad.length - 20} more`);
        if (!opts.skipInvalid) {
          io.err(`envc export: ${bad.length === 1 ? "1 line is not a valid trajectory" : `${bad.length} lines are not valid trajectories`}; nothing written (fix them, or pass --skip-invalid)`);
          throw new ExitError(syntax ? 2 : 1);
        }
      }
      const r = exportTrajectories(trajectories, {
        ...(opts.minReward !== undefined ? { minReward: opts.minReward } : {}),
        noFaults: !opts.faults,
        ...(opts.minTurns !== undefined ? { minTurns: opts.minTurns } : {}),
        ...(opts.maxTurns !== undefined ? { maxTurns: opts.maxTurns } : {}),
      });
      if (trajectories.length === 0) io.err(`warning: no trajectories in ${files.join(", ")}; the outputs are empty`);
      else if (r.kept === 0) io.err("warning: the filters dropped every trajectory; the outputs are empty");
      const jsonl = (lines: string[]) => lines.map((l) => l + "\n").join("");
      const write = async (file: string, lines: string[]) => {
        try {
          await writeAtomic(file, jsonl(lines));
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          usage(io, `cannot write ${file}: ${e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.code === "EISDIR" ? "it is a folder" : e.message}`);
        }
      };
      if (opts.openai) await write(opts.openai, r.openai);
      if (opts.sharegpt) await write(opts.sharegpt, r.sharegpt);
      const skipped = r.skipped.filter((s) => (s.format === "openai" ? opts.openai : opts.sharegpt));
      if (opts.format === "json") {
        io.out(JSON.stringify({
          total: r.total, kept: r.kept, dropped: r.dropped, invalid: bad.length,
          ...(opts.openai ? { openai: { file: opts.openai, lines: r.openai.length } } : {}),
          ...(opts.sharegpt ? { sharegpt: { file: opts.sharegpt, lines: r.sharegpt.length, droppedText: r.droppedText } } : {}),
          skipped,
        }, null, 2));
        return;
      }
      for (const s of skipped) io.err(`not in ${s.format === "openai" ? "OpenAI" : "ShareGPT"} output: ${s.env}/${s.scenario} sample ${s.sample}: ${s.reason}`);
      const reasons = [
        r.dropped.reward ? `${r.dropped.reward} below reward ${opts.minReward} or unscored` : "",
        r.dropped.faults ? `${r.dropped.faults} with environment faults` : "",
        r.dropped.turns ? `${r.dropped.turns} outside the turn limits` : "",
      ].filter(Boolean);
      const written = [
        opts.openai ? `${r.openai.length} to ${opts.openai} (OpenAI)` : "",
        opts.sharegpt ? `${r.sharegpt.length} to ${opts.sharegpt} (ShareGPT)` : "",
      ].filter(Boolean);
      if (opts.sharegpt && r.droppedText) io.err(`note: ShareGPT has no place for text beside tool calls; dropped it from ${r.droppedText} assistant message${r.droppedText === 1 ? "" : "s"}`);
      io.err(`export: ${r.kept}/${r.total} trajectories kept${reasons.length ? ` (dropped ${reasons.join(", ")})` : ""}${bad.length ? `, ${bad.length} invalid line${bad.length === 1 ? "" : "s"} skipped` : ""}; wrote ${written.join(", ")}`);
    });
}
