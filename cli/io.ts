// The CLI's plumbing that every verb and main.ts share and that costs nothing to load: output
// streams, exit codes as exceptions, usage errors, option parsers. Imports only commander;
// cli/common.ts re-exports all of it beside the loading and printing helpers.
import { InvalidArgumentError, Option } from "commander";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
};

export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export type Format = "pretty" | "short" | "json";

export function usage(io: Io, message: string): never {
  io.err(`envc: ${message}`);
  throw new ExitError(2);
}

/** A commander parser for an integer option of at least `min` (bad values are usage errors). */
export const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${v}'`);
  return n;
};

export const formatOption = () =>
  new Option("--format <format>", "diagnostics as pretty (with source), short (file:line:col) or json").choices(["pretty", "short", "json"]).default("pretty");

/** --no-cache: compile the spec even when the cache of compiled specs holds it (ENVC_CACHE=0 does the same for every verb). */
export const noCacheOption = () => new Option("--no-cache", "compile the spec even if it is unchanged since the cache last saw it");
