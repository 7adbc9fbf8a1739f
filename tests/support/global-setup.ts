// Vitest global setup: the tests' own cache of compiled specs (ENVC_CACHE_DIR), a fresh folder
// for each run, removed afterwards, so that tests never read or fill the user's cache. Test
// processes inherit it; tests that look at the cache itself set their own folder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), "envc-test-cache-"));
  process.env.ENVC_CACHE_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
