#!/usr/bin/env node
// Entry point of the envc binary: run the CLI with the process arguments and exit with its code.
// `envc --version` (or -V) alone is answered here, before the CLI and commander are loaded:
// it is what scripts and tools run to find envc, and it should cost no more than Node itself.

// output piped into a program that stops reading (`| head`) is not an error of ours
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  const { ENVC_VERSION } = await import("../compiler/version.js");
  process.stdout.write(`${ENVC_VERSION}\n`);
} else {
  const { runCli } = await import("./main.js");
  process.exitCode = await runCli(argv);
}
