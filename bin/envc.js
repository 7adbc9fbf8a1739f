#!/usr/bin/env node
// Launcher for the envc binary: runs the compiled CLI from dist/ (built by `npm ci` / `npm run build`).
// Loading the CLI opens a few hundred module files at once; under a low open-file limit
// (`ulimit -n 300`) that fails inside Node's module loader, which would print its stack trace:
// this says what happened and what to do instead.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/index.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("envc: the CLI is not built yet; run `npm run build` (npm ci does it for you)\n");
  process.exit(2);
}

/** The soft open-file limit (Linux), or undefined when it cannot be read. */
function openFileLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A module "not found" that is there: the loader could not open it (out of descriptors). */
function missingButThere(err) {
  if (err?.code !== "ERR_MODULE_NOT_FOUND") return false;
  const where = err.url ? fileURLToPath(err.url) : /Cannot find (?:module|package) '([^']+)'/.exec(String(err.message))?.[1];
  return !!where && existsSync(where);
}

/**
 * A failure while loading the CLI's modules. The loader reports one failed load several times
 * (the awaited import rejects, sibling module jobs throw uncaught): the first report decides.
 */
let failed = false;
const limitAtStart = openFileLimit(); // read now: once the loader has used every descriptor, it cannot be
async function onLoadError(err) {
  if (failed) return;
  failed = true;
  await new Promise((resolve) => setTimeout(resolve, 10)); // the other reports of this failure arrive meanwhile
  const codes = [err?.code, err?.cause?.code];
  const limit = limitAtStart;
  // a module "not found" under a low limit: the loader could not open it or its package.json
  const lowLimit = err?.code === "ERR_MODULE_NOT_FOUND" && limit !== undefined && limit < 1024;
  if (codes.includes("EMFILE") || codes.includes("ENFILE") || missingButThere(err) || lowLimit) {
    process.stderr.write(
      `envc: cannot start: too many open files while loading its modules${limit !== undefined ? `; the open-file limit is ${limit}` : ""}. ` +
        "envc opens a few hundred files as it starts: raise the limit, e.g. `ulimit -n 4096`, and run it again\n",
    );
    process.exit(2);
  }
  process.stderr.write(`${err?.stack ?? String(err)}\n`);
  process.exit(1);
}

process.on("uncaughtException", onLoadError);
process.on("unhandledRejection", onLoadError);
try {
  await import(entry.href);
} catch (err) {
  await onLoadError(err);
}
// loaded: from here on errors are the CLI's own (it reports them itself)
process.off("uncaughtException", onLoadError);
process.off("unhandledRejection", onLoadError);
