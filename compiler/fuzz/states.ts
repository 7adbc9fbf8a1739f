// Random initial states for a spec, in the JSON shape Environment.createFrom accepts, and valid
// states made from them.
//
// stateArbitrary: every table an object keyed by record key (in insertion order), scalar state
// fields with values of their type (fields with defaults often left out). Schema and references
// hold by construction: the keys of every table are drawn first (tables that a record cannot
// exist without get at least one key; tables that a whole-state `T.count(...) == n` invariant
// needs get n), then the records, whose refs (also inside lists, maps, nested records and
// optionals) pick from those keys, refs into a record's own table only from earlier records
// (no parent or reply cycles). Key prefixes that invariants ask for (`starts_with(c.id, "CV")`)
// are used. Invariants are otherwise not looked at here.
//
// makeValid (below, with its own comment) then takes a generated state to one that satisfies the
// invariants: first by choosing the fields of offending records from what the invariants' IR
// states (bounds, enum and status conditions, derived values), checked with the compiled
// invariants ("constructed"); what that cannot fix is repaired by dropping records and resetting
// scalar fields ("repaired"). It is search and repair verified by the runtime's own checks, not
// a solver: invariants that tie several records together (ledgers that sum, "exactly one open
// loan per on-loan copy") are mostly met by dropping, so repaired states are smaller.
// validStates gives valid states for a seed; evolvedStates gives states reached from seed states
// by random successful actions. `acceptance` measures all of it.
import fc from "fast-check";
import { Environment, StateError, type EnvDefinition, type StateProblem } from "../../runtime/index.js";
import { conjuncts, type FieldType, type IEntity, type IEnv, type IExpr, type IInvariant, type IStmt, type ITool, type Type } from "../ir.js";
import { ArgMaker, prng, singular } from "./args.js";
import { walkIr, forEachExprChild, type INode } from "../ir-walk.js";
import { dateAdd, dateOfDay, datetimeOfMinute, dayNumber, daysBetween, isDate, isDatetime, minuteNumber } from "../../runtime/dates.js";

export interface StateOptions {
  /** most records per table (default 30) */
  maxRecords?: number;
}

type Json = unknown;
const ABSENT: unique symbol = Symbol("absent");
type Slot = Json | typeof ABSENT;

/** How deep values nest before lists and maps become empty and optionals null. */
const MAX_DEPTH = 4;

interface TableInfo {
  name: string; // state field
  entity: IEntity;
  prefix: string; // key prefix, unique among tables
  /** entities whose tables must be non-empty for one record to exist */
  needs: Set<string>;
}

interface Ctx {
  env: IEnv;
  /** keys of each entity's table (empty for entities without a table) */
  keys: Map<string, string[]>;
  anchorDate: number; // days since the epoch
  anchorMinute: number; // minutes since the epoch
}

/** Random JSON states for `env`; the same fast-check seed gives the same states. */
export function stateArbitrary(env: IEnv, options: StateOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const maxRecords = Math.max(0, Math.trunc(options.maxRecords ?? 30));
  const tables = tableInfos(env);
  const byEntity = new Map(tables.map((t) => [t.entity.name, t]));
  const globals = env.state.filter((s) => !s.table);
  const { anchorDate, anchorMinute } = anchors(env);

  // entities none of whose records can exist: they need a table that does not exist
  const impossible = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of tables) {
      if (impossible.has(t.entity.name)) continue;
      if ([...t.needs].some((n) => !byEntity.has(n) || impossible.has(n))) {
        impossible.add(t.entity.name);
        changed = true;
      }
    }
  }
  // required scalar state fields may need tables too
  const globalNeeds = new Set<string>();
  for (const g of globals) if (!g.hasDefault) for (const n of needsOf(g.type)) globalNeeds.add(n);

  // mostly small non-empty tables (makeValid keeps them valid), sometimes up to the maximum
  const sizeArb =
    maxRecords === 0
      ? fc.constant(0)
      : fc.oneof(
          { weight: 1, arbitrary: fc.constant(0) },
          { weight: 6, arbitrary: fc.integer({ min: 1, max: Math.min(4, maxRecords) }) },
          { weight: 2, arbitrary: fc.integer({ min: 0, max: maxRecords }) },
        );

  // a record needing an empty table: half the states grow that table to one record, the other
  // half empty the needing table (and what needs it in turn), then grow what is still needed
  const floors = countFloors(env);
  const sizesArb = fc.tuple(fc.tuple(...tables.map(() => sizeArb)), fc.boolean()).map(([drawn, drop]) => {
    const size = new Map(tables.map((t, i) => [t.entity.name, impossible.has(t.entity.name) ? 0 : Math.max(drawn[i]!, Math.min(floors.get(t.name) ?? 0, maxRecords))]));
    if (drop) {
      for (let changed = true; changed; ) {
        changed = false;
        for (const t of tables) {
          if (size.get(t.entity.name) && [...t.needs].some((n) => size.get(n) === 0)) {
            size.set(t.entity.name, 0);
            changed = true;
          }
        }
      }
    }
    if (maxRecords > 0) {
      for (const n of globalNeeds) if (size.get(n) === 0 && !impossible.has(n)) size.set(n, 1);
      // tables that an invariant needs records in (`folders.count(...) == 1`) keep them
      for (const t of tables) if (!impossible.has(t.entity.name)) size.set(t.entity.name, Math.max(size.get(t.entity.name)!, Math.min(floors.get(t.name) ?? 0, maxRecords)));
      // a non-empty table makes the tables its records need non-empty (sizes only grow: ends)
      for (let changed = true; changed; ) {
        changed = false;
        for (const t of tables) {
          if (!size.get(t.entity.name)) continue;
          for (const n of t.needs) {
            if (size.get(n) === 0) {
              size.set(n, 1);
              changed = true;
            }
          }
        }
      }
    }
    return tables.map((t) => size.get(t.entity.name)!);
  });

  const keysArb = sizesArb.chain((sizes) =>
    fc.tuple(
      ...tables.map((t, i) => {
        const n = sizes[i]!;
        if (n === 0) return fc.constant([] as string[]);
        return fc
          .uniqueArray(fc.integer({ min: 1, max: Math.max(99, n * 4) }), { minLength: n, maxLength: n })
          .map((nums) => nums.map((num) => `${t.prefix}${num}`));
      }),
    ),
  );

  return keysArb.chain((keyLists) => {
    const keys = new Map<string, string[]>();
    for (const e of env.entities) keys.set(e.name, []);
    tables.forEach((t, i) => keys.set(t.entity.name, keyLists[i]!));
    const ctx: Ctx = { env, keys, anchorDate, anchorMinute };
    const tableArbs = tables.map((t, i) => {
      const ks = keyLists[i]!;
      if (ks.length === 0) return fc.constant([] as Json[]);
      // references into a record's own table point to earlier records: no cycles (parents,
      // replies), unless the first record could not exist without one
      return fc.tuple(
        ...ks.map((k, j) => {
          if (j === 0 && t.needs.has(t.entity.name)) return recordArb(t.entity, k, ctx);
          return recordArb(t.entity, k, { ...ctx, keys: new Map(ctx.keys).set(t.entity.name, ks.slice(0, j)) });
        }),
      );
    });
    const globalArbs = globals.map((g): fc.Arbitrary<Slot> => {
      let value = canGenerate(g.type, ctx) ? valueArb(g.type, ctx, 0, g.name) : undefined;
      if (!value) return fc.constant(g.hasDefault ? ABSENT : null);
      // a setting keeps the sign of its default (a limit of -658 holds vacuously over empty
      // tables, and the first record any action adds breaks it: states no action reaches)
      if (typeof g.default === "number" && g.default >= 0) value = value.map((v) => (typeof v === "number" ? Math.abs(v) : v));
      if (g.hasDefault) return fc.oneof({ weight: 7, arbitrary: fc.constant(ABSENT) }, { weight: 3, arbitrary: value });
      return value;
    });
    return fc.tuple(fc.tuple(...tableArbs), fc.tuple(...globalArbs)).map(([recordLists, globalValues]) => {
      const out: Record<string, unknown> = {};
      const tableRecords = new Map(tables.map((t, i) => [t.name, { keys: keyLists[i]!, records: recordLists[i]! }]));
      let gi = 0;
      for (const sf of env.state) {
        if (sf.table) {
          const tr = tableRecords.get(sf.name);
          const obj: Record<string, unknown> = {};
          if (tr) tr.keys.forEach((k, j) => setOwn(obj, k, tr.records[j]));
          out[sf.name] = obj;
        } else {
          const v = globalValues[gi++];
          if (v !== ABSENT) out[sf.name] = v;
        }
      }
      return out;
    });
  });
}

/** What kind of problem createFrom reported: zod's schema checks, dangling references or invariants. */
export function problemKind(p: StateProblem): "schema" | "reference" | "invariant" {
  if (/^refers to /.test(p.message)) return "reference";
  if (/^breaks invariant |^invariant \S+ could not be evaluated/.test(p.message)) return "invariant";
  return "schema";
}

/** What acceptance measured. */
export interface Acceptance {
  tried: number;
  /** valid after makeValid: constructed + repaired */
  valid: number;
  /** valid with choices in their own records only (no record dropped, no field reset) */
  constructed: number;
  /** valid after dropping records or resetting fields */
  repaired: number;
  /** valid straight from stateArbitrary, before makeValid (what createFrom alone accepted) */
  raw: number;
  /** the first problem left in the states makeValid could not make valid, grouped */
  reasons: Map<string, number>;
  /** the first problem of the raw states createFrom rejected, grouped */
  rawReasons: Map<string, number>;
  /** mean records per table in the valid states, and in the raw valid ones */
  meanRecords: number;
  rawMeanRecords: number;
  /** share of (valid state, table) pairs with at least one record */
  nonEmpty: number;
}

/**
 * Sample `runs` states with the seed and make each valid (makeValid): how many became valid,
 * how (constructed or repaired), how many createFrom accepted as generated, the first problem
 * of the others grouped by kind (path and message with keys and numbers blanked, e.g.
 * `invariant: $.accounts[*]: breaks invariant ledger_matches (...)`), and how full the valid
 * states are.
 */
export function acceptance(env: IEnv, def: EnvDefinition, runs: number, seed: number): Acceptance {
  const out: Acceptance = { tried: 0, valid: 0, constructed: 0, repaired: 0, raw: 0, reasons: new Map(), rawReasons: new Map(), meanRecords: 0, rawMeanRecords: 0, nonEmpty: 0 };
  const states = runs > 0 ? fc.sample(stateArbitrary(env), { numRuns: runs, seed }) : [];
  const tables = def.tables.map((t) => t.name);
  let records = 0;
  let rawRecords = 0;
  let nonEmpty = 0;
  states.forEach((state, i) => {
    out.tried++;
    try {
      Environment.createFrom(def, state);
      out.raw++;
      for (const t of tables) rawRecords += Object.keys((state[t] as object) ?? {}).length;
    } catch (err) {
      const reason = reasonOf(err);
      out.rawReasons.set(reason, (out.rawReasons.get(reason) ?? 0) + 1);
    }
    const made = makeValid(env, def, state, stateSeed(seed, i));
    if (made.env) {
      out.valid++;
      out[made.how as "constructed" | "repaired"]++;
      for (const t of tables) {
        const n = made.env.table(t)!.size;
        records += n;
        if (n > 0) nonEmpty++;
      }
    } else {
      const reason = reasonOf(made.problem ? new StateError([made.problem]) : new Error("no problem named"));
      out.reasons.set(reason, (out.reasons.get(reason) ?? 0) + 1);
    }
  });
  const per = (n: number, states: number) => (states && tables.length ? n / (states * tables.length) : 0);
  out.meanRecords = per(records, out.valid);
  out.rawMeanRecords = per(rawRecords, out.raw);
  out.nonEmpty = per(nonEmpty, out.valid);
  return out;
}

function reasonOf(err: unknown): string {
  if (err instanceof StateError && err.problems.length) {
    const p = err.problems[0]!;
    const kind = problemKind(p);
    // invariant messages name the invariant and its description: keep them whole
    return `${kind}: ${strip(p.path)}: ${kind === "invariant" ? p.message : strip(p.message)}`;
  }
  return `threw: ${strip(err instanceof Error ? err.message : String(err))}`;
}

/** The seed makeValid gets for the i-th sampled state. */
function stateSeed(seed: number, i: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77)) >>> 0;
}

/**
 * Up to `want` valid states: sampled from the schema with the seed and made valid (makeValid).
 * `counts` gets how many were tried and became valid.
 */
export function validStates(env: IEnv, def: EnvDefinition, seed: number, want: number, counts = { tried: 0, valid: 0 }, options: StateOptions = {}): Environment[] {
  const out: Environment[] = [];
  if (want <= 0) return out;
  for (let batch = 0; batch < 4 && out.length < want; batch++) {
    const n = batch === 0 ? want + Math.ceil(want / 4) : want * 2;
    const states = fc.sample(stateArbitrary(env, options), { numRuns: n, seed: seed + batch * 7_919 });
    for (let i = 0; i < states.length && out.length < want; i++) {
      counts.tried++;
      const made = makeValid(env, def, states[i]!, stateSeed(seed + batch * 7_919, i));
      if (!made.env) continue;
      counts.valid++;
      out.push(made.env);
    }
  }
  return out;
}

/**
 * States reached from the seed states (sample and scenario states) by random successful
 * actions: valid because the runtime checks invariants, references and ensures after every
 * action, so a successful call keeps them. Each walk forks a seed state and calls up to
 * `maxSteps` actions with arguments from ArgMaker; the state after a success is kept (every
 * other success, so that the states differ by more than one call), as its JSON loaded again.
 * Deterministic for a seed.
 */
export function evolvedStates(env: IEnv, def: EnvDefinition, seeds: readonly Environment[], seed: number, want: number, options: { maxSteps?: number } = {}): Environment[] {
  const out: Environment[] = [];
  const actions = env.tools.filter((t) => t.kind === "action" && def.tools.some((d) => d.name === t.name));
  if (!seeds.length || !actions.length || want <= 0) return out;
  const maxSteps = options.maxSteps ?? 16;
  const maker = new ArgMaker(env);
  const rand = prng(seed ^ 0x5eed);
  for (let walk = 0; out.length < want && walk < want * 4; walk++) {
    const start = seeds[walk % seeds.length]!;
    const live = start.fork();
    let successes = 0;
    for (let step = 0; step < maxSteps && out.length < want; step++) {
      const tool = actions[Math.floor(rand() * actions.length)]!;
      const args = maker.make(tool, live, prng(Math.floor(rand() * 2 ** 32)), start);
      const r = live.call(tool.name, args);
      if (!r.ok) {
        if (r.kind === "env_fault") break; // a spec fault: the fuzzer reports it, not this
        continue;
      }
      // kept as its JSON, loaded again: a fuzz counterexample or a recorded example that starts
      // here is written as that JSON, which holds neither the id counters nor the key order
      // the actions left in memory, so the run must start from what the file reproduces
      if (++successes % 2 === 0) {
        try {
          out.push(Environment.createFrom(def, live.toJSON()));
        } catch (err) {
          if (!(err instanceof StateError)) throw err;
        }
      }
    }
  }
  return out;
}

/** Keys, quoted values and numbers out of a path or message, so that alike problems group. */
function strip(s: string): string {
  return s
    .replace(/^\$\.([A-Za-z_]\w*)\.[A-Za-z_]\w*/, "$$.$1[*]") // $.table.KEY (a record key written as a member)
    .replace(/\["(?:[^"\\]|\\.)*"\]/g, "[*]")
    .replace(/\[\d+\]/g, "[*]")
    .replace(/"(?:[^"\\]|\\.)*"/g, '"*"')
    .replace(/-?\d+(\.\d+)?/g, "#");
}

// ---------- tables and what their records need ----------

function tableInfos(env: IEnv): TableInfo[] {
  const used = new Set<string>();
  const wanted = prefixesWanted(env);
  const out: TableInfo[] = [];
  for (const sf of env.state) {
    if (!sf.table) continue;
    const entity = env.entities.find((e) => e.name === sf.table);
    if (!entity) continue;
    const w = wanted.get(entity.key);
    let prefix: string;
    if (w && !used.has(w)) {
      prefix = w;
      used.add(w);
    } else prefix = prefixFor(entity.name, used);
    out.push({ name: sf.name, entity, prefix, needs: needsOf(entity.type) });
  }
  return out;
}

/**
 * Key prefixes that invariants ask for, by key field: `starts_with(c.conversation_id, "CV")`
 * (letters only, so that keys of different tables still never collide).
 */
function prefixesWanted(env: IEnv): Map<string, string> {
  const keyFields = new Set(env.entities.map((e) => e.key));
  const out = new Map<string, string>();
  const visit = (x: INode): void => {
    if ("e" in x && x.e === "builtin" && x.fn === "str.starts_with" && x.args.length === 2) {
      const [subject, lit] = x.args as [IExpr, IExpr];
      if (subject.e === "member" && keyFields.has(subject.name) && lit.e === "lit" && typeof lit.value === "string" && /^[A-Za-z]+$/.test(lit.value)) out.set(subject.name, lit.value);
    }
  };
  for (const inv of env.invariants) walkIr(inv.expr, visit);
  return out;
}

/** Fewest records per table that whole-state invariants `T.count(...) == n` (or >= n, > n) need. */
function countFloors(env: IEnv): Map<string, number> {
  const out = new Map<string, number>();
  for (const inv of env.invariants) {
    if (inv.perRecord) continue;
    const conj = conjuncts(inv.expr);
    for (const e of conj) {
      if (e.e !== "binary") continue;
      const c = e.left;
      const n = e.right;
      if (c.e !== "builtin" || c.fn !== "table.count" || c.args[0]?.e !== "state" || n.e !== "lit" || typeof n.value !== "number") continue;
      const lo = e.op === "==" || e.op === ">=" ? n.value : e.op === ">" ? n.value + 1 : 0;
      if (lo > 0) out.set(c.args[0].field, Math.max(out.get(c.args[0].field) ?? 0, Math.min(lo, 5)));
    }
  }
  return out;
}

/** A key prefix like C, AE, CA: letters only, so that keys of different tables never collide. */
function prefixFor(name: string, used: Set<string>): string {
  const letters = name.replace(/[^A-Za-z]/g, "") || "K";
  const initials = (name.match(/[A-Z]/g) ?? []).join("") || letters[0]!.toUpperCase();
  const candidates = [initials];
  for (let n = 2; n <= letters.length; n++) candidates.push(letters.slice(0, n).toUpperCase());
  let prefix = candidates.find((c) => !used.has(c));
  for (let i = 0; !prefix; i++) {
    const c = `${letters.toUpperCase()}${String.fromCharCode(65 + (i % 26)).repeat(1 + Math.floor(i / 26))}`;
    if (!used.has(c)) prefix = c;
  }
  used.add(prefix);
  return prefix;
}

/** Entities that must have a record for a value of this type to exist. */
function needsOf(type: Type, seen = new Set<Type>()): Set<string> {
  const out = new Set<string>();
  const walk = (t: Type) => {
    if (t.k === "ref") out.add(t.entity);
    else if (t.k === "record") {
      if (seen.has(t)) return;
      seen.add(t);
      for (const f of t.fields) if (isRequired(f)) walk(f.type);
    }
  };
  walk(type);
  return out;
}

function isRequired(f: FieldType): boolean {
  return !f.hasDefault && !isNullable(f.type);
}

function isNullable(t: Type): boolean {
  return t.k === "optional" || t.k === "null" || t.k === "void" || t.k === "json" || t.k === "error";
}

/** Whether a value of the type can be made from these keys. */
function canGenerate(type: Type, ctx: Ctx, seen = new Set<Type>()): boolean {
  if (type.k === "ref") return (ctx.keys.get(type.entity)?.length ?? 0) > 0;
  if (type.k === "record") {
    if (seen.has(type)) return true;
    seen.add(type);
    return type.fields.every((f) => !isRequired(f) || canGenerate(f.type, ctx, seen));
  }
  return true;
}

// ---------- values ----------

function recordArb(entity: IEntity, key: string, ctx: Ctx): fc.Arbitrary<Json> {
  const fields = entity.type.fields;
  const keyField = entity.externalKey ? undefined : entity.key;
  return fc.tuple(...fields.map((f) => (f.name === keyField ? fc.constant(key as Slot) : fieldArb(f, ctx, 1)))).map((slots) => buildRecord(fields, slots));
}

function buildRecord(fields: readonly FieldType[], slots: Slot[]): Json {
  const obj: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const v = slots[i];
    if (v !== ABSENT) setOwn(obj, f.name, v);
  });
  return obj;
}

/** A field's value, or ABSENT when it is left out (defaults and optionals). */
function fieldArb(f: FieldType, ctx: Ctx, depth: number): fc.Arbitrary<Slot> {
  const possible = canGenerate(f.type, ctx);
  if (f.hasDefault) {
    if (!possible) return fc.constant(ABSENT);
    return fc.oneof({ weight: 1, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: valueArb(f.type, ctx, depth, f.name) });
  }
  if (isNullable(f.type)) {
    const absent = fc.constantFrom<Slot>(ABSENT, null);
    if (!possible) return absent;
    return fc.oneof({ weight: 1, arbitrary: absent }, { weight: 3, arbitrary: valueArb(f.type, ctx, depth, f.name) });
  }
  // required: canGenerate holds, as table sizes were chosen for it
  return valueArb(f.type, ctx, depth, f.name);
}

function valueArb(type: Type, ctx: Ctx, depth: number, hint: string): fc.Arbitrary<Json> {
  switch (type.k) {
    case "string":
      return stringArb(hint);
    case "int":
      return intArb();
    case "number":
      return numberArb();
    case "bool":
      return fc.boolean();
    case "date":
      return dateArb(ctx);
    case "datetime":
      return datetimeArb(ctx);
    case "enum":
      return type.values.length ? fc.constantFrom(...type.values) : fc.constant("");
    case "ref": {
      const keys = ctx.keys.get(type.entity) ?? [];
      return keys.length ? fc.constantFrom(...keys) : fc.constant(null);
    }
    case "optional": {
      if (depth > MAX_DEPTH || !canGenerate(type.inner, ctx)) return fc.constant(null);
      return fc.option(valueArb(type.inner, ctx, depth + 1, hint), { nil: null, freq: 4 });
    }
    case "list": {
      if (depth > MAX_DEPTH || !canGenerate(type.elem, ctx)) return fc.constant([]);
      return fc.array(valueArb(type.elem, ctx, depth + 1, singular(hint)), { maxLength: 3 });
    }
    case "map": {
      if (depth > MAX_DEPTH || !canGenerate(type.value, ctx)) return fc.constant({});
      const keyArb = mapKeyArb(type.key, ctx);
      if (!keyArb) return fc.constant({});
      const valueOf = valueArb(type.value, ctx, depth + 1, hint);
      return fc.uniqueArray(keyArb, { maxLength: 3 }).chain((ks) =>
        ks.length === 0
          ? fc.constant({})
          : fc.tuple(...ks.map(() => valueOf)).map((vs) => {
              const obj: Record<string, unknown> = {};
              ks.forEach((k, i) => setOwn(obj, k, vs[i]));
              return obj;
            }),
      );
    }
    case "record": {
      if (depth > MAX_DEPTH + 2) return fc.constant({}); // only reached by records that nest themselves
      const fields = type.fields;
      return fc.tuple(...fields.map((f) => fieldArb(f, ctx, depth + 1))).map((slots) => buildRecord(fields, slots));
    }
    case "json":
      return jsonArb();
    default:
      // null, void, error; pair, lambda and table never appear in a state
      return fc.constant(null);
  }
}

function mapKeyArb(type: Type, ctx: Ctx): fc.Arbitrary<string> | undefined {
  const t = type.k === "optional" ? type.inner : type;
  switch (t.k) {
    case "enum":
      return t.values.length ? fc.constantFrom(...t.values) : undefined;
    case "date":
      return dateArb(ctx);
    case "ref": {
      const keys = ctx.keys.get(t.entity) ?? [];
      return keys.length ? fc.constantFrom(...keys) : undefined;
    }
    default:
      // letters first: numeric-looking keys would be reordered by JavaScript objects
      return fc.oneof(fc.constantFrom(...WORDS.filter((w) => /^[A-Za-z]/.test(w))), fc.integer({ min: 1, max: 99 }).map((n) => `k${n}`));
  }
}

const WORDS = ["Ada", "Dune", "blue", "red", "M", "XL", "report.pdf", "notes", "hello world", "Zoë", "a", "Q2 plan", "x-1", "tea", "O'Brien", "data"];
const NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Zoë Ng", "Bo", "Mary-Jane O'Neil", "Li Wei"];

function stringArb(hint: string): fc.Arbitrary<Json> {
  const h = hint.toLowerCase();
  if (h.includes("email")) return fc.tuple(fc.constantFrom("ada", "grace", "bo", "li.wei", "x"), fc.integer({ min: 1, max: 99 })).map(([u, n]) => `${u}${n}@example.com`);
  if (h.includes("phone")) return fc.integer({ min: 1000000, max: 9999999 }).map((n) => `555-${String(n).slice(0, 3)}-${String(n).slice(3)}`);
  if (h === "last4" || h === "last_four") return fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0"));
  const base = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...(h.includes("name") ? NAMES : WORDS)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom("X", "A", "C", "P", "T"), fc.integer({ min: 1, max: 99 })).map(([p, n]) => `${p}${n}`) },
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constant("") },
  );
  return base;
}

function intArb(): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 10 }) },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 100 }) },
    { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  );
}

function numberArb(): fc.Arbitrary<Json> {
  // two decimals: cents over 100 (what JSON shows is what the value is)
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 50_000 }).map((c) => c / 100) },
    { weight: 2, arbitrary: fc.integer({ min: -10_000, max: 10_000 }).map((c) => c / 100) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) },
  );
}

function dateArb(ctx: Ctx): fc.Arbitrary<string> {
  return fc.integer({ min: -60, max: 60 }).map((d) => dateOfDay(ctx.anchorDate + d));
}

function datetimeArb(ctx: Ctx): fc.Arbitrary<string> {
  const near = fc
    .tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 7 * 4, max: 19 * 4 }))
    .map(([d, q]) => Math.floor(ctx.anchorMinute / 1440) * 1440 + d * 1440 + q * 15);
  const any = fc.integer({ min: -30 * 1440, max: 30 * 1440 }).map((m) => ctx.anchorMinute + m);
  return fc
    .oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: any }, { weight: 1, arbitrary: fc.constant(ctx.anchorMinute) })
    .map(datetimeOfMinute); // with seconds, no zone: one format
}

function jsonArb(): fc.Arbitrary<Json> {
  const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -10, max: 100 }), fc.constantFrom(...WORDS));
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("a", "b", "note"), leaf).map(([k, v]) => ({ [k]: v })) },
  );
}

/** Where generated dates and times cluster: the state's date and datetime defaults (today, now). */
function anchors(env: IEnv): { anchorDate: number; anchorMinute: number } {
  let date: number | undefined;
  let minute: number | undefined;
  for (const s of env.state) {
    if (s.table || typeof s.default !== "string") continue;
    const k = s.type.k === "optional" ? s.type.inner.k : s.type.k;
    if (k === "date" && date === undefined && isDate(s.default)) date = dayNumber(s.default);
    if (k === "datetime" && minute === undefined && isDatetime(s.default)) minute = minuteNumber(s.default);
  }
  if (date === undefined) date = minute !== undefined ? Math.floor(minute / 1440) : dayNumber("2024-05-01");
  if (minute === undefined) minute = date * 1440 + 9 * 60;
  return { anchorDate: date, anchorMinute: minute };
}

/** `obj[key] = v`, also for the key "__proto__" (which would set the prototype instead). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

// ---------- invariants: field choice, repair, evolved states ----------
//
// A generated state goes through `makeValid`, in rounds (at most MAX_ROUNDS):
//  1. Load it without invariants (createFrom with a copy of the definition that has none):
//     schema and reference problems name a JSON path; a dangling optional reference becomes
//     null, any other offending record is dropped (records that referred to it follow in the
//     next round), an offending scalar state field goes back to its default.
//  2. Check every invariant with the compiled checks (`perRecord.check` on each record, so
//     every offending record is known, not only the first one createFrom names).
//  3. A record that breaks a per-record invariant (`all x in T [where c]: body`) is fixed when
//     one or two of its own fields can be changed so that the compiled check holds: the
//     candidate values come from the invariant's IR (the other side of `x.f < R`, `x.f == R`,
//     `x.f in [...]` evaluated on the state, one step either side of it, `trim(x.f) != ""`), the
//     field's type (every enum member, true/false, null for optionals, other keys for refs)
//     and fresh values. This honours ranges, bounds against globals and other fields,
//     enum/status implications and equivalences (`(x.status == a) == <anything>`), nullity and
//     derived fields whose value the IR spells out (`d.path == join_path(parent.path, d.name)`).
//     Whole-state invariants: `T.count(p) == n` (and <=, >=, <, >) changes records of T (one
//     field each) until the count fits; a conjunction of `all x in T [where c]: body` and
//     `T.all(x => body)` parts gets the same field choice per record, checked with a small
//     evaluator of the IR (evalE below; UNKNOWN where it cannot tell).
//  4. What cannot be fixed in the record is repaired: offending records are dropped (for an
//     invariant several records break, all but the first, so that one of a duplicate pair
//     stays); a whole-state invariant resets the scalar state fields it reads to their
//     defaults, or drops the records of T the count or the `all` cannot keep; otherwise it
//     drops the last record of a table it reads.
// The first pass (steps 1 to 3 before any record is dropped) is what "by construction" means
// here: choices directed by the invariants and verified by their compiled checks. Steps 4 and
// later rounds are repair. The same state and seed always give the same result.

const MAX_ROUNDS = 12;
const UNKNOWN: unique symbol = Symbol("unknown");
type V = unknown;

/** How a generated state became valid, or why it did not. */
export interface MadeValid {
  env?: Environment;
  /** valid as generated and fixed in its own records, or repaired by dropping and resetting */
  how: "constructed" | "repaired" | "failed";
  /** for failed: the first problem left */
  problem?: StateProblem;
  rounds: number;
}

const withoutInvariants = new WeakMap<EnvDefinition, EnvDefinition>();
function noInvariants(def: EnvDefinition): EnvDefinition {
  let d = withoutInvariants.get(def);
  if (!d) {
    d = { ...def, invariants: [] };
    withoutInvariants.set(def, d);
  }
  return d;
}

interface InvInfo {
  ir?: IInvariant;
  /** per field of the record variable: candidate expressions (the other side of comparisons) */
  fieldExprs: Map<string, { op: string; other: IExpr }[]>;
  /** fields named with `trim(x.f)` / `x.f != ""`: a word makes them non-blank */
  nonBlank: Set<string>;
  /** fields the `where` condition reads: changed last, as escaping the condition often breaks another invariant */
  whereFields: Set<string>;
  globals: string[];
  tables: string[];
  /** a per-record invariant that reads its own table besides the record (or calls a fn) */
  selfRead?: boolean;
}

class Analysis {
  readonly tableOf = new Map<string, TableInfo>(); // state field -> table info
  readonly fns = new Map<string, ITool>();
  readonly invs = new Map<string, InvInfo>();
  readonly anchor: { anchorDate: number; anchorMinute: number };
  readonly globalDefaults = new Map<string, unknown>();
  constructor(readonly env: IEnv) {
    for (const t of tableInfos(env)) this.tableOf.set(t.name, t);
    for (const t of env.tools) if (t.kind === "fn") this.fns.set(t.name, t);
    this.anchor = anchors(env);
    for (const inv of env.invariants) this.invs.set(inv.name, analyse(inv, env));
  }
}

const analyses = new WeakMap<IEnv, Analysis>();
function analysisOf(env: IEnv): Analysis {
  let a = analyses.get(env);
  if (!a) {
    a = new Analysis(env);
    analyses.set(env, a);
  }
  return a;
}

function analyse(inv: IInvariant, env: IEnv): InvInfo {
  const info: InvInfo = { ir: inv, fieldExprs: new Map(), nonBlank: new Set(), whereFields: new Set(), globals: [], tables: [] };
  for (const r of inv.reads) {
    const sf = env.state.find((s) => s.name === r);
    if (!sf) continue;
    (sf.table ? info.tables : info.globals).push(r);
  }
  const pr = inv.perRecord;
  if (!pr) return info;
  const v = pr.variable;
  const fieldOf = (e: IExpr): string | undefined => (e.e === "member" && e.object.e === "local" && e.object.name === v ? e.name : undefined);
  const add = (f: string, op: string, other: IExpr) => {
    const list = info.fieldExprs.get(f) ?? [];
    list.push({ op, other });
    info.fieldExprs.set(f, list);
  };
  const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!=" };
  const walk = (e: IExpr | undefined): void => {
    if (!e || typeof e !== "object") return;
    if (e.e === "binary") {
      const lf = fieldOf(e.left);
      const rf = fieldOf(e.right);
      if (lf && e.op in FLIP) add(lf, e.op, e.right);
      if (rf && e.op in FLIP) add(rf, FLIP[e.op]!, e.left);
      if (lf && e.op === "in") add(lf, "in", e.right);
      if ((e.op === "!=" || e.op === "==") && e.right.e === "lit" && e.right.value === "") {
        const inner = e.left.e === "builtin" && e.left.args.length ? e.left.args[0]! : e.left;
        const f = fieldOf(inner);
        if (f) info.nonBlank.add(f);
      }
    }
    // any field mentioned gets its type's candidates
    const f = fieldOf(e);
    if (f && !info.fieldExprs.has(f)) info.fieldExprs.set(f, []);
    forEachExprChild(e, walk);
  };
  const reads = (x: IExpr | undefined): boolean => {
    if (!x) return false;
    if ((x.e === "state" && x.field === pr.table) || x.e === "call") return true;
    let found = false;
    forEachExprChild(x, (c) => void (found ||= reads(c)));
    return found;
  };
  info.selfRead = reads(pr.where) || reads(pr.body);
  walk(pr.where);
  for (const f of info.fieldExprs.keys()) info.whereFields.add(f);
  walk(pr.body);
  return info;
}

/** The evaluation context: the state as JSON (defaults filled), locals. */
interface EvalCtx {
  a: Analysis;
  state: Record<string, unknown>;
  depth: number;
}

function tableRecords(ec: EvalCtx, name: string): Record<string, unknown>[] {
  const t = ec.state[name];
  return t && typeof t === "object" ? (Object.values(t) as Record<string, unknown>[]) : [];
}

function truthy(v: V): boolean | typeof UNKNOWN {
  return typeof v === "boolean" ? v : UNKNOWN;
}

/** A date built-in the evaluator understands, or UNKNOWN where the runtime would refuse it. */
function dateBuiltin(f: () => V): V {
  try {
    return f();
  } catch (err) {
    if (err instanceof RangeError) return UNKNOWN;
    throw err;
  }
}

/** A small evaluator of invariant expressions over a JSON state; UNKNOWN where it cannot tell. */
function evalE(e: IExpr, locals: Map<string, V>, ec: EvalCtx): V {
  switch (e.e) {
    case "lit":
      return e.value;
    case "str": {
      let s = "";
      for (const p of e.parts) {
        if (typeof p === "string") s += p;
        else {
          const v = evalE(p, locals, ec);
          if (v === UNKNOWN || (v !== null && typeof v === "object")) return UNKNOWN;
          s += String(v);
        }
      }
      return s;
    }
    case "local":
      return locals.has(e.name) ? locals.get(e.name) : UNKNOWN;
    case "state":
      if (e.initial) return UNKNOWN;
      return e.table ? { table: e.field } : (ec.state[e.field] ?? null);
    case "list": {
      const out: V[] = [];
      for (const it of e.items) {
        const v = evalE(it, locals, ec);
        if (v === UNKNOWN) return UNKNOWN;
        out.push(v);
      }
      return out;
    }
    case "member": {
      const o = evalE(e.object, locals, ec);
      if (o === null || o === UNKNOWN || typeof o !== "object" || Array.isArray(o)) return UNKNOWN;
      const v = (o as Record<string, V>)[e.name];
      return v === undefined ? null : v;
    }
    case "index": {
      const o = evalE(e.object, locals, ec);
      const i = evalE(e.index, locals, ec);
      if (o === UNKNOWN || i === UNKNOWN || o === null) return UNKNOWN;
      if (isTableRef(o)) {
        const t = ec.state[o.table] as Record<string, V> | undefined;
        const r = typeof i === "string" && t && Object.prototype.hasOwnProperty.call(t, i) ? t[i] : undefined;
        if (r !== undefined) return withKey(ec, o.table, i as string, r);
        return e.get ? null : UNKNOWN;
      }
      if (Array.isArray(o) && typeof i === "number") return o[i < 0 ? o.length + i : i] ?? (e.get ? null : UNKNOWN);
      if (typeof o === "object" && typeof i === "string") {
        const v = (o as Record<string, V>)[i];
        return v === undefined ? (e.get ? null : UNKNOWN) : v;
      }
      return UNKNOWN;
    }
    case "unary": {
      const v = evalE(e.operand, locals, ec);
      if (e.op === "not") return typeof v === "boolean" ? !v : UNKNOWN;
      return typeof v === "number" ? -v : UNKNOWN;
    }
    case "ternary": {
      const c = truthy(evalE(e.cond, locals, ec));
      if (c === UNKNOWN) return UNKNOWN;
      return evalE(c ? e.then : e.otherwise, locals, ec);
    }
    case "binary":
      return evalBinary(e.op, e.left, e.right, locals, ec);
    case "quant": {
      const coll = listOf(evalE(e.collection, locals, ec), ec);
      if (coll === UNKNOWN) return UNKNOWN;
      let unknown = false;
      for (const x of coll) {
        const r = withLocal(locals, e.variable, x, (): boolean | undefined => {
          if (e.where) {
            const w = truthy(evalE(e.where, locals, ec));
            if (w === UNKNOWN) { unknown = true; return undefined; }
            if (!w) return undefined;
          }
          const b = truthy(evalE(e.body, locals, ec));
          if (b === UNKNOWN) unknown = true;
          else if (e.quantifier === "all" && !b) return false;
          else if (e.quantifier === "any" && b) return true;
          return undefined;
        });
        if (r !== undefined) return r;
      }
      return unknown ? UNKNOWN : e.quantifier === "all";
    }
    case "call": {
      const fn = ec.a.fns.get(e.callee);
      if (!fn || ec.depth > 8) return UNKNOWN;
      const inner = new Map<string, V>();
      for (let i = 0; i < fn.params.length; i++) {
        const v = i < e.args.length ? evalE(e.args[i]!, locals, ec) : null;
        if (v === UNKNOWN) return UNKNOWN;
        inner.set(fn.params[i]!.name, v);
      }
      ec.depth++;
      try {
        return runBody(fn.body, inner, ec);
      } finally {
        ec.depth--;
      }
    }
    case "builtin":
      return evalBuiltin(e.fn, e.args, locals, ec);
    default:
      return UNKNOWN;
  }
}

/** `let`s, `if`s and a `return`: the bodies of most `fn`s. */
function runBody(body: IStmt[], locals: Map<string, V>, ec: EvalCtx): V {
  for (const s of body) {
    if (s.s === "let" && !s.orElse) {
      const v = evalE(s.value, locals, ec);
      if (v === UNKNOWN) return UNKNOWN;
      locals.set(s.name, v);
    } else if (s.s === "return") return s.value ? evalE(s.value, locals, ec) : null;
    else if (s.s === "if") {
      const c = truthy(evalE(s.cond, locals, ec));
      if (c === UNKNOWN) return UNKNOWN;
      const branch = c ? s.then : s.otherwise;
      if (branch) {
        const done = branch.some((x) => x.s === "return");
        const v = runBody(branch, locals, ec);
        if (done || v === UNKNOWN) return v;
      }
    } else return UNKNOWN;
  }
  return UNKNOWN;
}

function isTableRef(v: V): v is { table: string } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { table?: unknown }).table === "string" && Object.getPrototypeOf(v) === TABLE_PROTO;
}
const TABLE_PROTO = Object.getPrototypeOf({});

/** Records of a table with external keys do not hold them: the evaluator sees them anyway. */
function withKey(ec: EvalCtx, table: string, key: string, rec: V): V {
  const t = ec.a.tableOf.get(table);
  if (!t?.entity.externalKey || !rec || typeof rec !== "object") return rec;
  return { ...(rec as object), [t.entity.key]: key };
}

function listOf(v: V, ec: EvalCtx): V[] | typeof UNKNOWN {
  if (Array.isArray(v)) return v;
  if (isTableRef(v)) {
    const t = ec.state[v.table] as Record<string, V> | undefined;
    if (!t) return [];
    return Object.entries(t).map(([k, r]) => withKey(ec, v.table, k, r));
  }
  return UNKNOWN;
}

function evalBinary(op: string, l: IExpr, r: IExpr, locals: Map<string, V>, ec: EvalCtx): V {
  if (op === "and" || op === "or") {
    const a = truthy(evalE(l, locals, ec));
    if (a !== UNKNOWN && (op === "and" ? !a : a)) return a;
    const b = truthy(evalE(r, locals, ec));
    if (b !== UNKNOWN && (op === "and" ? !b : b)) return b;
    return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : b;
  }
  if (op === "implies") {
    const a = truthy(evalE(l, locals, ec));
    if (a === false) return true;
    const b = truthy(evalE(r, locals, ec));
    if (b === true) return true;
    return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : false;
  }
  const a = evalE(l, locals, ec);
  if (op === "??") return a === UNKNOWN ? UNKNOWN : a === null ? evalE(r, locals, ec) : a;
  const b = evalE(r, locals, ec);
  if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
  switch (op) {
    case "==":
      return deepEq(a, b);
    case "!=":
      return !deepEq(a, b);
    case "in": {
      if (isTableRef(b)) {
        const t = ec.state[b.table] as Record<string, V> | undefined;
        return typeof a === "string" && !!t && Object.prototype.hasOwnProperty.call(t, a);
      }
      if (Array.isArray(b)) return b.some((x) => deepEq(x, a));
      if (typeof b === "string" && typeof a === "string") return b.includes(a);
      if (b && typeof b === "object" && typeof a === "string") return Object.prototype.hasOwnProperty.call(b, a);
      return UNKNOWN;
    }
    case "<": case "<=": case ">": case ">=": {
      if (a === null || b === null || typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string")) return UNKNOWN;
      const x = a as number | string;
      const y = b as number | string;
      return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
    }
    case "+":
      if (typeof a === "number" && typeof b === "number") return a + b;
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      return UNKNOWN;
    case "-": case "*": case "/": case "%":
      if (typeof a !== "number" || typeof b !== "number") return UNKNOWN;
      if (op === "-") return a - b;
      if (op === "*") return a * b;
      if (b === 0) return UNKNOWN;
      if (op === "/") return a / b;
      return ((a % b) + b) % b;
    default:
      return UNKNOWN;
  }
}

function deepEq(a: V, b: V): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Run `f` with `name` bound to `value` in `locals`, then put back what was there. */
function withLocal<T>(locals: Map<string, V>, name: string, value: V, f: () => T): T {
  const had = locals.has(name);
  const prev = locals.get(name);
  locals.set(name, value);
  try {
    return f();
  } finally {
    if (had) locals.set(name, prev);
    else locals.delete(name);
  }
}

function evalBuiltin(fn: string, args: IExpr[], locals: Map<string, V>, ec: EvalCtx): V {
  const name = fn.slice(fn.indexOf(".") + 1);
  const lambdaOf = (i: number) => {
    const a = args[i];
    if (!a || a.e !== "lambda") return undefined;
    const lam = a;
    return (x: V): V => {
      if (lam.destructure && Array.isArray(x)) {
        const inner = new Map(locals);
        lam.params.forEach((p, j) => inner.set(p, x[j]));
        return evalE(lam.body, inner, ec);
      }
      return withLocal(locals, lam.params[0]!, x, () => evalE(lam.body, locals, ec));
    };
  };
  const recv = () => (args.length ? evalE(args[0]!, locals, ec) : UNKNOWN);
  if (["any", "all", "count", "filter", "map", "sum", "find", "len", "size", "first", "last", "sorted", "distinct", "contains", "index_of", "min_by", "max_by"].includes(name) && (fn.startsWith("table.") || fn.startsWith("list.") || fn.startsWith("map."))) {
    const r = recv();
    if (fn.startsWith("map.")) return UNKNOWN;
    const xs = listOf(r, ec);
    if (xs === UNKNOWN) return UNKNOWN;
    const f = lambdaOf(1);
    switch (name) {
      case "len": case "size": return xs.length;
      case "first": return xs[0] ?? null;
      case "last": return xs[xs.length - 1] ?? null;
      case "contains": { const v = evalE(args[1]!, locals, ec); return v === UNKNOWN ? UNKNOWN : xs.some((x) => deepEq(x, v)); }
      case "index_of": { const v = evalE(args[1]!, locals, ec); return v === UNKNOWN ? UNKNOWN : xs.findIndex((x) => deepEq(x, v)); }
      case "sorted": {
        if (xs.every((x) => typeof x === "number")) return [...(xs as number[])].sort((p, q) => p - q);
        if (xs.every((x) => typeof x === "string")) return [...(xs as string[])].sort();
        return UNKNOWN;
      }
      case "distinct": { const out: V[] = []; for (const x of xs) if (!out.some((y) => deepEq(x, y))) out.push(x); return out; }
    }
    if (!f) {
      if (name === "count") return xs.length;
      if (name === "any") return xs.length > 0;
      if (name === "sum") return xs.every((x) => typeof x === "number") ? (xs as number[]).reduce((p, q) => p + q, 0) : UNKNOWN;
      return UNKNOWN;
    }
    const ys: V[] = [];
    for (const x of xs) {
      const y = f(x);
      if (y === UNKNOWN) return UNKNOWN;
      ys.push(y);
    }
    switch (name) {
      case "any": return ys.some((y) => y === true);
      case "all": return ys.every((y) => y === true);
      case "count": return ys.filter((y) => y === true).length;
      case "filter": return xs.filter((_, i) => ys[i] === true);
      case "find": return xs.find((_, i) => ys[i] === true) ?? null;
      case "map": return ys;
      case "sum": return ys.every((y) => typeof y === "number") ? (ys as number[]).reduce((p, q) => p + q, 0) : UNKNOWN;
      default: return UNKNOWN;
    }
  }
  const vals: V[] = [];
  for (const a of args) {
    if (a.e === "lambda") return UNKNOWN;
    const v = evalE(a, locals, ec);
    if (v === UNKNOWN) return UNKNOWN;
    vals.push(v);
  }
  const [x, y] = vals;
  switch (fn) {
    case "str.trim": return typeof x === "string" ? x.trim() : UNKNOWN;
    case "str.lower": return typeof x === "string" ? x.toLowerCase() : UNKNOWN;
    case "str.upper": return typeof x === "string" ? x.toUpperCase() : UNKNOWN;
    case "str.len": case "list.len": return typeof x === "string" || Array.isArray(x) ? x.length : UNKNOWN;
    case "str.starts_with": return typeof x === "string" && typeof y === "string" ? x.startsWith(y) : UNKNOWN;
    case "str.ends_with": return typeof x === "string" && typeof y === "string" ? x.endsWith(y) : UNKNOWN;
    case "str.contains": return typeof x === "string" && typeof y === "string" ? x.includes(y) : UNKNOWN;
    case "g.abs": return typeof x === "number" ? Math.abs(x) : UNKNOWN;
    case "g.floor": return typeof x === "number" ? Math.floor(x) : UNKNOWN;
    case "g.min": return vals.every((v) => typeof v === "number") ? Math.min(...(vals as number[])) : UNKNOWN;
    case "g.max": return vals.every((v) => typeof v === "number") ? Math.max(...(vals as number[])) : UNKNOWN;
    case "g.round": {
      if (typeof x !== "number") return UNKNOWN;
      const n = typeof y === "number" ? y : 0;
      return Number((Math.round(x * 10 ** n + (x >= 0 ? 1e-9 : -1e-9)) / 10 ** n).toFixed(n));
    }
    case "g.range": {
      if (typeof x !== "number") return UNKNOWN;
      const [lo, hi] = vals.length >= 2 ? [x, y as number] : [0, x];
      if (typeof hi !== "number" || hi - lo > 10_000) return UNKNOWN;
      const out: number[] = [];
      for (let i = lo; i < hi; i++) out.push(i);
      return out;
    }
    case "g.date_of": return typeof x === "string" ? x.slice(0, 10) : UNKNOWN;
    case "g.date_add": return typeof x === "string" && typeof y === "number" ? dateBuiltin(() => dateAdd(x, y)) : UNKNOWN;
    case "g.days_between": return typeof x === "string" && typeof y === "string" ? dateBuiltin(() => daysBetween(x, y)) : UNKNOWN;
    case "g.str": return typeof x === "string" || typeof x === "number" || typeof x === "boolean" ? String(x) : UNKNOWN;
    default: return UNKNOWN;
  }
}

// ---------- making a state valid ----------

type Rand = () => number;

function shuffled<T>(xs: T[], rand: Rand): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function pick<T>(xs: readonly T[], rand: Rand): T | undefined {
  return xs.length ? xs[Math.floor(rand() * xs.length)] : undefined;
}

/** A fresh scalar value of the type (undefined for lists, maps, records and json). */
function plainValue(type: Type, a: Analysis, state: Record<string, unknown>, rand: Rand, hint: string): V | undefined {
  const t = type.k === "optional" ? type.inner : type;
  switch (t.k) {
    case "string": {
      const h = hint.toLowerCase();
      if (h.includes("email")) return `${pick(["ada", "grace", "bo"], rand)}${1 + Math.floor(rand() * 99)}@example.com`;
      return pick(h.includes("name") ? NAMES : WORDS, rand);
    }
    case "int": return Math.floor(rand() * 11);
    case "number": return Math.floor(rand() * 50_000) / 100;
    case "bool": return rand() < 0.5;
    case "date": return dateOfDay(a.anchor.anchorDate + Math.floor(rand() * 121) - 60);
    case "datetime": return datetimeOfMinute(a.anchor.anchorMinute + (Math.floor(rand() * 241) - 120) * 15);
    case "enum": return pick(t.values, rand);
    case "ref": {
      const table = [...a.tableOf.values()].find((x) => x.entity.name === t.entity);
      return table ? pick(Object.keys((state[table.name] as object) ?? {}), rand) : undefined;
    }
    default: return undefined;
  }
}

/** Values near `v` for a field of type `t`: v itself, one step either side. */
function around(v: V, type: Type): V[] {
  const t = type.k === "optional" ? type.inner : type;
  if (v === null) return isNullable(type) ? [null] : [];
  if (typeof v === "number" && Number.isFinite(v)) {
    if (t.k === "int") {
      const f = Math.floor(v);
      return Number.isInteger(v) ? [v, v + 1, v - 1] : [f, f + 1];
    }
    if (t.k === "number") {
      const c = Math.round(v * 100) / 100;
      return [c, Math.round((c + 0.01) * 100) / 100, Math.round((c - 0.01) * 100) / 100, Math.round((c + 1) * 100) / 100];
    }
    return [];
  }
  if (typeof v === "string") {
    if (t.k === "date" && isDate(v)) return [v, dateAdd(v, 1), dateAdd(v, -1)];
    if (t.k === "date" && /^\d{4}-\d\d-\d\dT/.test(v)) return around(v.slice(0, 10), t);
    if (t.k === "datetime" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) {
      const ms = Date.parse(`${v.slice(0, 19)}Z`);
      if (Number.isNaN(ms)) return [];
      return [0, 60_000, -60_000, 3_600_000].map((d) => new Date(ms + d).toISOString().slice(0, 19));
    }
    if (t.k === "datetime" && /^\d{4}-\d\d-\d\d$/.test(v)) return around(`${v}T00:00:00`, t);
    if (t.k === "string" || t.k === "ref" || (t.k === "enum" && t.values.includes(v))) return [v];
    return [];
  }
  if (typeof v === "boolean") return t.k === "bool" ? [v] : [];
  return [];
}

/** Candidate values for one field of a record that breaks an invariant. */
function candidates(a: Analysis, info: InvInfo, variable: string, ftype: Type, fname: string, rec: Record<string, unknown>, ec: EvalCtx, rand: Rand, ownTable?: { name: string; key: string }): V[] {
  const out: V[] = [];
  const locals = new Map<string, V>([[variable, rec]]);
  for (const { op, other } of info.fieldExprs.get(fname) ?? []) {
    const v = evalE(other, locals, ec);
    if (v === UNKNOWN) continue;
    if (op === "in") {
      if (Array.isArray(v)) out.push(...v.slice(0, 8));
      else if (isTableRef(v)) out.push(...shuffled(Object.keys((ec.state[v.table] as object) ?? {}), rand).slice(0, 4));
      continue;
    }
    out.push(...around(v, ftype));
  }
  if (info.nonBlank.has(fname)) out.push(plainValue({ k: "string" }, a, ec.state, rand, fname) ?? "notes");
  const t = ftype.k === "optional" ? ftype.inner : ftype;
  if (t.k === "enum") out.push(...shuffled(t.values, rand));
  if (t.k === "bool") out.push(true, false);
  if (isNullable(ftype)) out.push(null);
  if (t.k === "ref") {
    const table = [...a.tableOf.values()].find((x) => x.entity.name === t.entity);
    if (table) {
      let keys = Object.keys((ec.state[table.name] as object) ?? {});
      // a reference into the record's own table points back, to an earlier record: no cycles
      if (ownTable && table.name === ownTable.name) keys = keys.slice(0, Math.max(0, keys.indexOf(ownTable.key)));
      out.push(...shuffled(keys, rand).slice(0, 4));
    }
  }
  for (let i = 0; i < 2; i++) {
    const v = plainValue(ftype, a, ec.state, rand, fname);
    if (v !== undefined) out.push(v);
  }
  const seen = new Set<string>([JSON.stringify(rec[fname] ?? null)]);
  return out.filter((v) => {
    const s = JSON.stringify(v);
    if (seen.has(s)) return false;
    seen.add(s);
    return true;
  });
}

/** The fields an invariant reads of its record: those only its body reads first. */
function orderedFields(info: InvInfo): string[] {
  const all = [...info.fieldExprs.keys()];
  return [...all.filter((f) => !info.whereFields.has(f)), ...all.filter((f) => info.whereFields.has(f))];
}

/** Change one or two fields of `rec` so that `ok` holds; the changed record or undefined. */
function searchFields(fields: { name: string; cands: V[] }[], rec: Record<string, unknown>, ok: (r: Record<string, unknown>) => boolean, budget = 200): Record<string, unknown> | undefined {
  let tries = 0;
  for (const f of fields) {
    for (const c of f.cands) {
      const r = { ...rec, [f.name]: c };
      if (++tries > budget) return undefined;
      if (ok(r)) return r;
    }
  }
  for (let i = 0; i < fields.length; i++) {
    for (let j = i + 1; j < fields.length; j++) {
      for (const c1 of fields[i]!.cands.slice(0, 10)) {
        for (const c2 of fields[j]!.cands.slice(0, 10)) {
          const r = { ...rec, [fields[i]!.name]: c1, [fields[j]!.name]: c2 };
          if (++tries > budget) return undefined;
          if (ok(r)) return r;
        }
      }
    }
  }
  return undefined;
}

interface ProbeEnv {
  ctx: unknown;
}

function keyOfPath(path: string): { top: string; key?: string; field?: string } | undefined {
  const m = /^\$(?:\.([A-Za-z_]\w*)|\["((?:[^"\\]|\\.)*)"\])(?:\.([A-Za-z_]\w*)|\["((?:[^"\\]|\\.)*)"\])?(?:\.([A-Za-z_]\w*)|\["((?:[^"\\]|\\.)*)"\]|\[\d+\])?/.exec(path);
  if (!m) return undefined;
  const un = (s: string | undefined, quoted: boolean) => (s === undefined ? undefined : quoted ? (JSON.parse(`"${s}"`) as string) : s);
  const top = un(m[1] ?? m[2], m[2] !== undefined)!;
  const key = un(m[3] ?? m[4], m[4] !== undefined);
  const field = un(m[5] ?? m[6], m[6] !== undefined);
  return { top, key, field };
}

/**
 * Make a generated state valid (see the section comment): the environment, and whether it
 * took only choices in its own records or dropped records and reset fields too.
 */
export function makeValid(env: IEnv, def: EnvDefinition, state: Record<string, unknown>, seed: number): MadeValid {
  const a = analysisOf(env);
  const rand = prng(seed);
  const bare = noInvariants(def);
  let json: Record<string, unknown> = state;
  let repaired = false;
  let lastProblem: StateProblem | undefined;
  const globalDef = new Map(def.globals.map((g) => [g.name, g]));
  const resetGlobal = (name: string) => {
    const g = globalDef.get(name);
    if (!g) return false;
    if (!Object.prototype.hasOwnProperty.call(json, name)) return false;
    const before = JSON.stringify(json[name]);
    if (g.hasDefault) json[name] = g.default;
    else return false;
    return JSON.stringify(json[name]) !== before;
  };
  const hopeless = new Set<string>(); // invariant and record key whose search found nothing
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let probe: Environment;
    try {
      probe = Environment.createFrom(bare, json);
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      // schema and reference problems: null the optional reference, drop the record, reset the field
      json = { ...json };
      let changed = false;
      for (const p of err.problems) {
        lastProblem = p;
        const k = keyOfPath(p.path);
        if (!k) continue;
        const table = a.tableOf.get(k.top);
        if (table && k.key !== undefined) {
          const obj = { ...(json[k.top] as Record<string, unknown>) };
          const rec = obj[k.key] as Record<string, unknown> | undefined;
          if (!rec) continue;
          const f = k.field ? table.entity.type.fields.find((x) => x.name === k.field) : undefined;
          if (f && isNullable(f.type) && /^refers to /.test(p.message) && p.path === `$.${k.top}.${k.key}.${k.field}`) obj[k.key] = { ...rec, [f.name]: null };
          else delete obj[k.key];
          json[k.top] = obj;
          changed = true;
        } else if (!table) changed = resetGlobal(k.top) || changed;
      }
      repaired = true;
      if (!changed) return { how: "failed", problem: lastProblem, rounds: round + 1 };
      continue;
    }
    const ctx = (probe as unknown as ProbeEnv).ctx;
    json = probe.toJSON();
    const ec: EvalCtx = { a, state: json, depth: 0 };
    let broken = false;
    const drops = new Map<string, Set<string>>(); // table -> keys
    const drop = (t: string, k: string) => {
      const s = drops.get(t) ?? new Set<string>();
      s.add(k);
      drops.set(t, s);
    };
    const checkWith = (c: (s: never, r: unknown) => boolean) => (r: Record<string, unknown>) => {
      try {
        return c(ctx as never, r);
      } catch {
        return false;
      }
    };
    // a record's fix must keep every per-record invariant of its table (else fixes undo each other)
    const tableChecks = new Map<string, ((r: Record<string, unknown>) => boolean)[]>();
    // (those that read their own table, e.g. uniqueness counts, would see the record's old
    // version in the store: they are left to the next round)
    for (const inv of def.invariants) {
      if (!inv.perRecord || a.invs.get(inv.name)?.selfRead !== false) continue;
      const list = tableChecks.get(inv.perRecord.table) ?? [];
      list.push(checkWith(inv.perRecord.check as never));
      tableChecks.set(inv.perRecord.table, list);
    }
    // fields a count fix set this round stay as they are
    const locked = new Map<string, Set<string>>();
    for (const inv of def.invariants) {
      const info = a.invs.get(inv.name);
      const pr = inv.perRecord;
      if (pr) {
        const table = probe.table(pr.table)!;
        const keys = table.keys();
        const values = table.values() as Record<string, unknown>[];
        const check = checkWith(pr.check as never);
        const checks = tableChecks.get(pr.table) ?? [];
        const checkAll = (r: Record<string, unknown>) => check(r) && checks.every((c) => c(r));
        const unfixed: string[] = [];
        const tinfo = a.tableOf.get(pr.table);
        for (let i = 0; i < values.length; i++) {
          // the record as fixed by an earlier invariant this round
          const rec = ((json[pr.table] as Record<string, unknown>)[keys[i]!] ?? values[i]!) as Record<string, unknown>;
          if (check(rec)) continue;
          broken = true;
          lastProblem = { path: `$.${pr.table}.${keys[i]}`, message: `breaks invariant ${inv.name}` };
          let fixed: Record<string, unknown> | undefined;
          const id = `${inv.name}\u0000${keys[i]}`;
          if (info?.ir?.perRecord && tinfo && !hopeless.has(id)) {
            const keyField = tinfo.entity.externalKey ? undefined : tinfo.entity.key;
            const recFull = withKey(ec, pr.table, keys[i]!, rec) as Record<string, unknown>;
            const lockedHere = locked.get(`${pr.table}\u0000${keys[i]}`);
            const fields = orderedFields(info)
              .filter((f) => f !== keyField && !lockedHere?.has(f))
              .map((f) => tinfo.entity.type.fields.find((x) => x.name === f))
              .filter((f): f is FieldType => !!f)
              .map((f) => ({ name: f.name, cands: candidates(a, info, info.ir!.perRecord!.variable, f.type, f.name, recFull, ec, rand, { name: pr.table, key: keys[i]! }) }));
            // early on, a fix of this invariant alone (a later one may fix the rest); later, none
            fixed = searchFields(fields, rec, checkAll) ?? (round < 2 ? searchFields(fields, rec, check, 100) : undefined);
          }
          if (fixed) (json[pr.table] as Record<string, unknown>)[keys[i]!] = fixed;
          else {
            hopeless.add(id);
            unfixed.push(keys[i]!);
          }
        }
        // several records break it (duplicates, say): keep the first for the next round
        for (const k of unfixed.length > 1 ? unfixed.slice(1) : unfixed) drop(pr.table, k);
        continue;
      }
      let ok: boolean;
      try {
        ok = inv.check(ctx as never);
      } catch {
        ok = false;
      }
      if (ok) continue;
      broken = true;
      lastProblem = { path: "$", message: `breaks invariant ${inv.name}` };
      // scalar state fields it reads go back to their defaults
      let changed = false;
      for (const g of info?.globals ?? []) if (Object.prototype.hasOwnProperty.call(state, g)) changed = resetGlobal(g) || changed;
      if (changed) {
        repaired = true;
        continue;
      }
      // (a count fix that only changes fields is a choice in the records; one that drops is repair)
      if (info?.ir && fixCount(a, info.ir.expr, ec, rand, drop, locked)) continue;
      if (info?.ir && fixAlls(a, info.ir.expr, ec, rand, drop)) {
        if (drops.size) repaired = true;
        continue;
      }
      // the last record of a table it reads
      for (const t of info?.tables ?? []) {
        const keys = Object.keys((json[t] as object) ?? {});
        if (keys.length) {
          drop(t, keys[keys.length - 1]!);
          break;
        }
      }
    }
    if (!broken) {
      try {
        const e = Environment.createFrom(def, json);
        return { env: e, how: repaired ? "repaired" : "constructed", rounds: round + 1 };
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        lastProblem = err.problems[0];
        return { how: "failed", problem: lastProblem, rounds: round + 1 };
      }
    }
    if (drops.size) {
      repaired = true;
      for (const [t, ks] of drops) {
        const obj = { ...(json[t] as Record<string, unknown>) };
        for (const k of ks) delete obj[k];
        json[t] = obj;
      }
    }
  }
  try {
    return { env: Environment.createFrom(def, json), how: repaired ? "repaired" : "constructed", rounds: MAX_ROUNDS };
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    return { how: "failed", problem: err.problems[0] ?? lastProblem, rounds: MAX_ROUNDS };
  }
}

/**
 * `T.count(x => p) CMP n` (either side): change records of T (one field each, candidates as
 * for per-record invariants) so that p holds for as many as the count needs, or drop the
 * extra ones. Whether it did anything.
 */
function fixCount(a: Analysis, e: IExpr, ec: EvalCtx, rand: Rand, drop: (t: string, k: string) => void, locked: Map<string, Set<string>>): boolean {
  if (e.e !== "binary" || !["==", "<=", "<", ">=", ">"].includes(e.op)) return false;
  let countE = e.left;
  let other = e.right;
  let op = e.op;
  if (!(countE.e === "builtin" && countE.fn === "table.count")) {
    [countE, other] = [e.right, e.left];
    op = ({ "<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "==" } as Record<string, string>)[op]!;
  }
  if (countE.e !== "builtin" || countE.fn !== "table.count" || countE.args.length !== 2) return false;
  const [coll, lam] = countE.args as [IExpr, IExpr];
  if (coll.e !== "state" || !coll.table || lam.e !== "lambda" || lam.params.length !== 1) return false;
  const n = evalE(other, new Map(), ec);
  if (typeof n !== "number") return false;
  const lo = op === "==" || op === ">=" ? n : op === ">" ? n + 1 : 0;
  const hi = op === "==" || op === "<=" ? n : op === "<" ? n - 1 : Infinity;
  const tinfo = a.tableOf.get(coll.field);
  if (!tinfo) return false;
  const obj = ec.state[coll.field] as Record<string, Record<string, unknown>>;
  const keys = Object.keys(obj);
  const variable = lam.params[0]!;
  const holds = (k: string, r: Record<string, unknown>) => evalE(lam.body, new Map([[variable, withKey(ec, coll.field, k, r)]]), ec);
  const inside = keys.filter((k) => holds(k, obj[k]!) === true);
  const info = analyse({ name: "count", expr: lam.body, perRecord: { table: coll.field, variable, body: lam.body }, reads: [], span: lam.span }, a.env);
  const keyField = tinfo.entity.externalKey ? undefined : tinfo.entity.key;
  const change = (k: string, want: boolean): boolean => {
    const rec = obj[k]!;
    const fields = orderedFields(info)
      .filter((f) => f !== keyField)
      .map((f) => tinfo.entity.type.fields.find((x) => x.name === f))
      .filter((f): f is FieldType => !!f)
      .map((f) => ({ name: f.name, cands: candidates(a, info, variable, f.type, f.name, rec, ec, rand, { name: coll.field, key: k }) }));
    const r = searchFields(fields, rec, (x) => holds(k, x) === want, 100);
    if (!r) return false;
    obj[k] = r;
    const set = locked.get(`${coll.field}\u0000${k}`) ?? new Set<string>();
    for (const f of fields) if (JSON.stringify(r[f.name] ?? null) !== JSON.stringify(rec[f.name] ?? null)) set.add(f.name);
    locked.set(`${coll.field}\u0000${k}`, set);
    return true;
  };
  if (inside.length > hi) {
    for (const k of inside.slice(Math.max(0, hi))) if (!change(k, false)) drop(coll.field, k);
    return true;
  }
  if (inside.length < lo) {
    let need = lo - inside.length;
    for (const k of keys) {
      if (need <= 0) break;
      if (inside.includes(k)) continue;
      if (change(k, true)) need--;
    }
    return need < lo - inside.length;
  }
  return false;
}

/**
 * Whole-state invariants that are conjunctions of per-record ones, `(all c in claims where w: b)
 * and authorizations.all(a => ...)`: each record that breaks its part gets the field choice of
 * a per-record invariant (checked with the evaluator), or is dropped. Whether it did anything.
 */
function fixAlls(a: Analysis, e: IExpr, ec: EvalCtx, rand: Rand, drop: (t: string, k: string) => void): boolean {
  const parts = conjuncts(e);
  let did = false;
  for (const p of parts) {
    let table: string | undefined;
    let variable: string | undefined;
    let where: IExpr | undefined;
    let body: IExpr | undefined;
    if (p.e === "quant" && p.quantifier === "all" && p.collection.e === "state" && p.collection.table) {
      [table, variable, where, body] = [p.collection.field, p.variable, p.where, p.body];
    } else if (p.e === "builtin" && p.fn === "table.all" && p.args[0]?.e === "state" && p.args[1]?.e === "lambda" && p.args[1].params.length === 1) {
      [table, variable, body] = [p.args[0].field, p.args[1].params[0]!, p.args[1].body];
    }
    if (!table || !variable || !body) continue;
    const tinfo = a.tableOf.get(table);
    const obj = ec.state[table] as Record<string, Record<string, unknown>> | undefined;
    if (!tinfo || !obj) continue;
    const info = analyse({ name: "all", expr: p, perRecord: { table, variable, where, body }, reads: [], span: p.span }, a.env);
    const keyField = tinfo.entity.externalKey ? undefined : tinfo.entity.key;
    const holds = (k: string, r: Record<string, unknown>) => {
      const locals = new Map<string, V>([[variable!, withKey(ec, table!, k, r)]]);
      if (where && evalE(where, locals, ec) === false) return true;
      return evalE(body!, locals, ec) === true;
    };
    for (const k of Object.keys(obj)) {
      const rec = obj[k]!;
      if (holds(k, rec)) continue;
      const fields = orderedFields(info)
        .filter((f) => f !== keyField)
        .map((f) => tinfo.entity.type.fields.find((x) => x.name === f))
        .filter((f): f is FieldType => !!f)
        .map((f) => ({ name: f.name, cands: candidates(a, info, variable, f.type, f.name, rec, ec, rand, { name: table, key: k }) }));
      const r = searchFields(fields, rec, (x) => holds(k, x), 100);
      if (r) obj[k] = r;
      else drop(table, k);
      did = true;
    }
  }
  return did;
}
