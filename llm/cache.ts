// On-disk cache of LLM answers: one JSON file per request, named by the sha256 of the request
// in canonical form (keys sorted at every level), so the same request always finds the same
// entry. Entries are written through writeAtomic (a temp file, renamed), so a run killed mid-write leaves no
// half entry and the next run resumes from every answer already received.
// Assumes the cached value is plain JSON; concurrent writers of one key are deduplicated by
// the client (it keeps one in-flight promise per key), so the rename never races itself.
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeAtomic } from "../util/output-files.js";

/** JSON text with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

export function cacheKey(request: unknown): string {
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

export interface CacheEntry<T> {
  key: string;
  /** the request the entry answers, kept so that an entry can be read and audited by hand */
  request: unknown;
  response: T;
}

export class DiskCache {
  constructor(readonly dir: string) {}

  private fileOf(key: string): string {
    // two-level fan-out keeps folders small on long runs
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get<T>(key: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.fileOf(key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as CacheEntry<T>;
      return entry.key === key ? entry.response : undefined;
    } catch {
      return undefined; // a damaged entry is a miss: the request is sent again and the entry rewritten
    }
  }

  async put<T>(key: string, request: unknown, response: T): Promise<void> {
    const entry: CacheEntry<T> = { key, request, response };
    // as every file envc writes: temp file and rename, a full disk or a folder in the way one clear error
    await writeAtomic(this.fileOf(key), JSON.stringify(entry, null, 1) + "\n");
  }
}
