// The example recorder's local search (examples.ts runs it after its random search). For each
// goal the random search missed (a tool that never succeeded, a precondition never tripped, a
// side of a comparison's boundary never seen) it starts from the examples that came closest and
// tries small changes, one replay each:
//   1. move what holds one operand of the comparison (as the probes saw it on the example's last
//      call), an argument of that call or a state field, so that the two sides land where wanted:
//      a battery argument set to the 80 left above the reserve, a supervisor's limit of 100000 set
//      to the 50000 the require compares it with, a cap of 10 set to the 2 counted;
//   2. change a field of a record the last call names, or of a record that one refers to, or a
//      scalar state field: a flag negated, another enum value, a number to 0 or one step off, a
//      list emptied, an optional cleared (a section closed, a capacity cut, courses forgotten);
//   3. run one more action first, its arguments naming the same records as the last call;
//   4. add copies of a record that refers to one the last call names, as many as take a count in
//      a comparison to where wanted (a fifth claim under review for an adjuster capped at five).
// A changed state must still be valid (schema, references, invariants: Environment.createFrom),
// else it is not tried; an example on it names the state file and the change (the episode's
// `set`), or carries a changed generated state inline, so states over MAX_INLINE_STATE characters
// of JSON are not changed. Tries are bounded per goal and drawn from a seeded PRNG: the same
// spec, states and seed give the same examples.
import { Environment, StateError, changedState, type StateChange } from "../../runtime/index.js";
import { dateAdd, datetimeAdd, isDate, isDatetime } from "../../runtime/dates.js";
import { preconditionsIn, stripOptional, type IEntity, type IEnv, type ITool, type Type } from "../ir.js";
import { prng } from "./args.js";
import { lookupByReference, type FuzzCall } from "./engine.js";
import { toolGuide } from "./guards.js";
import { SIDES, type ProbeHit, type Side } from "./probes.js";
import { edgeKey, MAX_INLINE_STATE, type Found, type Recorder } from "./examples.js";

/** examples a goal's search starts from */
const SEEDS = 3;
/** tries from each of them */
const PER_SEED = 60;
/** state fields moved to one value */
const PLACES = 4;
/** records named by a call that are changed, and prefix arguments drawn per action */
const NAMED = 6;
const DRAWS = 2;
/** records copied to raise a count, and how many copies at most */
const REFERRERS = 3;
const MAX_COPIES = 8;

type Target =
  | { kind: "ok"; tool: number }
  | { kind: "trip"; tool: number; at: string; from: number; to: number }
  | { kind: "edge"; site: number; side: Side };

/** A try: the calls, from the seed's start or from a copy of its state with one change. */
interface Try {
  set?: StateChange[];
  calls: FuzzCall[];
}

type Json = Record<string, unknown>;
/** where a field is: `[state field]` or `[table, key, field]` */
type Place = string[];

/** A seed to search from: where it starts, its calls, what its last call's comparisons showed. */
type Seed = Pick<Found, "start" | "calls" | "hits"> & { goal?: Found["goal"] };

export interface DeepenOptions {
  seed: number;
}

export function deepen(rec: Recorder, options: DeepenOptions): void {
  new Search(rec, options.seed).run();
}

class Search {
  private env: IEnv;
  private rand: () => number;
  private tables: { name: string; entity: IEntity }[];
  private globals: { name: string; type: Type }[];
  /** location of every precondition (of tools and helpers) -> its text's offsets */
  private spans = new Map<string, { from: number; to: number }>();
  private states = new Map<number, { json: Json; small: boolean }>();

  constructor(private rec: Recorder, seed: number) {
    this.env = rec.env;
    this.rand = prng(seed ^ 0x9e3779b9);
    this.tables = this.env.state.flatMap((s) => {
      const entity = s.table ? this.env.entities.find((e) => e.name === s.table) : undefined;
      return entity ? [{ name: s.name, entity }] : [];
    });
    this.globals = this.env.state.filter((s) => !s.table).map((s) => ({ name: s.name, type: s.type }));
    for (const t of this.env.tools)
      for (const p of preconditionsIn(t.body)) this.spans.set(this.loc(p.span.start), { from: p.span.start.offset, to: p.span.end.offset });
  }

  private loc(at: { line: number; column: number }): string {
    return `${this.env.file}:${at.line}:${at.column}`;
  }

  /** The goals the random search missed, in a fixed order: tools, their requires, then comparisons. */
  private targets(): Target[] {
    const out: Target[] = [];
    const { rec, env } = this;
    rec.tools.forEach((tool, ti) => {
      if (rec.successes[ti]!.size === 0) out.push({ kind: "ok", tool: ti });
      for (const p of preconditionsIn(tool.body)) {
        if (p.s === "let" && lookupByReference(env, p.value)) continue; // cannot fail
        const at = this.loc(p.span.start);
        if (!rec.found.has(`${tool.name}\u0000${at}`)) out.push({ kind: "trip", tool: ti, at, from: p.span.start.offset, to: p.span.end.offset });
      }
    });
    const evaluated = new Set<number>();
    for (const f of rec.found.values()) for (const site of f.hits.keys()) evaluated.add(site);
    for (const site of rec.seen.keys()) evaluated.add(site);
    for (const site of [...evaluated].sort((a, b) => a - b))
      for (const side of SIDES) if (!rec.found.has(edgeKey(site, side))) out.push({ kind: "edge", site, side });
    return out;
  }

  private reached(t: Target): boolean {
    const rec = this.rec;
    if (t.kind === "ok") return rec.successes[t.tool]!.size > 0;
    if (t.kind === "trip") return rec.found.has(`${rec.tools[t.tool]!.name}\u0000${t.at}`);
    return rec.found.has(edgeKey(t.site, t.side));
  }

  /** The examples to start from, closest first. */
  private seedsOf(t: Target): Seed[] {
    const all = [...this.rec.found.values()];
    if (t.kind === "edge") {
      const seeds: Seed[] = all.filter((f) => f.hits.has(t.site));
      const seen = this.rec.seen.get(t.site);
      if (seen) seeds.push(seen);
      return seeds.slice(0, SEEDS);
    }
    const mine = all.filter((f) => f.tool === t.tool);
    const lineOf = (f: Found) => (f.goal.kind === "trip" ? Number(f.goal.at.split(":").at(-2)) : Infinity);
    // successes passed every require; a trip further down passed this one
    const rank = (f: Found) => -lineOf(f);
    return mine.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f).slice(0, SEEDS);
  }

  run(): void {
    for (const t of this.targets()) {
      for (const seed of this.seedsOf(t)) {
        if (this.reached(t)) break;
        this.from(t, seed);
      }
    }
  }

  /** Up to PER_SEED tries around one seed, the four kinds of change taken in turn. */
  private from(t: Target, seed: Seed): void {
    const gens = [this.moves(t, seed), this.tweaks(seed), this.prefixed(seed), this.copies(t, seed)];
    let tries = 0;
    while (gens.length && tries < PER_SEED) {
      for (let i = 0; i < gens.length && tries < PER_SEED; ) {
        const next = gens[i]!.next();
        if (next.done) {
          gens.splice(i, 1);
          continue;
        }
        tries++;
        this.attempt(next.value, seed);
        if (this.reached(t)) return;
        i++;
      }
    }
  }

  private attempt(t: Try, seed: Seed): void {
    const rec = this.rec;
    let startEnv: Environment;
    let start: number | (() => number);
    if (t.set) {
      try {
        startEnv = Environment.createFrom(rec.probes.def, changedState(this.stateOf(seed.start).json, t.set));
      } catch (err) {
        if (err instanceof StateError) return;
        throw err;
      }
      const made = startEnv;
      const set = t.set;
      start = () => rec.addStart(made, seed.start, set);
    } else {
      startEnv = rec.probed[seed.start]!;
      start = seed.start;
    }
    const run = rec.last(startEnv, t.calls);
    const ti = rec.tools.findIndex((x) => x.name === t.calls[t.calls.length - 1]!.name);
    rec.consider(ti, start, startEnv, t.calls, run.result, run.live, run.before, run.hits);
  }

  private stateOf(start: number): { json: Json; small: boolean } {
    let s = this.states.get(start);
    if (!s) {
      const json = this.rec.starts[start]!.env.toJSON();
      this.states.set(start, (s = { json, small: JSON.stringify(json).length <= MAX_INLINE_STATE }));
    }
    return s;
  }

  /** Records the last call names by key (in its arguments, lists included), then those they refer to. */
  private named(json: Json, call: FuzzCall): { table: string; key: string; entity: IEntity }[] {
    const out: { table: string; key: string; entity: IEntity }[] = [];
    const add = (table: { name: string; entity: IEntity }, key: string) => {
      if (!out.some((n) => n.table === table.name && n.key === key)) out.push({ table: table.name, key, entity: table.entity });
    };
    const strings: string[] = [];
    for (const v of Object.values(call.arguments)) {
      if (typeof v === "string") strings.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === "string") strings.push(x);
    }
    for (const s of strings) for (const t of this.tables) if (Object.hasOwn((json[t.name] ?? {}) as Json, s)) add(t, s);
    for (const n of [...out]) {
      const rec = ((json[n.table] as Json)[n.key] ?? {}) as Json;
      for (const f of n.entity.type.fields) {
        const t = stripOptional(f.type);
        const v = rec[f.name];
        if (t.k !== "ref" || typeof v !== "string") continue;
        const target = this.tables.find((x) => x.entity.name === t.entity);
        if (target && Object.hasOwn((json[target.name] ?? {}) as Json, v)) add(target, v);
      }
    }
    return out.slice(0, NAMED);
  }

  /** The sites whose operands to move for a target, from this seed. */
  private sitesFor(t: Target, seed: Seed): number[] {
    if (t.kind === "edge") return [t.site];
    let span: { from: number; to: number } | undefined;
    if (t.kind === "trip") span = t;
    else if (seed.goal?.kind === "trip") span = this.spans.get(seed.goal.at);
    if (!span) return [];
    return [...seed.hits.keys()].filter((id) => {
      const o = this.rec.probes.sites[id]!.offset;
      return o >= span!.from && o < span!.to;
    });
  }

  /** 1: a field holding one operand moved to where the other puts the wanted side. */
  private *moves(t: Target, seed: Seed): Generator<Try> {
    const state = this.stateOf(seed.start);
    const last = seed.calls[seed.calls.length - 1]!;
    const prefix = seed.calls.slice(0, -1);
    const named = state.small ? this.named(state.json, last) : [];
    const sides: readonly Side[] = t.kind === "edge" ? [t.side] : ["at", "above", "below"];
    const hits = this.sitesFor(t, seed).map((id) => seed.hits.get(id)).filter((h): h is ProbeHit => h !== undefined);
    for (const side of sides) {
      const d = side === "below" ? -1 : side === "at" ? 0 : 1;
      for (const hit of hits)
        for (const [l, r] of hit.samples)
          // left - right = d: what holds the left operand to right + d, or the right's to left - d
          for (const [from, to] of [[l, shift(r, d)], [r, shift(l, -d)]] as const) {
            if (to === undefined || to === from || (typeof from !== "number" && typeof from !== "string")) continue;
            // an argument of the last call first (`amount` to the limit it is compared with)
            for (const [name, v] of Object.entries(last.arguments))
              if (v === from) yield { calls: [...prefix, { name: last.name, arguments: { ...last.arguments, [name]: to } }] };
            if (state.small) for (const path of this.placesHolding(state.json, from, named)) yield { set: [{ path, value: to }], calls: seed.calls };
          }
    }
  }

  /** Up to PLACES fields holding `value`: scalar state fields, the named records', then any record's. */
  private placesHolding(json: Json, value: unknown, named: { table: string; key: string; entity: IEntity }[]): Place[] {
    if (typeof value !== "number" && typeof value !== "string") return [];
    const out: Place[] = [];
    for (const g of this.globals) if (json[g.name] === value) out.push([g.name]);
    const fieldsOf = (table: string, key: string, entity: IEntity) => {
      const rec = ((json[table] as Json)[key] ?? {}) as Json;
      for (const f of entity.type.fields) if (f.name !== entity.key && rec[f.name] === value && out.length < PLACES) out.push([table, key, f.name]);
    };
    for (const n of named) fieldsOf(n.table, n.key, n.entity);
    for (const t of this.tables) {
      if (out.length >= PLACES) break;
      for (const key of Object.keys((json[t.name] ?? {}) as Json)) {
        if (out.length >= PLACES) break;
        if (!named.some((n) => n.table === t.name && n.key === key)) fieldsOf(t.name, key, t.entity);
      }
    }
    return out.slice(0, PLACES);
  }

  /**
   * 2: one field of a named record, or one scalar state field, changed. Flags and enum fields
   * first (statuses are what guards ask about most), then lists and optionals, then numbers.
   */
  private *tweaks(seed: Seed): Generator<Try> {
    const state = this.stateOf(seed.start);
    if (!state.small) return;
    const json = state.json;
    const all: { rank: number; place: Place; value: unknown }[] = [];
    const add = (type: Type, v: unknown, place: Place) => {
      const k = stripOptional(type).k;
      const rank = k === "bool" || k === "enum" ? 0 : k === "int" || k === "number" ? 2 : 1;
      for (const value of alternatives(type, v)) all.push({ rank: value === null ? 1 : rank, place, value });
    };
    for (const n of this.named(json, seed.calls[seed.calls.length - 1]!)) {
      const rec = (json[n.table] as Json)[n.key] as Json;
      for (const f of n.entity.type.fields) if (f.name !== n.entity.key) add(f.type, rec[f.name], [n.table, n.key, f.name]);
    }
    for (const g of this.globals) add(g.type, json[g.name], [g.name]);
    // stable: within a rank, the named records in order, then the state fields
    for (const r of [0, 1, 2]) for (const x of all) if (x.rank === r) yield { set: [{ path: x.place, value: x.value }], calls: seed.calls };
  }

  /**
   * 4: copies of a record that refers to one the last call names, as many as take a count in a
   * comparison to where wanted (a fifth claim under review for an adjuster whose cap is five).
   * The copies get new keys; the state is checked as any changed state is.
   */
  private *copies(t: Target, seed: Seed): Generator<Try> {
    const state = this.stateOf(seed.start);
    if (!state.small) return;
    const json = state.json;
    const named = this.named(json, seed.calls[seed.calls.length - 1]!);
    const referrers = this.referrersOf(json, named);
    if (!referrers.length) return;
    const sides: readonly Side[] = t.kind === "edge" ? [t.side] : ["at", "above", "below"];
    const hits = this.sitesFor(t, seed).map((id) => seed.hits.get(id)).filter((h): h is ProbeHit => h !== undefined);
    for (const side of sides) {
      const d = side === "below" ? -1 : side === "at" ? 0 : 1;
      for (const hit of hits)
        for (const [l, r] of hit.samples) {
          if (!Number.isInteger(l) || !Number.isInteger(r)) continue;
          // the left side a count raised to right + d, or the right side one raised to left - d
          for (const k of [(r as number) + d - (l as number), (l as number) - d - (r as number)]) {
            if (k <= 0 || k > MAX_COPIES) continue;
            for (const ref of referrers) yield { set: copiesOf(json, ref, k), calls: seed.calls };
          }
        }
    }
  }

  /** Up to REFERRERS records (not named) whose fields hold the key of a named record. */
  private referrersOf(json: Json, named: { table: string; key: string }[]): { table: string; key: string; entity: IEntity }[] {
    const keys = new Set(named.map((n) => n.key));
    const out: { table: string; key: string; entity: IEntity }[] = [];
    for (const t of this.tables) {
      const table = (json[t.name] ?? {}) as Json;
      for (const key of Object.keys(table)) {
        if (out.length >= REFERRERS) return out;
        if (named.some((n) => n.table === t.name && n.key === key)) continue;
        const rec = table[key] as Json;
        if (t.entity.type.fields.some((f) => f.name !== t.entity.key && typeof rec[f.name] === "string" && keys.has(rec[f.name] as string))) out.push({ table: t.name, key, entity: t.entity });
      }
    }
    return out;
  }

  /** 3: one action run before the last call, its arguments naming the records the last call names. */
  private *prefixed(seed: Seed): Generator<Try> {
    const rec = this.rec;
    const startEnv = rec.probed[seed.start]!;
    const prefix = seed.calls.slice(0, -1);
    const last = seed.calls[seed.calls.length - 1]!;
    const live = startEnv.fork();
    for (const c of prefix) live.call(c.name, c.arguments);
    const named = this.named(startEnv.toJSON(), last);
    const actions = rec.tools.filter((t) => t.kind === "action");
    // a fixed shuffle, so that every action gets its turn across seeds and goals
    for (let i = actions.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [actions[i], actions[j]] = [actions[j]!, actions[i]!];
    }
    for (const a of actions) {
      for (const force of this.forcesFor(a, last, named)) {
        for (let k = 0; k < DRAWS; k++) {
          rec.maker.beginRun();
          const args = rec.maker.make(a, live, this.rand, startEnv, force);
          yield { calls: [...prefix, { name: a.name, arguments: args }, last] };
        }
      }
    }
  }

  private guides = new Map<string, ReturnType<typeof toolGuide>["params"]>();

  /** Arguments an action is given: the last call's under the same name, and keys of the records it names. */
  private forcesFor(a: ITool, last: FuzzCall, named: { table: string; key: string }[]): Record<string, unknown>[] {
    const same: Record<string, unknown> = {};
    for (const p of a.params) if (typeof last.arguments[p.name] === "string") same[p.name] = last.arguments[p.name];
    let guide = this.guides.get(a.name);
    if (!guide) this.guides.set(a.name, (guide = toolGuide(this.env, a).params));
    const out: Record<string, unknown>[] = [];
    for (const p of a.params) {
      if (Object.hasOwn(same, p.name)) continue;
      const role = guide.get(p.name)?.role;
      if (role?.kind !== "key") continue;
      for (const n of named) if (n.table === role.table && out.length < 3) out.push({ ...same, [p.name]: n.key });
    }
    if (out.length === 0) out.push(same);
    return out;
  }
}

/** `v` moved by `d` steps: a number by d, a date by d days, a datetime by d minutes; another string only by 0. */
function shift(v: unknown, d: number): unknown {
  if (typeof v === "number") return v + d;
  if (typeof v !== "string") return undefined;
  if (d === 0) return v;
  if (isDate(v)) return dateAdd(v, d);
  if (isDatetime(v)) return datetimeAdd(v, d);
  return undefined;
}

/** `k` copies of a record under new keys (`<key>-copy1`, ...), as changes. */
function copiesOf(json: Json, ref: { table: string; key: string; entity: IEntity }, k: number): StateChange[] {
  const table = json[ref.table] as Json;
  const rec = table[ref.key] as Json;
  const out: StateChange[] = [];
  for (let i = 1; out.length < k; i++) {
    const key = `${ref.key}-copy${i}`;
    if (Object.hasOwn(table, key)) continue;
    out.push({ path: [ref.table, key], value: ref.entity.externalKey ? { ...rec } : { ...rec, [ref.entity.key]: key } });
  }
  return out;
}

/** Other values worth trying in a field of this type holding `v`. */
function alternatives(type: Type, v: unknown): unknown[] {
  if (v === undefined) return [];
  const out: unknown[] = [];
  const t = stripOptional(type);
  if (v !== null) {
    if (t.k === "bool") out.push(!v);
    else if (t.k === "enum") out.push(...t.values.filter((x) => x !== v));
    else if ((t.k === "int" || t.k === "number") && typeof v === "number") out.push(...[0, v - 1, v + 1].filter((x) => x !== v));
    else if (t.k === "list" && Array.isArray(v) && v.length) out.push([]);
    if (type.k === "optional") out.push(null);
  }
  return out;
}
