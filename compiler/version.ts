// The envc package: its version (for `envc --version`, MCP server info and cache keys) and its
// root folder. Read from the package.json above this file, in the sources or in dist/; imports
// nothing of envc, so that `envc --version` loads nothing else.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function findPackage(): { root: string; version: string } | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, "package.json");
    if (!existsSync(p)) continue;
    try {
      const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "envc" && pkg.version) return { root: dir, version: pkg.version };
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const found = findPackage();

/** The package version; "0.0.0" if package.json cannot be found (a copied-out build). */
export const ENVC_VERSION: string = found?.version ?? "0.0.0";

/** The package's root folder (holding package.json), if found. */
export const ENVC_ROOT: string | undefined = found?.root;
