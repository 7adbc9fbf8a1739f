// The states fuzzing starts from besides generated ones: the spec's sample state.json and the
// initial states of its scenarios (files are read once; unreadable ones are reported, skipped).
import { readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { parseJsonOrdered } from "../../runtime/index.js";
import type { IEnv } from "../ir.js";

export function seedStates(specFile: string, env: IEnv): { states: unknown[]; skipped: string[] } {
  const states: unknown[] = [];
  const skipped: string[] = [];
  const sample = path.join(path.dirname(specFile), "state.json");
  const files = new Set<string>(existsSync(sample) ? [path.resolve(sample)] : []);
  for (const sc of env.scenarios) {
    if ("file" in sc.init) files.add(path.resolve(path.dirname(sc.file), sc.init.file));
    else states.push(sc.init.value);
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
