// The fuzzer's planner: when no record meets the requires a tool states on a parameter
// (compiler/fuzz/guards.ts), which actions can make one that does? An action that inserts into
// the table with fields that meet them (a literal, a default, or a parameter the planner sets),
// or one that assigns a field a value that meets one of them (`c.status = "approved"`). The
// engine runs one of those first, on a record it picks by that action's own requires (planning
// again, a few levels deep, when those are unmet too), and the next call follows the record the
// action touched. Static and approximate: an enabler may still be refused, which is a call like
// any other.
import type { IEnv, ITool } from "../ir.js";
import { actionEffects, literalMeets, toolGuide, type Effect, type Pred } from "./guards.js";
import type { Unmet } from "./args.js";

export interface Enabler {
  /** index of the action among the fuzzed tools */
  tool: number;
  /** arguments the planner sets so that the written value meets the require */
  force?: Record<string, unknown>;
}

export class Planner {
  private effects: Effect[][];
  private cache = new Map<string, Enabler[]>();

  constructor(private env: IEnv, private tools: readonly ITool[]) {
    this.effects = tools.map((t) => (t.kind === "action" ? actionEffects(env, t) : []));
  }

  private byLocation = new Map<string, Map<string, Unmet>>();

  /**
   * The parameter whose record a require at `location` (file:line:col) is about, as an Unmet
   * for enablersFor: after a call is refused there, the engine can run what makes it hold.
   */
  unmetAt(tool: ITool, location: string): Unmet | undefined {
    let at = this.byLocation.get(tool.name);
    if (!at) {
      at = new Map();
      for (const [param, g] of toolGuide(this.env, tool).params) {
        const role = g.role;
        if (!role || (role.kind !== "key" && role.kind !== "field")) continue;
        for (const p of role.preds) if (!at.has(p.at)) at.set(p.at, { tool: tool.name, param, table: role.table, preds: role.preds });
      }
      this.byLocation.set(tool.name, at);
    }
    return at.get(location);
  }

  /** The actions that can make a record meeting `unmet`'s requires (cached per tool and parameter). */
  enablersFor(unmet: Unmet): Enabler[] {
    // the argument maker hands out one Unmet object per role and condition: cache by it first
    let found = this.byObject.get(unmet);
    if (found) return found;
    const id = `${unmet.tool}\u0000${unmet.param}\u0000${unmet.preds.map((p) => `${p.path.join(".")} ${p.op} ${p.at}`).join("|")}`;
    found = this.cache.get(id);
    if (!found) this.cache.set(id, (found = this.find(unmet.table, unmet.preds, unmet.tool)));
    this.byObject.set(unmet, found);
    return found;
  }
  private byObject = new WeakMap<Unmet, Enabler[]>();

  private find(table: string, preds: readonly Pred[], self: string): Enabler[] {
    const out: Enabler[] = [];
    // preds on the record itself; those one hop away (through a reference) are left to chance
    const own = preds.filter((p) => p.path.length === 1);
    this.tools.forEach((tool, ti) => {
      if (tool.name === self) return;
      const effects = this.effects[ti]!.filter((e) => e.table === table);
      if (effects.length === 0) return;
      const inserted = effects.filter((e) => e.insert);
      if (inserted.length) {
        const force: Record<string, unknown> = {};
        const fits = own.every((p) => {
          const e = inserted.find((x) => x.field === p.path[0]);
          if (!e || "unknown" in e.value) return true;
          if ("lit" in e.value) return literalMeets(e.value.lit, p.op, p.value);
          const v = valueMeeting(p);
          if (v === undefined) return true;
          force[e.value.param] = v;
          return true;
        });
        if (fits) out.push({ tool: ti, ...(Object.keys(force).length ? { force } : {}) });
        return;
      }
      // an assignment that makes one of the requires hold
      for (const p of own) {
        for (const e of effects) {
          if (e.field !== p.path[0] || "unknown" in e.value) continue;
          if ("lit" in e.value) {
            if (literalMeets(e.value.lit, p.op, p.value) && "lit" in p.value) {
              out.push({ tool: ti });
              return;
            }
          } else {
            const v = valueMeeting(p);
            if (v !== undefined) {
              out.push({ tool: ti, force: { [e.value.param]: v } });
              return;
            }
          }
        }
      }
    });
    return out;
  }
}

/** A literal that meets `pred` when written into its field, when one is obvious. */
function valueMeeting(p: Pred): unknown {
  if (!("lit" in p.value)) return undefined;
  const lit = p.value.lit;
  if (p.op === "==") return lit;
  if (p.op === "in" && Array.isArray(lit) && lit.length) return lit[0];
  return undefined;
}
