// `envc explain [CODE]`: a diagnostic code explained with an example, or every code listed.
import type { Command } from "commander";
import { explain, CODES } from "../compiler/diagnostics.js";
import { type Io, usage } from "./io.js";

export function registerExplain(program: Command, io: Io) {
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
}
