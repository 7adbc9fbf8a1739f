// The states fuzzing starts from besides generated ones: the spec's sample state.json and the
// initial states of its scenarios (files are read once; unreadable ones are reported, skipped).
import { readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { parseJsonOrdered } from "../../runtime/index.js";
import type { IEnv } from "../ir.js";
import { initialFileOf } from "../verify.js";

/** A seed state and, when it came from a file, that file's absolute path. */
export interface SeedState {
  state: unknown;
  file?: string;
}

/** Inline scenario states (in scenario order), then the sample state.json, then scenario state files. */
export function seedStateSources(specFile: string, env: IEnv): { seeds: SeedState[]; skipped: string[] } {
  const seeds: SeedState[] = [];
  const skipped: string[] = [];
  const sample = path.join(path.dirname(specFile), "state.json");
  const files = new Set<string>(existsSync(sample) ? [path.resolve(sample)] : []);
  for (const sc of env.scenarios) {
    const file = initialFileOf(sc);
    if (file) files.add(file);
    else if ("value" in sc.init) seeds.push({ state: sc.init.value });
  }
  for (const f of files) {
    try {
      seeds.push({ state: parseJsonOrdered(readFileSync(f, "utf8")), file: f });
    } catch (err) {
      skipped.push(`${f}: ${(err as Error).message}`);
    }
  }
  return { seeds, skipped };
}

export function seedStates(specFile: string, env: IEnv): { states: unknown[]; skipped: string[] } {
  const { seeds, skipped } = seedStateSources(specFile, env);
  return { states: seeds.map((s) => s.state), skipped };
}
