#!/usr/bin/env node
// Launcher for the envc binary: runs the compiled CLI from dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/index.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("envc: the CLI is not built yet; run `npm run build` (npm ci does it for you)\n");
  process.exit(2);
}
await import(entry.href);
