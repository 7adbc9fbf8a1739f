// `envc call SPEC TOOL [ARGS]`: one tool call on a JSON state; prints the result and the state
// diff, optionally saves the state after it. The spec comes from the cache of compiled specs
// when it is unchanged (loadEnvironment), so a call loads neither the parser nor the checker.
import { Option, type Command } from "commander";
import { writeAtomic, checkOutputFile } from "../util/output-files.js";
import { renderResult, RENDERERS, type RendererName } from "../runtime/render.js";
import { stringifyOrdered } from "../runtime/values.js";
import { type Io, type Format, ExitError, formatOption, noCacheOption, maxStepsOption, readCallArgs, loadEnvironment, formatDiff, int } from "./common.js";

export function registerCall(program: Command, io: Io) {
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
    .addOption(noCacheOption())
    .action(async (specArg: string, tool: string, argsText: string, opts: { args?: string; argsFile?: string; state?: string; renderer: RendererName; checks: boolean; seed?: number; save?: string; maxSteps?: number; format: Format; cache: boolean }) => {
      const args = await readCallArgs(io, argsText, opts);
      if (opts.save) await checkOutputFile(opts.save); // before the call: a --save that cannot be written is refused up front
      const { env } = await loadEnvironment(io, specArg, opts.state, { checks: opts.checks, seed: opts.seed, cache: opts.cache, ...(opts.maxSteps ? { maxSteps: opts.maxSteps } : {}) }, opts.format);
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
}
