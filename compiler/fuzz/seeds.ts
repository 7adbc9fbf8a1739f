// The states fuzzing starts from besides generated ones: the spec's sample state.json and the
// initial states of its scenarios (files are read once; unreadable ones are reported, skipped).
import { readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { parseJsonOrdered } from "../../runtime/index.js";
import type { IEnv } from "../ir.js";
import { initialFileOf } from "../verify.js";

export function seedStates(specFile: string, env: IEnv): { states: unknown[]; skipped: string[] } {
  const states: unknown[] = [];
  const skipped: string[] = [];
  const sample = path.join(path.dirname(specFile), "state.json");
  const files = new Set<string>(existsSync(sample) ? [path.resolve(sample)] : []);
  for (const sc of env.scenarios) {
    const file = initialFileOf(sc);
    if (file) files.add(file);
    else if ("value" in sc.init) states.push(sc.init.value);
  }
  for (const f of files) {
    try {
      states.push(parseJsonOrdered(readFileSync(f, "utf8")));
    } catch (err) {
      skipped.push(`${f}: ${(err as Error).message}`);
    }
  }
  return { states, skipped };
}
