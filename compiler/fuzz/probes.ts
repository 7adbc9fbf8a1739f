// Boundary probes for `envc examples`: a twin of a spec's runtime definition whose tool and
// helper bodies report, for every ordering comparison (`<`, `<=`, `>`, `>=`) a call evaluates,
// how its two sides stood: one step below, equal, one step above (a step is 1 for numbers, a day
// for dates, a minute for datetimes). A call that puts a comparison exactly on its boundary, or
// one step off it, is the call that tells `<` from `<=` and `50000` from `50001`, so the
// recorder keeps one example per comparison and side. The twin behaves exactly as the spec (the
// probe computes the same JavaScript comparison the emitter would write), its invariants and
// schemas are the original's, and nothing else changes: the search runs on the twin, the
// recorded examples are replayed on the ordinary definition.
// Assumes: the tool bodies lower with JsEmitter as `envc mutate`'s fast path lowers them (the
// same code the emitted module holds, without types).
import * as runtime from "../../runtime/index.js";
import type { EnvDefinition } from "../../runtime/index.js";
import { isDate, isDatetime, dayNumber, minuteNumber } from "../../runtime/dates.js";
import { JsEmitter, toolFn } from "../emit-js.js";
import type { IEnv } from "../ir.js";

/** One side of a comparison's boundary: one step below, on it, one step above. */
export const SIDES = ["below", "at", "above"] as const;
export type Side = (typeof SIDES)[number];
/** bit of each side in a hit's mask */
export const SIDE_BIT: Record<Side, number> = { below: 1, at: 2, above: 4 };

export interface ProbeSite {
  /** `file:line:col` of the comparison */
  location: string;
  line: number;
  column: number;
  /** where it starts in the spec's text */
  offset: number;
  op: string;
}

/** What a call showed of one comparison: the sides it was seen on, and some operand pairs. */
export interface ProbeHit {
  mask: number;
  /** up to SAMPLES distinct (left, right) pairs, in the order first seen */
  samples: [unknown, unknown][];
}

const SAMPLES = 4;

/** How far `l` is from `r` in steps (numbers, dates by day, datetimes by minute), when they are comparable. */
export function stepsApart(l: unknown, r: unknown): number | undefined {
  if (typeof l === "number" && typeof r === "number") return l - r;
  if (typeof l === "string" && typeof r === "string") {
    if (l === r) return 0;
    if (isDate(l) && isDate(r)) return dayNumber(l) - dayNumber(r);
    if (isDatetime(l) && isDatetime(r)) return minuteNumber(l) - minuteNumber(r);
  }
  return undefined;
}

export class Probes {
  /** the comparisons, one per location (a site lowered twice keeps one index) */
  readonly sites: ProbeSite[] = [];
  /** the definition whose calls report to this object */
  readonly def: EnvDefinition;
  private current = new Map<number, ProbeHit>();

  constructor(env: IEnv, base: EnvDefinition) {
    const byLocation = new Map<string, number>();
    const ops: string[] = [];
    const js = new JsEmitter(env, false, env.file, (e, l, r) => {
      const location = `${env.file}:${e.span.start.line}:${e.span.start.column}`;
      let id = byLocation.get(location);
      if (id === undefined) {
        id = this.sites.length;
        byLocation.set(location, id);
        this.sites.push({ location, line: e.span.start.line, column: e.span.start.column, offset: e.span.start.offset, op: e.op });
      }
      ops[id] = e.op;
      return `$P(${id}, ${l}, ${r})`;
    });
    const fns = env.tools.map((t) => `function ${toolFn(t.name)}($s, $a) {\n${js.toolBody(t)}\n}`);
    const agent = env.tools.filter((t) => t.kind !== "fn");
    const code = `"use strict";\n${fns.join("\n")}\nreturn [${agent.map((t) => toolFn(t.name)).join(", ")}];`;
    const probe = (id: number, l: unknown, r: unknown): boolean => {
      const op = ops[id];
      // the comparison the emitter writes without probes: JavaScript's, on the same values
      const value = op === "<" ? (l as number) < (r as number) : op === "<=" ? (l as number) <= (r as number) : op === ">" ? (l as number) > (r as number) : (l as number) >= (r as number);
      const d = stepsApart(l, r);
      const bit = d === -1 ? 1 : d === 0 ? 2 : d === 1 ? 4 : 0;
      let hit = this.current.get(id);
      if (!hit) this.current.set(id, (hit = { mask: 0, samples: [] }));
      hit.mask |= bit;
      if (hit.samples.length < SAMPLES && !hit.samples.some(([a, b]) => a === l && b === r)) hit.samples.push([l, r]);
      return value;
    };
    // our compiler's output for a checked spec, not user-supplied JavaScript
    const runs = new Function("rt", "$P", code)(runtime, probe) as EnvDefinition["tools"][number]["run"][];
    this.def = { ...base, tools: base.tools.map((t, i) => ({ ...t, run: runs[i]! })) };
  }

  /** Forget what the calls so far showed: call before the call to watch. */
  reset(): void {
    this.current = new Map();
  }

  /** What the calls since the last reset showed, per site. */
  hits(): ReadonlyMap<number, ProbeHit> {
    return this.current;
  }
}
