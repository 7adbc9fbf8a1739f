// The envc command line: the program, its version and help, and the one verb a command line
// names, whose module is imported only then (cli/verbs.ts lists them); every other verb is a
// bare entry for the help listing and for "did you mean" on a mistyped verb. So `envc
// --version` and `envc --help` load commander and nothing else of envc's dependencies.
// Exit codes: 0 success; 1 the input has errors (diagnostics, stale output, failed tool call);
// 2 bad usage or unreadable input; 70 an internal error in envc itself.
import { Command, CommanderError, Help } from "commander";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { ENVC_VERSION } from "../compiler/version.js";
import { type Io, defaultIo, ExitError, userError, outOfFilesMessage } from "./io.js";
import { VERBS, verbOf } from "./verbs.js";

export type { Io } from "./io.js";

export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = new Command();
  const help = new Help();
  program
    .name("envc")
    .description("Compile declarative .env specs into executable, verified tool environments for LLM agents.")
    .version(ENVC_VERSION, "-V, --version", "print the version of envc")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    // a verb not loaded is listed from the index, as it would list itself
    .configureHelp({
      subcommandTerm: (cmd) => (Object.hasOwn(VERBS, cmd.name()) && !cmd.registeredArguments.length && !cmd.options.length && !cmd.commands.length
        ? `${cmd.name()} ${VERBS[cmd.name()]!.usage}`.trimEnd()
        : help.subcommandTerm(cmd)),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `\nExit codes: 0 success, 1 errors in the input, 2 bad usage, 70 internal error.\nDocs: docs/language.md, docs/cli.md`);

  try {
    const wanted = verbOf(argv);
    for (const [name, verb] of Object.entries(VERBS)) {
      if (name === wanted) (await verb.load())(program, io);
      else program.command(name).description(verb.description);
    }
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    // util/output-files.ts's OutputError, by name: importing it here would load it for --help
    if ((err as Error)?.name === "OutputError") return userError(io, (err as Error).message);
    const outOfFiles = outOfFilesMessage(err);
    if (outOfFiles) return userError(io, outOfFiles);
    io.err(`envc: internal error: ${(err as Error).message ?? String(err)} (this is a bug in envc; please report it)`);
    return 70;
  }
}

// Allow `tsx cli/main.ts ...` during development as well as the bin entry.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
