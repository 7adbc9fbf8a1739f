// The cache of compiled specs: what loading a spec produces (plain JavaScript and scenario data,
// see CompiledEnv in emit-definition.ts) kept on disk under a hash of everything the result
// depends on, so that `envc call`, `replay` and `serve` of an unchanged spec skip the parser, the
// checker and the emitter.
//
// - Where: $ENVC_CACHE_DIR, else $XDG_CACHE_HOME/envc, else ~/.cache/envc (per user, not per
//   project: specs live anywhere and envc may be installed read-only). ENVC_CACHE=0 (or the
//   verbs' --no-cache) bypasses it: nothing is read or written.
// - Key: sha256 over the envc version, a hash of the code that compiles and runs specs (every
//   file of grammar/, compiler/ and runtime/ beside this one, so a changed compiler never meets
//   an old entry, even at the same version), what the caller says the result depends on (the
//   verb's kind, its arguments), and each input file's path and text.
// - Entries: one file per key, `<key>.json`, whose first line holds the sha256 of the rest.
//   Written to a temp file and renamed, so concurrent processes never see half an entry; an
//   entry that does not parse, whose hash or key does not match, is ignored and rebuilt.
//   Values are written and read with the runtime's order-keeping JSON, so that a dataset's
//   states keep the key order of their text (KEY_ORDER) through the cache.
// - Only successful compiles are stored (no errors); a caller says when a result must not be.
// - Size: past MAX_ENTRIES, the least recently used are removed when an entry is written.
// Imports nothing of the compiler, so a cache hit loads only this and the runtime.
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ENVC_VERSION } from "./version.js";
import { parseJsonOrdered, stringifyOrdered } from "../runtime/values.js";

const FORMAT = "envc-cache 1";
const MAX_ENTRIES = 256;
const KEEP_ENTRIES = 192;

/** The cache folder, or undefined when caching is off (ENVC_CACHE=0, off, false or no). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const flag = (env.ENVC_CACHE ?? "").toLowerCase();
  if (["0", "off", "false", "no"].includes(flag)) return undefined;
  if (env.ENVC_CACHE_DIR) return path.resolve(env.ENVC_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "envc");
}

let fingerprint: string | undefined;

/**
 * The version and a hash of the code whose output is cached, read once per process: the
 * grammar, compiler and runtime folders beside this module's (sources under vitest and tsx,
 * dist/ in the binary). Subfolders (the fuzzer) do not take part in loading a spec.
 */
export function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const hash = createHash("sha256").update(ENVC_VERSION);
  for (const dir of ["grammar", "compiler", "runtime"]) {
    const folder = path.join(here, "..", dir);
    let names: string[] = [];
    try {
      names = readdirSync(folder).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith(".d.ts")).sort();
    } catch {
      // a folder that is not there takes part as nothing
    }
    for (const n of names) hash.update(`\0${dir}/${n}\0`).update(readFileSync(path.join(folder, n)));
  }
  return (fingerprint = hash.digest("hex"));
}

/** The key of a result made from `files` (path and text each); `what` names the kind and options. */
export function cacheKey(what: string, files: Iterable<readonly [string, string]>): string {
  const hash = createHash("sha256").update(FORMAT).update("\0").update(codeFingerprint()).update("\0").update(what);
  // lengths before texts, so no two lists of files hash alike
  for (const [file, text] of files) hash.update(`\0${file.length}:${file}\0${text.length}:`).update(text);
  return hash.digest("hex");
}

export interface CacheOptions {
  /** where entries live; undefined: caching is off */
  dir: string | undefined;
  /** told what the cache did (hits, misses, writes, entries ignored), for ENVC_DEBUG=cache */
  log?: (line: string) => void;
}

function entryPath(dir: string, key: string): string {
  return path.join(dir, `${key}.json`);
}

/** The value stored under `key`, or undefined: no entry, or one that is unreadable or corrupt. */
export async function readEntry<T>(key: string, options: CacheOptions): Promise<T | undefined> {
  if (!options.dir) return undefined;
  const file = entryPath(options.dir, key);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    options.log?.(`cache miss ${key.slice(0, 12)}`);
    return undefined;
  }
  const nl = text.indexOf("\n");
  const head = nl < 0 ? "" : text.slice(0, nl);
  const body = nl < 0 ? "" : text.slice(nl + 1);
  const ok = head === `${FORMAT} ${createHash("sha256").update(body).digest("hex")}`;
  let entry: { key?: unknown; value?: T } | undefined;
  if (ok) {
    try {
      entry = parseJsonOrdered(body) as { key?: unknown; value?: T };
    } catch {
      entry = undefined;
    }
  }
  if (!entry || entry.key !== key || entry.value === undefined) {
    options.log?.(`cache entry ${file} is corrupt; ignored, compiling again`);
    return undefined;
  }
  // most recently used: what pruning keeps (not awaited; a failure changes nothing)
  const now = new Date();
  fs.utimes(file, now, now).catch(() => {});
  options.log?.(`cache hit ${key.slice(0, 12)} (${file})`);
  return entry.value;
}

/**
 * Store `value` under `key`: a temp file renamed into place. A cache that cannot be written
 * (read-only, full disk) is not an error of the command: the value is simply not kept.
 */
export async function writeEntry(key: string, value: unknown, options: CacheOptions): Promise<void> {
  if (!options.dir) return;
  const file = entryPath(options.dir, key);
  const body = stringifyOrdered({ key, value });
  const text = `${FORMAT} ${createHash("sha256").update(body).digest("hex")}\n${body}`;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await fs.mkdir(options.dir, { recursive: true });
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, file);
    options.log?.(`cache write ${key.slice(0, 12)} (${file})`);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    options.log?.(`cache not written: ${(err as Error).message}`);
    return;
  }
  await prune(options.dir).catch(() => {});
}

/** Keep the KEEP_ENTRIES most recently used entries once there are more than MAX_ENTRIES; drop temp files an hour old (a killed writer's). */
async function prune(dir: string): Promise<void> {
  const names = await fs.readdir(dir);
  const hourAgo = Date.now() - 3600_000;
  const entries: { file: string; used: number }[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    if (n.endsWith(".tmp")) {
      const st = await fs.stat(file).catch(() => undefined);
      if (st && st.mtimeMs < hourAgo) await fs.rm(file, { force: true });
    } else if (n.endsWith(".json")) entries.push({ file, used: 0 });
  }
  if (entries.length <= MAX_ENTRIES) return;
  for (const e of entries) e.used = (await fs.stat(e.file).catch(() => undefined))?.mtimeMs ?? 0;
  entries.sort((a, b) => b.used - a.used);
  for (const e of entries.slice(KEEP_ENTRIES)) await fs.rm(e.file, { force: true });
}

/**
 * A compiled result through the cache: the stored one for `key`, or `compile()`'s, stored when
 * it says it may be (`keep`). Whatever `compile` throws (an exit for errors) passes through.
 */
export async function throughCache<T>(
  key: string,
  options: CacheOptions,
  compile: () => Promise<{ value: T; keep: boolean }>,
): Promise<{ value: T; fromCache: boolean }> {
  const cached = await readEntry<T>(key, options);
  if (cached !== undefined) return { value: cached, fromCache: true };
  const made = await compile();
  if (made.keep) await writeEntry(key, made.value, options);
  return { value: made.value, fromCache: false };
}
