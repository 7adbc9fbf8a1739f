// The CLI's plumbing that every verb and main.ts share and that costs nothing to load: output
// streams, exit codes as exceptions, usage errors, option parsers. Imports only commander and node:fs;
// cli/common.ts re-exports all of it beside the loading and printing helpers.
import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option } from "commander";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** all of standard input (for `-` arguments); tests pass their own */
  stdin?: () => Promise<string>;
}

/** All of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  stdin: readStdin,
};

export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export type Format = "pretty" | "short" | "json";

/** A problem with the user's files or system (an output that cannot be written): `envc: message`, exit 2. */
export function userError(io: Io, message: string): number {
  io.err(`envc: ${message}`);
  return 2;
}

/** The soft open-file limit (Linux), or undefined when it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// read at start: once the module loader has used every descriptor, /proc cannot be opened
const limitAtStart = openFileLimit();

/**
 * What to tell the user when loading a verb's modules ran out of file descriptors (as
 * bin/envc.js says for the CLI's own modules), or undefined for any other error. Verbs' modules
 * are imported when the verb runs, so a low `ulimit -n` shows up here.
 */
export function outOfFilesMessage(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  const codes = [e?.code, e?.cause?.code];
  const limit = limitAtStart;
  const lowLimit = e?.code === "ERR_MODULE_NOT_FOUND" && limit !== undefined && limit < 1024;
  if (!codes.includes("EMFILE") && !codes.includes("ENFILE") && !lowLimit) return undefined;
  return (
    `cannot start: too many open files while loading its modules${limit !== undefined ? `; the open-file limit is ${limit}` : ""}. ` +
    "envc opens a few hundred files as it starts: raise the limit, e.g. `ulimit -n 4096`, and run it again"
  );
}

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

/** A commander parser for a number option of at least `min`. */
export const num = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}, got '${v}'`);
  return n;
};

export const formatOption = () =>
  new Option("--format <format>", "diagnostics as pretty (with source), short (file:line:col) or json").choices(["pretty", "short", "json"]).default("pretty");

/** --no-cache: compile the spec even when the cache of compiled specs holds it (ENVC_CACHE=0 does the same for every verb). */
export const noCacheOption = () => new Option("--no-cache", "compile the spec even if it is unchanged since the cache last saw it");
