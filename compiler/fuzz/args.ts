// Tool arguments for fuzzing, drawn mostly from the live state and steered by the tool's
// preconditions (compiler/fuzz/guards.ts): a parameter that names a record takes the key of
// one that meets the requires stated on it (`c.status == "submitted"`), preferring records the
// run just created or changed; a parameter that must match a field of another one's record
// takes that field; numbers sit on and around the bounds the requires state. Now and then a
// record is picked that breaks exactly one of those requires, so each can be seen to fail,
// and edge values (empty and long strings, unknown ids, zero, negatives, wrong enum values,
// impossible dates) still come. A parameter no record could satisfy is reported as `unmet`,
// for the engine's planner. Choices come from a seeded PRNG, so a call seed always gives the
// same arguments on the same state and run.
import type { Environment, Table } from "../../runtime/index.js";
import type { IEnv, ITool, Type } from "../ir.js";
import { stripOptional } from "../ir.js";
import { walkIr, isExpr, type INode } from "../ir-walk.js";
import { EDGE_DATES, EDGE_DATETIMES, isDate, isDatetime, shiftDay } from "../../runtime/dates.js";
import { compare, toolGuide, type Operand, type ParamGuide, type Pred } from "./guards.js";

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where values for a parameter may come from in a state: a table's keys, a field of a table. */
interface Sources {
  keysOf: Map<string, string>; // parameter name -> table whose entity key has that name
  fieldOf: Map<string, { table: string; field: string }[]>; // parameter name -> fields with that name
  tables: string[];
  /** per table (same order): the field its records hold their key in, if they hold it */
  keyFields: (string | undefined)[];
  dateGlobals: string[];
}

/** Examples a parameter's description gives: `e.g. 2024-04`, `such as "gold"`, `like X, Y`. */
export function examplesIn(description: string | undefined): string[] {
  if (!description) return [];
  const out: string[] = [];
  for (const m of description.matchAll(/(?:e\.g\.|for example|such as|like)[:,]?\s+((?:"[^"]*"|'[^']*'|`[^`]*`|[^\s,;)]+)(?:\s*(?:,|or)\s*(?:"[^"]*"|'[^']*'|`[^`]*`|[^\s,;)]+))*)/gi)) {
    for (const part of m[1]!.split(/\s*(?:,|\bor\b)\s*/)) {
      const v = part.replace(/^["'`]|["'`]$/g, "").replace(/[.:]$/, "");
      if (v) out.push(v);
    }
  }
  return out;
}

/** Parameter names that want a record's key: `order_id`, `item_ids`, `to_account`. */
const ID_LIKE = /(^|_)id$|_ids?$|^(to|from)_/;

// The choices below are module constants: an array literal in a hot function is a new array
// on every call, and arguments are made for every fuzzed call.
const EDGE_STRINGS = ["", "nope", "X".repeat(300), " ", "ÄΩ🙂"];
// 2^31 and 1e9: an argument that sets a loop's length runs the call over its step budget
// (runtime/env.ts), a finding (docs/cli.md, envc fuzz)
const EDGE_INTS = [0, -1, -100, 2 ** 31, 1e9];
const STEP_INT = [0, 1, -1];
const STEP_INT_FROM_STATE = [0, 0, 1, -1];
const COMMON_INTS = [0, 1, 1, 2, 3, 5, 10, 30, 100, -1];
const EDGE_NUMBERS = [0, -1, -0.01, 1e9, 0.005];
const STEP_NUMBER = [0, 0.01, -0.01, 1, -1];
const COMMON_NUMBERS = [0, 1, 2.5, 10, 19.99, 50, 100, 250.75, 1000];
const DAY_SHIFTS = [0, 0, 1, -1, 2, 7, 30, -30];
const TIMES_OF_DAY = ["08:00:00", "09:30:00", "12:00:00", "16:45:00"];
const JSON_VALUES: unknown[] = [null, 1, "x", [1, 2], { a: 1 }];
const DATE_PREFIXES = [4, 7];


/** Number and string literals a tool's body uses, with those of the helpers it calls. */
export interface Literals {
  numbers: number[];
  strings: string[];
  /** the integers among numbers */
  ints: number[];
}

function collectLiterals(env: IEnv, tool: ITool): Literals {
  const numbers = new Set<number>();
  const strings = new Set<string>();
  const seen = new Set<string>([tool.name]);
  const fns = new Map(env.tools.filter((t) => t.kind === "fn").map((t) => [t.name, t]));
  const visit = (n: INode): void => {
    if (!isExpr(n)) return; // statements hold no literals themselves, only their expressions
    if (n.e === "lit") {
      if (typeof n.value === "number") numbers.add(n.value);
      else if (typeof n.value === "string" && n.value.length > 0 && n.value.length < 40) strings.add(n.value);
    } else if (n.e === "call" && !seen.has(n.callee)) {
      seen.add(n.callee);
      const fn = fns.get(n.callee);
      if (fn) walkIr(fn.body, visit);
    }
  };
  walkIr(tool.body, visit);
  return { numbers: [...numbers], strings: [...strings], ints: [...numbers].filter((n) => Number.isInteger(n)) };
}

/** A parameter no record met the requires of, in the last `make`: what the planner works on. */
export interface Unmet {
  tool: string;
  param: string;
  table: string;
  preds: Pred[];
}

/** A value that means "no guided choice: draw as usual". */
const NONE: unique symbol = Symbol("none");

// how often a parameter with a role or stated bounds is steered by them (the rest are drawn
// as before, so that the requires keep failing now and then too)
const GUIDED = 0.75;
const VIOLATE = 0.15;
const SAME = 0.7;
const NEAR_BOUND = 0.35;
/** records looked at for one parameter: the run's recent ones, then this many drawn at random */
const SAMPLED = 10;
/** keys the run created or touched, kept per table */
const RECENT = 6;

export class ArgMaker {
  private sources: Sources;
  private literals = new Map<string, Literals>();
  private guides = new Map<string, Map<string, ParamGuide>>();
  /** per table (sources.tables order): keys this run created or acted on, newest last */
  private recent: string[][] = [];
  /** the record each parameter of the call being made was steered to */
  private chosen = new Map<string, Record<string, unknown>>();
  /** the arguments drawn so far in the call being made (requires compare parameters too) */
  private drawn: Record<string, unknown> = {};
  /** parameters of the last `make` whose requires no record met */
  unmet: Unmet[] = [];
  /** in the last `make`, a require meant to be seen failing that no record broke: the negated
   * condition (for the planner) and its index among the parameter's conditions */
  unbroken: { unmet: Unmet; index: number } | undefined;
  /** for the `make` under way: break this condition of this parameter's record */
  private violateNext: { param: string; index: number } | undefined;
  /** the literals of the tool being called: boundaries (`days <= 31`) and codes worth trying */
  private current: Literals = { numbers: [], strings: [], ints: [] };
  constructor(env: IEnv) {
    for (const t of env.tools) if (t.kind !== "fn") this.literals.set(t.name, collectLiterals(env, t));
    for (const t of env.tools) if (t.kind !== "fn") this.guides.set(t.name, toolGuide(env, t).params);
    const keysOf = new Map<string, string>();
    const fieldOf = new Map<string, { table: string; field: string }[]>();
    const tables: string[] = [];
    const keyFields: (string | undefined)[] = [];
    for (const st of env.state) {
      if (!st.table) continue;
      tables.push(st.name);
      const entity = env.entities.find((e) => e.name === st.table)!;
      keysOf.set(entity.key, st.name);
      keyFields.push(entity.externalKey ? undefined : entity.key);
      for (const f of entity.type.fields) {
        const list = fieldOf.get(f.name) ?? [];
        list.push({ table: st.name, field: f.name });
        fieldOf.set(f.name, list);
      }
    }
    const dateGlobals = env.state.filter((s) => !s.table && (stripOptional(s.type).k === "date" || stripOptional(s.type).k === "datetime")).map((s) => s.name);
    this.sources = { keysOf, fieldOf, tables, keyFields, dateGlobals };
  }

  /**
   * String values of the records picked so far in this call, and of records that refer to
   * them: tools take related arguments (an event and its organizer, an order and one of its
   * items), which independent draws almost never hit.
   */
  private hints: string[][] = [];
  /** how many strings the hints hold: they are kept as the records' own string lists (cached
   * per frozen record), not copied into one list, and picked by index across them */
  private hintCount = 0;
  /** the hints that are keys of some table: what id-like parameters want */
  private hintKeys: string[] | null = null;
  /** the live state's tables, in sources.tables order, and the environment they are of */
  private liveTables: Table[] = [];
  private liveOf: Environment | null = null;
  /** examples given in the description of the parameter being drawn ("e.g. 2024-04") */
  private described: string[] = [];

  /**
   * Arguments for a tool's parameters on the live state. `start` is the state the run began
   * from: records that refer to a picked one are searched there, because its record list is
   * built once and shared by every run, where the live fork's changes after each write.
   */
  make(
    tool: Pick<ITool, "name" | "params">, live: Environment, rand: () => number, start: Environment = live,
    force?: Record<string, unknown>, violate?: { param: string; index: number },
  ): Record<string, unknown> {
    const plan = this.planOf(tool);
    this.unbroken = undefined;
    this.violateNext = violate;
    this.current = plan.literals;
    const args: Record<string, unknown> = {};
    this.hints.length = 0;
    this.hintCount = 0;
    this.hintKeys = null;
    this.liveKeys = null;
    this.unmet.length = 0;
    // Map.clear allocates a new table even when the map is empty, and most calls steer nothing
    if (this.chosen.size) this.chosen.clear();
    this.drawn = args;
    if (live !== this.liveOf) {
      // a run calls on one live fork throughout, whose tables stay the same objects
      this.liveOf = live;
      this.liveTables = this.sources.tables.map((t) => live.table(t)!);
      this.beginRun();
    }
    for (let i = 0; i < plan.params.length; i++) {
      const p = plan.params[i]!;
      let v: unknown;
      if (force && Object.hasOwn(force, p.name)) v = force[p.name];
      else {
        // optional parameters are left out now and then, to reach their defaults
        if (!p.required && rand() < 0.3) continue;
        this.described = plan.described[i]!;
        const guide = plan.guides[i];
        let steered: unknown = NONE;
        if (guide && p.type.k === "list") {
          // the guards of a list parameter are its elements' (`for id in ids { ... }`)
          const elem = plan.elems[i]!;
          const n = 1 + Math.floor(rand() * 3);
          const list: unknown[] = [];
          for (let j = 0; j < n; j++) {
            const v = this.steered(tool.name, elem, guide, live, rand);
            list.push(v === NONE ? this.value(elem.type, plan.elemNames[i]!, live, rand, 1) : v);
          }
          steered = list;
        } else if (guide) steered = this.steered(tool.name, p, guide, live, rand);
        v = steered === NONE ? this.value(p.type, p.name, live, rand, 0) : steered;
      }
      args[p.name] = v;
      // hints serve the string parameters still to come; when none is left, only the draws
      // are made (so that the same seed still gives the same arguments)
      if (typeof v === "string" && i < plan.params.length - 1) this.noteRelated(v, start, rand, plan.stringsAfter[i]!);
    }
    return args;
  }

  /** Forget the records the last run touched (a run starts on a new fork). */
  beginRun(): void {
    this.recent = this.sources.tables.map(() => []);
  }

  /**
   * After a successful action: remember the records it acted on (its key arguments) and those
   * its result names (a new record's key), so that the next calls of the run can follow them
   * (create a claim, then approve it, then pay it).
   */
  noteSuccess(tool: Pick<ITool, "name">, args: Record<string, unknown>, result: unknown): void {
    const guide = this.guides.get(tool.name);
    if (guide)
      for (const [name, g] of guide) {
        const v = args[name];
        if (g.role?.kind === "key" && typeof v === "string") this.remember(this.tableIndex(g.role.table), v);
      }
    if (result && typeof result === "object" && !Array.isArray(result)) {
      // a record the action returns (an inserted claim), or records one level down ({ loan, fines })
      this.rememberRecord(result as Record<string, unknown>);
      for (const k in result) {
        const v = (result as Record<string, unknown>)[k];
        if (v && typeof v === "object" && !Array.isArray(v)) this.rememberRecord(v as Record<string, unknown>);
      }
    } else if (typeof result === "string") for (let t = 0; t < this.liveTables.length; t++) if (this.liveTables[t]!.has(result)) this.remember(t, result);
  }

  /** If `rec` holds the key field of some table and that key is in it, remember it. */
  private rememberRecord(rec: Record<string, unknown>) {
    const keyFields = this.sources.keyFields;
    for (let t = 0; t < keyFields.length; t++) {
      const field = keyFields[t];
      const v = field ? rec[field] : undefined;
      if (typeof v === "string" && this.liveTables[t]!.has(v)) this.remember(t, v);
    }
  }

  private tableIndexes = new Map<string, number>();
  private tableIndex(name: string): number {
    let i = this.tableIndexes.get(name);
    if (i === undefined) this.tableIndexes.set(name, (i = this.sources.tables.indexOf(name)));
    return i;
  }

  private remember(table: number, key: string) {
    const list = this.recent[table];
    if (!list) return;
    const at = list.indexOf(key);
    if (at >= 0) list.splice(at, 1);
    list.push(key);
    if (list.length > RECENT) list.shift();
  }

  /** A value the parameter's guards suggest, or NONE to draw as usual. */
  private steered(tool: string, p: ITool["params"][number], g: ParamGuide, live: Environment, rand: () => number): unknown {
    const role = g.role;
    if (role?.kind === "in") {
      if (rand() >= GUIDED) return NONE;
      let container: unknown;
      if ("global" in role) container = live.globals[role.global];
      else if ("table" in role) {
        // some record of the table: one the call's records name (an order's product) first
        const ti = this.tableIndex(role.table);
        const table = this.liveTables[ti];
        if (!table) return NONE;
        const related = this.hintCount && rand() < SAME ? this.keyHints().filter((k) => table.has(k)) : [];
        const key = related.length ? this.pick(related, rand) : this.pick(table.keys(), rand);
        const rec = key === undefined ? undefined : (table.get(key) as Record<string, unknown> | undefined);
        container = rec ? this.readPath(rec, role.path, undefined, live) : undefined;
      } else {
        const rec = this.chosen.get(role.param);
        container = rec ? this.readPath(rec, role.path, role.via, live) : undefined;
      }
      if (Array.isArray(container)) {
        if (!container.length) return NONE;
        const el = container[Math.floor(rand() * container.length)];
        const field = "elemField" in role ? role.elemField : undefined;
        if (!field) return el;
        const v = el && typeof el === "object" ? (el as Record<string, unknown>)[field] : undefined;
        return v === undefined || v === null ? NONE : v;
      }
      if (container && typeof container === "object") {
        const keys = Object.keys(container);
        return keys.length ? keys[Math.floor(rand() * keys.length)] : NONE;
      }
      return NONE;
    }
    if (role && role.kind !== "same") {
      const forced = this.violateNext?.param === p.name ? this.violateNext.index : -1;
      if (forced < 0 && rand() >= GUIDED) return NONE;
      const ti = this.tableIndex(role.table);
      if (ti < 0) return NONE;
      const violate = forced >= 0 ? forced : role.preds.length && rand() < VIOLATE ? Math.floor(rand() * role.preds.length) : -1;
      const found = this.findRecord(ti, role.preds, violate, live, rand);
      if (!found) {
        // the same objects every time (per role, per condition): the planner caches by them
        if (violate < 0) this.unmet.push(unmetOf(role, tool, p.name));
        else if (!this.unbroken && forced < 0) {
          const broken = brokenOf(role, violate, tool, p.name);
          if (broken) this.unbroken = broken;
        }
        return NONE;
      }
      this.chosen.set(p.name, found.rec);
      if (role.kind === "key") return found.key;
      const v = found.rec[role.field];
      return v === undefined || v === null ? NONE : v;
    }
    if (role?.kind === "same") {
      const rec = this.chosen.get(role.param);
      if (rec && rand() < SAME) {
        const v = this.readPath(rec, role.path, role.via, live);
        if (v !== undefined && v !== null) return v;
      }
      return NONE;
    }
    const k = stripOptional(p.type).k;
    if (g.bounds.length && (k === "int" || k === "number") && rand() < NEAR_BOUND) {
      const b = g.bounds[Math.floor(rand() * g.bounds.length)]!;
      const rec = this.chosen.get(b.param);
      const v = rec ? this.readPath(rec, b.path, b.via, live) : undefined;
      if (typeof v === "number") return k === "int" ? Math.trunc(v) + this.pick(STEP_INT, rand)! : Math.round((v + this.pick(STEP_NUMBER, rand)!) * 100) / 100;
    }
    if (g.literals.length && rand() < NEAR_BOUND) {
      const lit = g.literals[Math.floor(rand() * g.literals.length)];
      if (typeof lit === "number" && k === "int" && Number.isInteger(lit)) return lit + this.pick(STEP_INT, rand)!;
      if (typeof lit === "number" && k === "number") return Math.round((lit + this.pick(STEP_NUMBER, rand)!) * 100) / 100;
      if (typeof lit === "string" && (k === "string" || k === "enum" || k === "date" || k === "datetime" || k === "ref")) return lit;
      if (typeof lit === "boolean" && k === "bool") return lit;
    }
    return NONE;
  }

  /**
   * A record of the table that meets every pred (or, with `violate` >= 0, breaks exactly that
   * one): the run's recent records first, newest first, then a few drawn at random.
   */
  private findRecord(ti: number, preds: readonly Pred[], violate: number, live: Environment, rand: () => number): { key: string; rec: Record<string, unknown> } | undefined {
    const table = this.liveTables[ti]!;
    const recent = this.recent[ti] ?? [];
    for (let i = recent.length - 1; i >= 0; i--) {
      const rec = table.get(recent[i]!) as Record<string, unknown> | undefined;
      if (rec && this.meets(rec, preds, violate, live)) return { key: recent[i]!, rec };
    }
    const keys = table.keys();
    if (keys.length === 0) return undefined;
    for (let n = 0; n < SAMPLED; n++) {
      const key = keys[Math.floor(rand() * keys.length)]!;
      const rec = table.get(key) as Record<string, unknown> | undefined;
      if (rec && this.meets(rec, preds, violate, live)) return { key, rec };
      if (keys.length === 1) break;
    }
    return undefined;
  }

  private meets(rec: Record<string, unknown>, preds: readonly Pred[], violate: number, live: Environment): boolean {
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i]!;
      const b = this.operand(p.value, live);
      // a parameter not drawn yet: no opinion
      const ok = b === NONE ? i !== violate : compare(this.readPath(rec, p.path, p.via, live), p.op, b);
      if (ok !== (i !== violate)) return false;
    }
    return true;
  }

  private operand(o: Operand, live: Environment): unknown {
    if ("lit" in o) return o.lit;
    if ("param" in o) return Object.hasOwn(this.drawn, o.param) ? this.drawn[o.param] : NONE;
    return live.globals[o.global];
  }

  /** A record's field, or (through `via`) a field of the record it refers to. */
  private readPath(rec: Record<string, unknown>, path: readonly string[], via: string | undefined, live: Environment): unknown {
    if (path.length === 1 || !via) return rec[path[0]!];
    const ref = rec[path[0]!];
    if (typeof ref !== "string") return undefined;
    const other = live.table(via)?.get(ref) as Record<string, unknown> | undefined;
    return other?.[path[1]!];
  }

  /** If `key` names a record, remember its string fields and those of a record referring to it. */
  private noteRelated(key: string, start: Environment, rand: () => number, used: boolean) {
    if (used)
      for (const t of this.liveTables) {
        const rec = t.get(key) as Record<string, unknown> | undefined;
        if (rec) this.addStrings(rec);
      }
    if (rand() < 0.5) {
      // a record of another table that refers to it (an invitation of the event, a loan of the copy)
      const table = this.pick(this.sources.tables, rand)!;
      const referrers = this.referrersIn(start, table).get(key);
      if (referrers) {
        const picked = referrers[Math.floor(rand() * referrers.length)];
        if (used) this.addStrings(picked);
      }
    }
  }

  /**
   * Per start state and table: each string a record holds in a top-level field, and the records
   * holding it. Built once per start state (runs fork a few dozen of them), where scanning a
   * table per argument cost more than the call being fuzzed on tau-bench's 1,000 orders.
   */
  private referrers = new WeakMap<Environment, Map<string, Map<string, Record<string, unknown>[]>>>();

  private referrersIn(start: Environment, table: string): Map<string, Record<string, unknown>[]> {
    let byTable = this.referrers.get(start);
    if (!byTable) this.referrers.set(start, (byTable = new Map()));
    let index = byTable.get(table);
    if (!index) {
      index = new Map();
      for (const rec of start.table(table)!.values() as Record<string, unknown>[])
        for (const k in rec) {
          const v = rec[k];
          if (typeof v !== "string") continue;
          const list = index.get(v);
          if (!list) index.set(v, [rec]);
          else if (list[list.length - 1] !== rec) list.push(rec);
        }
      byTable.set(table, index);
    }
    return index;
  }

  /** The hints that are keys of some table, worked out when an id-like parameter asks. */
  private keyHints(): string[] {
    if (!this.hintKeys) {
      const keys: string[] = [];
      for (const chunk of this.hints) {
        const found = this.keysIn(chunk);
        for (let i = 0; i < found.length; i++) keys.push(found[i]!);
      }
      this.hintKeys = keys;
    }
    return this.hintKeys;
  }

  /**
   * The strings of a record's list that are keys of some live table. Cached per list (a frozen
   * record's list is itself cached) with the live tables' key lists it was worked out on: a
   * table's key list stays the same array until a record is inserted, deleted or moved, so
   * the same arrays mean the same keys.
   */
  private keysOfChunk = new WeakMap<string[], { on: string[][]; keys: string[] }>();
  /** the live tables' key lists during the `make` under way (tables do not change during one) */
  private liveKeys: string[][] | null = null;
  private keysIn(chunk: string[]): string[] {
    const on = (this.liveKeys ??= this.liveTables.map((t) => t.keys()));
    const cached = this.keysOfChunk.get(chunk);
    if (cached && cached.on.length === on.length && cached.on.every((k, i) => k === on[i])) return cached.keys;
    const keys = chunk.filter((h) => this.liveTables.some((t) => t.has(h)));
    this.keysOfChunk.set(chunk, { on, keys });
    return keys;
  }

  /** A hint picked at random, as `pick` over all of them in one list would pick it. */
  private pickHint(rand: () => number): string | undefined {
    if (this.hintCount === 0) return undefined;
    let i = Math.floor(rand() * this.hintCount);
    for (const chunk of this.hints) {
      if (i < chunk.length) return chunk[i];
      i -= chunk.length;
    }
    return undefined;
  }

  /** The short strings of a record (its fields, and theirs two levels down), as hints. */
  private addStrings(rec: object) {
    const strings = stringsIn(rec);
    if (strings.length === 0) return;
    this.hints.push(strings);
    this.hintCount += strings.length;
    this.hintKeys = null;
  }

  private plans = new Map<string, ToolPlan>();

  /** Per tool, worked out once: parameters that name records first, then those named like a
   * table's key, then those that follow another's record (so that they can follow it), the
   * examples in each description, the body's literals, each parameter's guards. */
  private planOf(tool: Pick<ITool, "name" | "params">) {
    let plan = this.plans.get(tool.name);
    if (!plan) {
      const guide = this.guides.get(tool.name);
      const rank = (p: ITool["params"][number]) => {
        const role = guide?.get(p.name)?.role;
        if (role && (role.kind === "key" || role.kind === "field")) return 0;
        if (this.sources.keysOf.has(p.name)) return 1;
        return role ? 2 : 3;
      };
      const params = [...tool.params].sort((a, b) => rank(a) - rank(b));
      plan = {
        params,
        described: params.map((p) => examplesIn(p.description)),
        literals: this.literals.get(tool.name) ?? { numbers: [], strings: [], ints: [] },
        // does a later parameter draw strings (and so read the hints)?
        stringsAfter: params.map((_, i) => params.slice(i + 1).some((p) => drawsStrings(p.type))),
        guides: params.map((p) => {
          const g = guide?.get(p.name);
          return g && (g.role || g.literals.length || g.bounds.length) ? g : undefined;
        }),
        // a list parameter's elements, as steered() takes them (under the list's name), and
        // the name value() draws them by (the singular)
        elems: params.map((p) => (p.type.k === "list" ? { ...p, type: p.type.elem } : undefined)),
        elemNames: params.map((p) => singular(p.name)),
      };
      this.plans.set(tool.name, plan);
    }
    return plan;
  }

  /** A string field of a random record (or a date global), whole or a piece of it: a word, a prefix, lower-cased. */
  private pieceOfState(live: Environment, rand: () => number): string | undefined {
    let text: string | undefined;
    const table = this.pickTable(rand);
    const key = table ? this.pick(table.keys(), rand) : undefined;
    if (key !== undefined && rand() < 0.8) text = this.pick(fieldStringsOf(table!.get(key)!), rand);
    else {
      const g = this.pick(this.sources.dateGlobals, rand);
      const v = g ? live.globals[g] : undefined;
      if (typeof v === "string") text = v;
    }
    if (text === undefined) return undefined;
    const how = rand();
    if (how < 0.3) return text;
    if (how < 0.55) return this.pick(wordsOf(text), rand) ?? text;
    if (how < 0.8) return /^\d{4}-\d{2}/.test(text) ? text.slice(0, this.pick(DATE_PREFIXES, rand)) : text.slice(0, Math.max(1, Math.ceil(text.length / 2)));
    return text.toLowerCase();
  }

  private pick<T>(xs: readonly T[], rand: () => number): T | undefined {
    return xs.length ? xs[Math.floor(rand() * xs.length)] : undefined;
  }

  /** A random live table (as `pick` over the table names would choose it). */
  private pickTable(rand: () => number): Table | undefined {
    return this.pick(this.liveTables, rand);
  }

  /** Per parameter name, worked out once: where fromState() looks for it. */
  private names = new Map<string, NameSources>();

  private sourcesOf(name: string): NameSources {
    let found = this.names.get(name);
    if (!found) {
      const index = (table: string) => this.sources.tables.indexOf(table);
      const keyTable = this.sources.keysOf.get(name);
      found = {
        keyTable: keyTable ? index(keyTable) : -1,
        fields: (this.sources.fieldOf.get(name) ?? []).map((f) => ({ table: index(f.table), field: f.field })),
        anyKey: /(_id|_ids|id)$/.test(name) || name.startsWith("to_") || name.startsWith("from_") || name.endsWith("_account"),
        wantsKey: ID_LIKE.test(name),
      };
      this.names.set(name, found);
    }
    return found;
  }

  /** A value of a field with this name, from a random record of a table that has one. */
  private fromState(name: string, rand: () => number): unknown {
    const from = this.sourcesOf(name);
    if (from.keyTable >= 0 && rand() < 0.8) {
      const key = this.pick(this.liveTables[from.keyTable]!.keys(), rand);
      if (key !== undefined) return key;
    }
    if (from.fields.length) {
      const f = this.pick(from.fields, rand)!;
      const t = this.liveTables[f.table]!;
      const key = this.pick(t.keys(), rand);
      if (key !== undefined) {
        const v = (t.get(key) as Record<string, unknown>)[f.field];
        if (v !== undefined && v !== null) return v;
      }
    }
    if (from.anyKey) {
      const table = this.pickTable(rand);
      const key = table ? this.pick(table.keys(), rand) : undefined;
      if (key !== undefined) return key;
    }
    return undefined;
  }

  private value(type: Type, name: string, live: Environment, rand: () => number, depth: number): unknown {
    if (type.k === "optional") return rand() < 0.2 ? null : this.value(type.inner, name, live, rand, depth);
    // edge values now and then: the argument checks are well tested elsewhere, tool logic is not
    const edge = rand() < 0.06;
    const r = rand();
    switch (type.k) {
      case "string":
      case "ref": {
        if (edge) return this.pick(EDGE_STRINGS, rand);
        if (r < 0.5 && this.hintCount && this.sourcesOf(name).wantsKey) {
          const keys = this.keyHints();
          if (keys.length) return this.pick(keys, rand);
        }
        if (this.hintCount && r < 0.35) return this.pickHint(rand);
        const fromState = this.fromState(name, rand);
        if (typeof fromState === "string" && r < 0.85) return fromState;
        // free text (search terms, months, codes): the parameter's documented example, or a
        // piece of some value in the state, reach far more code than made-up words
        const roll = rand();
        if (depth === 0 && this.described.length && roll < 0.3) return this.pick(this.described, rand);
        if (this.current.strings.length && roll > 0.9) return this.pick(this.current.strings, rand);
        if (roll < 0.75) {
          const piece = this.pieceOfState(live, rand);
          if (piece !== undefined) return piece;
        }
        return this.pick(["a", "test", "Hello world", "x1", name], rand);
      }
      case "enum":
        if (edge) return "not_a_value";
        return this.pick(type.values, rand) ?? "";
      case "int": {
        if (edge) return this.pick(EDGE_INTS, rand);
        if (this.current.ints.length && r > 0.8) return this.pick(this.current.ints, rand)! + this.pick(STEP_INT, rand)!;
        const v = this.fromState(name, rand);
        if (typeof v === "number" && Number.isInteger(v) && r < 0.5) return v + this.pick(STEP_INT_FROM_STATE, rand)!;
        return this.pick(COMMON_INTS, rand);
      }
      case "number": {
        if (edge) return this.pick(EDGE_NUMBERS, rand);
        if (this.current.numbers.length && r > 0.8) return Math.round((this.pick(this.current.numbers, rand)! + this.pick(STEP_NUMBER, rand)!) * 100) / 100;
        const v = this.fromState(name, rand);
        if (typeof v === "number" && r < 0.5) return v;
        return this.pick(COMMON_NUMBERS, rand);
      }
      case "bool":
        return rand() < 0.5;
      case "date":
      case "datetime": {
        const base = this.dateFromState(name, live, rand);
        if (edge) return this.pick(type.k === "date" ? EDGE_DATES : EDGE_DATETIMES, rand);
        if (!base) return type.k === "date" ? "2024-01-01" : "2024-01-01T09:00:00";
        const shift = this.pick(DAY_SHIFTS, rand)!;
        const day = shiftedDay(base, shift);
        if (type.k === "date") return day;
        // the very instant the state holds now and then (a start equal to the clock, a new
        // start equal to the old end): where the boundaries of datetime comparisons lie
        if (shift === 0 && base.length > 10 && r < 0.4) return base;
        return `${day}T${this.pick(TIMES_OF_DAY, rand)}`;
      }
      case "list": {
        if (depth > 2) return [];
        const n = Math.floor(rand() * 4);
        const elemName = singular(name);
        return Array.from({ length: n }, () => this.value(type.elem, elemName, live, rand, depth + 1));
      }
      case "map": {
        if (depth > 2) return {};
        const out: Record<string, unknown> = {};
        for (let i = Math.floor(rand() * 3); i > 0; i--) out[String(this.value(type.key, "key", live, rand, depth + 1))] = this.value(type.value, name, live, rand, depth + 1);
        return out;
      }
      case "record": {
        const out: Record<string, unknown> = {};
        for (const f of type.fields) {
          if ((f.hasDefault || f.type.k === "optional") && rand() < 0.4) continue;
          out[f.name] = this.value(f.type, f.name, live, rand, depth + 1);
        }
        return out;
      }
      case "json":
        return this.pick(JSON_VALUES, rand);
      default:
        return null;
    }
  }

  private dateFromState(name: string, live: Environment, rand: () => number): string | undefined {
    const v = this.fromState(name, rand);
    if (isDate(v) || isDatetime(v)) return v;
    const g = this.pick(this.sources.dateGlobals, rand);
    const gv = g ? live.globals[g] : undefined;
    return typeof gv === "string" ? gv : undefined;
  }
}

/**
 * What `make` gives for `key`, computed once: states hold few distinct dates and texts. The
 * cache starts over past 10,000 entries, so that a long session does not grow it for ever.
 */
function remembered<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size > 10_000) cache.clear();
    cache.set(key, (value = make()));
  }
  return value;
}

/** `base`'s day (YYYY-MM-DD...) moved by `shift` days. */
const shiftedDays = new Map<string, string>();
function shiftedDay(base: string, shift: number): string {
  return remembered(shiftedDays, `${shift} ${base}`, () => shiftDay(base, shift) ?? base.slice(0, 10));
}

const unmets = new WeakMap<object, Unmet>();
/** The Unmet of a parameter's role, made once. */
function unmetOf(role: { table: string; preds: Pred[] }, tool: string, param: string): Unmet {
  let u = unmets.get(role);
  if (!u) unmets.set(role, (u = { tool, param, table: role.table, preds: role.preds }));
  return u;
}

const brokens = new WeakMap<object, ({ unmet: Unmet; index: number } | undefined)[]>();
/** For the planner, a record that breaks condition `index` of a role, as an Unmet made once. */
function brokenOf(role: { table: string; preds: Pred[] }, index: number, tool: string, param: string): { unmet: Unmet; index: number } | undefined {
  let list = brokens.get(role);
  if (!list) brokens.set(role, (list = role.preds.map((p, i) => {
    const n = negated(p);
    return n ? { unmet: { tool, param, table: role.table, preds: [n] }, index: i } : undefined;
  })));
  return list[index];
}

const NEGATED: Record<string, Pred["op"]> = { "==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<", in: "not in", "not in": "in" };

/** The condition that holds when `p` does not (for the planner: a record that breaks it). */
function negated(p: Pred): Pred | undefined {
  const op = NEGATED[p.op];
  return op ? { ...p, op } : undefined;
}

/** A list parameter's name for its elements: `item_ids` -> `item_id`. */
export function singular(name: string): string {
  return name.endsWith("s") ? name.slice(0, -1) : name;
}

/** Does drawing a value of this type draw strings, which may come from the hints? */
function drawsStrings(type: Type): boolean {
  switch (type.k) {
    case "string":
    case "ref":
      return true;
    case "optional":
      return drawsStrings(type.inner);
    case "list":
      return drawsStrings(type.elem);
    case "map":
      return drawsStrings(type.key) || drawsStrings(type.value);
    case "record":
      return type.fields.some((f) => drawsStrings(f.type));
    default:
      return false;
  }
}

/** What make() needs of a tool, worked out on its first call (ArgMaker.planOf). */
interface ToolPlan {
  params: ITool["params"];
  described: string[][];
  literals: Literals;
  stringsAfter: boolean[];
  guides: (ParamGuide | undefined)[];
  elems: (ITool["params"][number] | undefined)[];
  elemNames: string[];
}

/** Where values for a parameter of some name come from (tables by their index in Sources.tables). */
interface NameSources {
  /** the table whose key has this name, or -1 */
  keyTable: number;
  /** fields with this name */
  fields: { table: number; field: string }[];
  /** named like some key (`_id`, `to_`, `_account`): any table's key will do */
  anyKey: boolean;
  /** named like a key for the hints (ID_LIKE) */
  wantsKey: boolean;
}

/**
 * What `make` reads off a record, remembered per record when it is frozen: records in a table
 * are frozen outside a transaction (the runtime deep-freezes what it commits), so they never
 * change.
 */
function perRecord<V>(cache: WeakMap<object, V>, rec: object, make: (rec: object) => V): V {
  if (!Object.isFrozen(rec)) return make(rec);
  let value = cache.get(rec);
  if (value === undefined) cache.set(rec, (value = make(rec)));
  return value;
}

/** Short strings of a record: its fields, and theirs two levels down, in field order. */
const recordStrings = new WeakMap<object, string[]>();
function stringsIn(rec: object): string[] {
  return perRecord(recordStrings, rec, (r) => collectStrings(r, 0, []));
}

function collectStrings(value: unknown, depth: number, into: string[]): string[] {
  if (typeof value === "string") {
    if (value.length > 0 && value.length < 64) into.push(value);
  } else if (value && typeof value === "object" && depth < 3) {
    if (Array.isArray(value)) for (const v of value) collectStrings(v, depth + 1, into);
    else for (const k in value as Record<string, unknown>) collectStrings((value as Record<string, unknown>)[k], depth + 1, into);
  }
  return into;
}

/** The non-empty string fields of a record (top level only). */
const recordFieldStrings = new WeakMap<object, string[]>();
function fieldStringsOf(rec: object): string[] {
  return perRecord(recordFieldStrings, rec, (obj) => {
    const r = obj as Record<string, unknown>;
    const found: string[] = [];
    for (const k in r) if (typeof r[k] === "string" && (r[k] as string).length > 0) found.push(r[k] as string);
    return found;
  });
}

/** The words of a text (split at spaces and @._-/). */
const textWords = new Map<string, string[]>();
function wordsOf(text: string): string[] {
  return remembered(textWords, text, () => text.split(/[\s@._\-/]+/).filter(Boolean));
}
