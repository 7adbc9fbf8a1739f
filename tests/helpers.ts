// Shared test helpers: compile spec text in memory and build environments from it.
import { checkSource } from "../compiler/pipeline.js";
import { loadDefinition } from "../compiler/load.js";
import { Environment, type EnvOptions } from "../runtime/index.js";
import type { IEnv } from "../compiler/ir.js";
import { runCli } from "../cli/main.js";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";

export function mustCheck(source: string, file = "test.env"): IEnv {
  const r = checkSource(source, file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length || !r.env)
    throw new Error(`expected no errors, got:\n${errors.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.code} ${d.message}`).join("\n")}`);
  return r.env;
}

export function codesOf(source: string, file = "test.env"): string[] {
  return checkSource(source, file).diagnostics.map((d) => d.code);
}

export function envFrom(source: string, state: unknown, options: EnvOptions = {}): Environment {
  return Environment.createFrom(loadDefinition(mustCheck(source)), state, options);
}

/** Run the CLI in-process, collecting what it prints. */
export async function runEnvc(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/**
 * `envc serve ARGS --port 0` as a real process (the sources through tsx). The process and its
 * exit are there at once, for cleanup even when it never listens; `url` resolves once it
 * listens and rejects, with its stderr, if it exits first.
 */
export function serveProcess(args: string[]): { proc: ChildProcessWithoutNullStreams; url: Promise<string>; exited: Promise<number | null>; stderr: () => string } {
  const root = path.resolve(new URL("..", import.meta.url).pathname);
  const proc = spawn(process.execPath, ["--import", "tsx", "cli/index.ts", "serve", ...args, "--port", "0"], { cwd: root });
  let err = "";
  proc.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`envc serve exited with ${code}: ${err}`)));
  });
  return { proc, url, exited, stderr: () => err };
}
