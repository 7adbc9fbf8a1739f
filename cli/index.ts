#!/usr/bin/env node
// Entry point of the envc binary: run the CLI with the process arguments and exit with its code.
import { runCli } from "./main.js";

// output piped into a program that stops reading (`| head`) is not an error of ours
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
