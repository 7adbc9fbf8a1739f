#!/usr/bin/env node
// Entry point of the envc binary: run the CLI with the process arguments and exit with its code.
import { runCli } from "./main.js";

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
