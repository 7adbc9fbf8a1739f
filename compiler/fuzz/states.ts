// Random initial states for a spec, in the JSON shape Environment.createFrom accepts: every
// table an object keyed by record key (in insertion order), scalar state fields with values of
// their type (fields with defaults often left out). Schema and references always hold: the keys
// of every table are drawn first (tables that a record cannot exist without get at least one
// key), then the records, whose refs (also inside lists, maps, nested records and optionals)
// pick from those keys. Invariants are not attempted: callers filter with createFrom, and
// `acceptance` measures how many pass.
import fc from "fast-check";
import { Environment, StateError, type EnvDefinition, type StateProblem } from "../../runtime/index.js";
import type { FieldType, IEntity, IEnv, Type } from "../ir.js";

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

  // mostly small tables (invariants hold more often), sometimes up to the maximum
  const sizeArb =
    maxRecords === 0
      ? fc.constant(0)
      : fc.oneof(
          { weight: 3, arbitrary: fc.constant(0) },
          { weight: 5, arbitrary: fc.integer({ min: 1, max: Math.min(3, maxRecords) }) },
          { weight: 2, arbitrary: fc.integer({ min: 0, max: maxRecords }) },
        );

  // a record needing an empty table: half the states grow that table to one record, the other
  // half empty the needing table (and what needs it in turn), then grow what is still needed
  const sizesArb = fc.tuple(fc.tuple(...tables.map(() => sizeArb)), fc.boolean()).map(([drawn, drop]) => {
    const size = new Map(tables.map((t, i) => [t.entity.name, impossible.has(t.entity.name) ? 0 : drawn[i]!]));
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
      return fc.tuple(...ks.map((k) => recordArb(t.entity, k, ctx)));
    });
    const globalArbs = globals.map((g): fc.Arbitrary<Slot> => {
      const value = canGenerate(g.type, ctx) ? valueArb(g.type, ctx, 0, g.name) : undefined;
      if (!value) return fc.constant(g.hasDefault ? ABSENT : null);
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

/**
 * Sample `runs` states with the seed and load each with createFrom: how many were valid, and
 * the first problem of the others grouped by kind (path and message with keys and numbers
 * blanked, e.g. `invariant: $.accounts[*]: breaks invariant ledger_matches (...)`).
 */
export function acceptance(env: IEnv, def: EnvDefinition, runs: number, seed: number): { tried: number; valid: number; reasons: Map<string, number> } {
  const reasons = new Map<string, number>();
  let valid = 0;
  const states = runs > 0 ? fc.sample(stateArbitrary(env), { numRuns: runs, seed }) : [];
  for (const state of states) {
    let reason: string;
    try {
      Environment.createFrom(def, state);
      valid++;
      continue;
    } catch (err) {
      if (err instanceof StateError && err.problems.length) {
        const p = err.problems[0]!;
        const kind = problemKind(p);
        // invariant messages name the invariant and its description: keep them whole
        reason = `${kind}: ${strip(p.path)}: ${kind === "invariant" ? p.message : strip(p.message)}`;
      } else reason = `threw: ${strip(err instanceof Error ? err.message : String(err))}`;
    }
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return { tried: states.length, valid, reasons };
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
  const out: TableInfo[] = [];
  for (const sf of env.state) {
    if (!sf.table) continue;
    const entity = env.entities.find((e) => e.name === sf.table);
    if (!entity) continue;
    out.push({ name: sf.name, entity, prefix: prefixFor(entity.name, used), needs: needsOf(entity.type) });
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

const DAY_MS = 86_400_000;

function dateArb(ctx: Ctx): fc.Arbitrary<string> {
  return fc.integer({ min: -60, max: 60 }).map((d) => new Date((ctx.anchorDate + d) * DAY_MS).toISOString().slice(0, 10));
}

function datetimeArb(ctx: Ctx): fc.Arbitrary<string> {
  const near = fc
    .tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 7 * 4, max: 19 * 4 }))
    .map(([d, q]) => Math.floor(ctx.anchorMinute / 1440) * 1440 + d * 1440 + q * 15);
  const any = fc.integer({ min: -30 * 1440, max: 30 * 1440 }).map((m) => ctx.anchorMinute + m);
  return fc
    .oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: any }, { weight: 1, arbitrary: fc.constant(ctx.anchorMinute) })
    .map((m) => new Date(m * 60_000).toISOString().slice(0, 19)); // with seconds, no zone: one format
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
    const ms = Date.parse(k === "date" ? `${s.default}T00:00:00Z` : k === "datetime" ? `${s.default.slice(0, 19)}Z` : "");
    if (Number.isNaN(ms)) continue;
    if (k === "date" && date === undefined) date = Math.floor(ms / DAY_MS);
    if (k === "datetime" && minute === undefined) minute = Math.floor(ms / 60_000);
  }
  const fallback = Date.parse("2024-05-01T09:00:00Z");
  if (date === undefined) date = minute !== undefined ? Math.floor(minute / 1440) : Math.floor(fallback / DAY_MS);
  if (minute === undefined) minute = date * 1440 + 9 * 60;
  return { anchorDate: date, anchorMinute: minute };
}

function singular(name: string): string {
  return name.endsWith("s") ? name.slice(0, -1) : name;
}

/** `obj[key] = v`, also for the key "__proto__" (which would set the prototype instead). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
