// Works on many spec files at once: finds them (skipping dotenv files named `.env`), checks
// them, emits each environment into <out>/<spec-name>/, or verifies that output is current.
// Writes go through writeAtomic (util/output-files.ts): temp file + rename, so an interrupted
// compile leaves no half file. The parser and checker (pipeline.ts) and the emitter (emit.ts:
// ts-morph, prettier) are imported when first used, so that finding files and writing them
// costs no start-up.
import { promises as fs, existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckedSpec } from "./pipeline.js";
import type { EmittedFile } from "./emit.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import { writeAtomic } from "../util/output-files.js";

const ZERO_SPAN = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };

export interface FoundFiles {
  files: string[];
  problems: Diagnostic[];
}

/** Expand files and folders into .env spec files, in a stable order. */
export async function findSpecFiles(inputs: string[]): Promise<FoundFiles> {
  const files: string[] = [];
  const problems: Diagnostic[] = [];
  const walk = async (dir: string) => {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && !e.name.startsWith(".")) await walk(p);
      } else if (isSpecFile(e.name)) files.push(p);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) {
      problems.push(makeDiagnostic("ENV1006", input, ZERO_SPAN, `No such file or folder: ${input}`));
      continue;
    }
    if (statSync(input).isDirectory()) await walk(input);
    else if (path.basename(input) === ".env")
      problems.push(makeDiagnostic("ENV1006", input, ZERO_SPAN, `${input} is a dotenv file (named exactly .env), not a spec; skipped`, { severity: "warning" }));
    else files.push(input);
  }
  return { files: [...new Set(files.map(normalizePath))], problems };
}

export function isSpecFile(name: string): boolean {
  return name.endsWith(".env") && name !== ".env";
}

export function normalizePath(p: string): string {
  const rel = path.isAbsolute(p) ? path.relative(process.cwd(), p) : path.normalize(p);
  const chosen = rel.startsWith("..") ? p : rel;
  return chosen.split(path.sep).join("/");
}

/** Check one spec file; `text`: its contents when already read (what a cache key was made of). */
export async function checkFile(file: string, text?: string): Promise<CheckedSpec> {
  let source: string;
  try {
    source = text ?? (await fs.readFile(file, "utf8"));
  } catch (err) {
    return { file, source: "", diagnostics: [makeDiagnostic("ENV1006", file, ZERO_SPAN, `Cannot read ${file}: ${(err as Error).message}`)] };
  }
  const { checkSource } = await import("./pipeline.js");
  return checkSource(source, file);
}

/**
 * Find and check every spec under `inputs`, attach `scenarios for` files to their specs; the
 * sources by file (for printing diagnostics) and every diagnostic, problems finding files first.
 * `texts`: file contents already read, by the file's normalized path, checked instead of
 * reading the files again.
 */
export async function checkInputs(
  inputs: string[],
  texts?: ReadonlyMap<string, string>,
): Promise<{ found: FoundFiles; specs: CheckedSpec[]; sources: Map<string, string>; diagnostics: Diagnostic[] }> {
  const found = await findSpecFiles(inputs);
  const specs: CheckedSpec[] = [];
  for (const f of found.files) specs.push(await checkFile(f, texts?.get(f)));
  const { attachScenarioFiles } = await import("./pipeline.js");
  attachScenarioFiles(specs);
  const sources = new Map(specs.map((s) => [s.file, s.source]));
  const diagnostics = [...found.problems, ...specs.flatMap((s) => s.diagnostics)];
  return { found, specs, sources, diagnostics };
}

export function envFolderName(file: string): string {
  return path.basename(file, ".env");
}

/** The runtime import for generated code in `outDir`: relative inside this package, else the package. */
export function runtimeImportFor(outDir: string, envFolder: string): string {
  const pkgRoot = packageRoot();
  const target = path.resolve(outDir, envFolder);
  const runtimeDir = path.join(pkgRoot, "runtime");
  if (!path.relative(pkgRoot, target).startsWith("..")) {
    let rel = path.relative(target, path.join(runtimeDir, "index.js")).split(path.sep).join("/");
    if (!rel.startsWith(".")) rel = "./" + rel;
    return rel;
  }
  return "envc/runtime";
}

export function packageRoot(): string {
  // this file lives in compiler/ (source) or dist/compiler/ (built)
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export interface EnvOutput {
  spec: CheckedSpec;
  folder: string;
  files: EmittedFile[];
}

export async function emitChecked(spec: CheckedSpec, outDir: string): Promise<EnvOutput> {
  const folder = envFolderName(spec.file);
  const { emitEnv } = await import("./emit.js");
  const files = await emitEnv(spec.env!, { runtimeImport: runtimeImportFor(outDir, folder) });
  return { spec, folder, files };
}

export { writeAtomic, OutputError } from "../util/output-files.js";

export async function writeOutput(out: EnvOutput, outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const f of out.files) {
    const target = path.join(outDir, out.folder, f.path);
    if ((await readIfExists(target)) === f.text) continue;
    await writeAtomic(target, f.text);
    written.push(target);
  }
  return written;
}

/** A regular file's text (through symlinks); undefined for anything else (a FIFO would block). */
async function readIfExists(file: string): Promise<string | undefined> {
  try {
    if (!(await fs.stat(file)).isFile()) return undefined;
    return await fs.readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

export interface Staleness {
  file: string;
  diff: string;
}

/** Compare emitted files with what is on disk. */
export async function staleFiles(out: EnvOutput, outDir: string): Promise<Staleness[]> {
  const stale: Staleness[] = [];
  for (const f of out.files) {
    const target = path.join(outDir, out.folder, f.path);
    const current = await readIfExists(target);
    if (current === f.text) continue;
    stale.push({ file: normalizePath(target), diff: current === undefined ? "  (missing)" : lineDiff(current, f.text) });
  }
  return stale;
}

/** A short unified-style diff: the first differing lines with a little context. */
export function lineDiff(before: string, after: string, limit = 12): string {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length - 1;
  let endB = b.length - 1;
  while (endA >= start && endB >= start && a[endA] === b[endB]) { endA--; endB--; }
  const out = [`  @@ line ${start + 1} @@`];
  for (const l of a.slice(start, Math.min(endA + 1, start + limit))) out.push(`  - ${l}`);
  for (const l of b.slice(start, Math.min(endB + 1, start + limit))) out.push(`  + ${l}`);
  if (endA - start + 1 > limit || endB - start + 1 > limit) out.push("  ...");
  return out.join("\n");
}
