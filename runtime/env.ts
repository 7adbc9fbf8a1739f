// The environment base that generated code instantiates: creation from a JSON state (zod,
// references, invariants, errors naming the JSON path), transactional tool calls with result
// kinds, ensure/invariant checking after actions, O(1) fork, snapshot and diff.
// Assumes an EnvDefinition emitted by the compiler; imports nothing from the compiler.
import type { ZodType } from "zod";
import { Store, Table } from "./store.js";
import { EnvFault, PreconditionFailure, FAILED, StepBudgetExceeded, CallDepthExceeded } from "./ops.js";
import { DEFAULT_MAX_STEPS, MAX_MAX_STEPS, UNBUDGETED, clampSteps, budgetFault } from "./budget.js";
import { Ctx } from "./ctx.js";

export { Ctx };
import { deepEqual, KEY_ORDER, orderedKeys, carryKeyOrder } from "./values.js";
import { fastArgsFor, type FastArgs } from "./fast-args.js";

export interface TableDef {
  name: string;
  entity: string;
  key: string;
  /** records do not hold their key: it is only their key in the table's JSON object */
  externalKey?: boolean;
  record: ZodType;
  /** references held by a record: [field path, target table, key] */
  refs?: (rec: any) => [string, string, string][];
}

export interface GlobalDef {
  name: string;
  schema: ZodType;
  hasDefault: boolean;
  default?: unknown;
}

export interface ToolDef {
  name: string;
  kind: "query" | "action";
  description: string;
  args: ZodType;
  run: (s: Ctx, a: any) => unknown;
  location: string;
}

export interface InvariantDef {
  name: string;
  description?: string;
  location: string;
  check: (s: Ctx) => boolean;
  perRecord?: {
    table: string;
    check: (s: Ctx, rec: any) => boolean;
    /**
     * How the condition reaches each table it reads (compiler/invariant-reads.ts,
     * perRecordJoins): [f, g] pairs, a record u of that table mattering to a record x only when
     * u.f == x.g (f null: u's key); the table's own entry is [] when the condition does not
     * read it. A table read any other way is absent: a change to it makes a full re-check.
     * Without joins, a change to any other table read does, and a change to the own table
     * re-checks the changed records.
     */
    joins?: Record<string, [string | null, string][]>;
  };
  reads: string[]; // state fields; "*" when unknown
}

export interface EnvDefinition {
  name: string;
  title?: string;
  description?: string;
  specFile: string;
  rules: string[];
  tables: TableDef[];
  globals: GlobalDef[];
  tools: ToolDef[];
  invariants: InvariantDef[];
  /** OpenAI function-calling schemas of the tools, as in tools.json */
  toolSchemas: unknown[];
  /** the spec's step budget per call (`limits { steps: N }`), when it sets one */
  maxSteps?: number;
}

export type ResultKind = "invalid_args" | "unknown_tool" | "precondition" | "env_fault";

export type CallResult =
  | { ok: true; value: unknown }
  | { ok: false; kind: ResultKind; error: string; location?: string };

export interface EnvOptions {
  /** check ensure, invariants and references after every action (default true) */
  checks?: boolean;
  /** changes where new_id counters start */
  seed?: number;
  /**
   * evaluation steps one tool call may take (see Ctx.steps); overrides the spec's
   * `limits { steps: N }`, which overrides DEFAULT_MAX_STEPS
   */
  maxSteps?: number;
}


export interface StateProblem {
  path: string;
  message: string;
}

export class StateError extends Error {
  constructor(readonly problems: StateProblem[]) {
    super(`Invalid state:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
    this.name = "StateError";
  }
}

function jsonPath(parts: (string | number)[]): string {
  let out = "$";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

type ZodIssueLike = { path: PropertyKey[]; message: string; code?: string; issues?: { message: string }[] };

/** zod's message, or for a bad map key (a date key that is not a date) what is wrong with the key. */
function issueMessage(i: ZodIssueLike): string {
  return i.code === "invalid_key" && i.issues?.[0] ? `key ${i.issues[0].message}` : i.message;
}

function zodProblems(error: { issues: ZodIssueLike[] }, base: (string | number)[]): StateProblem[] {
  return error.issues.map((i) => ({
    path: jsonPath([...base, ...(i.path as (string | number)[])]),
    message: issueMessage(i),
  }));
}

export function formatArgsError(
  tool: string,
  error: { issues: (ZodIssueLike & { keys?: string[]; expected?: string; input?: unknown })[] },
): string {
  const parts = error.issues.map((i) => {
    const where = i.path.length ? i.path.map(String).join(".") : "arguments";
    if (i.code === "unrecognized_keys" && i.keys) return `unknown argument${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `'${k}'`).join(", ")}`;
    if (i.code === "invalid_type" && /received undefined/.test(i.message) && i.path.length) return `${where}: missing (required ${i.expected ?? "value"})`;
    if (i.code === "invalid_type" && !i.path.length) return "arguments must be a JSON object";
    return `${where}: ${issueMessage(i)}`;
  });
  return `Invalid arguments for ${tool}: ${parts.join("; ")}`;
}

/**
 * Every name an Environment answers to: its own members (public, protected and private: a
 * subclass method of the same name would shadow or be shadowed by them) and those every
 * object inherits. A generated class names a tool's method differently when the tool's name
 * is one of these (a tool `call` gets the method `call_`). tests/runtime/env-members.test.ts
 * keeps the list complete.
 */
export const ENVIRONMENT_MEMBERS: readonly string[] = [
  "def", "store", "ctx", "plan", "_checks", "createFrom", "fromValidated", "name", "checks", "toolNames", "call",
  "preconditionResult", "lastPreconditionAt", "errorResult", "checkAfterAction", "checkJoined", "checkRefs", "danglingRefs",
  "referenceProblems", "invariantProblems", "fork", "checkpoint", "changedSince", "snapshot", "table",
  "globals", "readContext", "toJSON", "diff", "budget", "stepsLeft", "maxSteps", "lastCallSteps", "liftBudget",
  "constructor", "__proto__", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toString",
  "toLocaleString", "valueOf", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
];

export class Environment {
  readonly def: EnvDefinition;
  protected store: Store;
  protected ctx: Ctx;
  /** what is worked out once per definition and shared by every environment and fork of it */
  private plan: DefinitionPlan;
  private _checks: boolean;
  private budget: number;

  protected constructor(def: EnvDefinition, store: Store, options: EnvOptions) {
    this.def = def;
    this.store = store;
    this._checks = options.checks ?? true;
    this.budget = clampSteps(options.maxSteps ?? def.maxSteps ?? DEFAULT_MAX_STEPS);
    this.ctx = new Ctx(store, this._checks);
    this.plan = planOf(def);
  }

  /** Validate an initial state (JSON value) and build an environment, or throw StateError. */
  static createFrom(def: EnvDefinition, initial: unknown, options: EnvOptions = {}): Environment {
    const store = buildStore(def, initial);
    if (options.seed) store.idCounter = 1 + (Math.abs(Math.trunc(options.seed)) % 1_000_000);
    const env = new Environment(def, store, options);
    const problems = [...env.referenceProblems(), ...env.invariantProblems()];
    if (problems.length) throw new StateError(problems);
    return env;
  }

  /**
   * An environment from a state that createFrom accepted before, exactly as that environment's
   * toJSON() gave it (kept by the CLI's cache of validated states, under the hash of the state
   * text and of the compiled spec): built as createFrom builds it, without checking it again.
   * Any other state must go through createFrom.
   */
  static fromValidated(def: EnvDefinition, state: Record<string, unknown>, options: EnvOptions = {}): Environment {
    const globals: Record<string, unknown> = {};
    for (const g of def.globals) globals[g.name] = state[g.name] ?? null;
    const store = new Store(globals);
    for (const tdef of def.tables) {
      const table = (state[tdef.name] ?? {}) as Record<string, object>;
      store.addTable(tdef.name, tdef.key, orderedKeys(table).map((k): [string, object] => [k, table[k]!]), tdef.externalKey);
    }
    store.freezeAll();
    if (options.seed) store.idCounter = 1 + (Math.abs(Math.trunc(options.seed)) % 1_000_000);
    return new Environment(def, store, options);
  }

  get name(): string {
    return this.def.name;
  }

  /** Whether ensure, invariants and references are checked after actions. */
  get checks(): boolean {
    return this._checks;
  }
  set checks(on: boolean) {
    this._checks = on;
    this.ctx.checks = on;
  }

  /** Evaluation steps one call may take (options.maxSteps, else the spec's, else the default). */
  get maxSteps(): number {
    return this.budget;
  }
  set maxSteps(n: number) {
    this.budget = clampSteps(n);
  }

  /**
   * Steps the last tool call took (more than maxSteps when it ran over; 0 when it did not run:
   * an unknown tool, invalid arguments).
   */
  get lastCallSteps(): number {
    const left = this.ctx.steps > MAX_MAX_STEPS ? this.stepsLeft : this.ctx.steps;
    return this.budget - left;
  }

  get toolNames(): string[] {
    return this.def.tools.map((t) => t.name);
  }

  /** Run one tool call as a transaction. Never throws. */
  call(name: string, args: unknown = {}): CallResult {
    const entry = this.plan.tools.get(name);
    if (!entry) {
      this.ctx.steps = this.budget; // no step taken
      return {
        ok: false,
        kind: "unknown_tool",
        error: `Unknown tool '${name}'. Available tools: ${this.toolNames.join(", ")}`,
      };
    }
    const tool = entry.tool;
    if (args == null) args = {};
    // the common case (valid arguments of simple types) skips zod; anything else goes to zod
    // built on a tool's first call: a spec of thousands of tools mostly has few of them called
    const fast = entry.fastArgs === undefined ? (entry.fastArgs = fastArgsFor(tool.args)) : entry.fastArgs;
    let data: unknown = fast === null ? undefined : fast(args);
    if (data === undefined) {
      const parsed = tool.args.safeParse(args);
      if (!parsed.success) {
        this.ctx.steps = this.budget; // no step taken
        return { ok: false, kind: "invalid_args", error: formatArgsError(name, parsed.error as never) };
      }
      data = parsed.data;
    }
    // the one cost of the budget on every call: a store (depth is balanced by returns, and
    // reset where a throw may leave it raised: errorResult, readContext, invariantProblems)
    this.ctx.steps = this.budget;
    if (tool.kind === "query") {
      try {
        const raw = tool.run(this.ctx, data);
        return raw === FAILED ? this.preconditionResult() : { ok: true, value: normalize(raw) };
      } catch (err) {
        return this.errorResult(err, tool);
      }
    }
    const store = this.store;
    store.begin();
    try {
      const raw = tool.run(this.ctx, data);
      if (raw === FAILED) {
        store.rollback();
        return this.preconditionResult();
      }
      const value = normalize(raw);
      if (this._checks) {
        this.liftBudget();
        this.checkAfterAction();
      }
      store.commit();
      return { ok: true, value };
    } catch (err) {
      store.rollback();
      return this.errorResult(err, tool);
    }
  }

  /**
   * Before what runs outside tool bodies (invariants after an action, scenario checks), which
   * may call budgeted helpers too: keep what the last call left (for lastCallSteps), and lift
   * the budget.
   */
  private liftBudget() {
    const ctx = this.ctx;
    if (ctx.steps > MAX_MAX_STEPS) return; // lifted already
    this.stepsLeft = ctx.steps;
    ctx.steps = UNBUDGETED;
  }
  private stepsLeft = 0;

  private preconditionResult(): CallResult {
    this.lastPreconditionAt = this.ctx.failAt;
    return { ok: false, kind: "precondition", error: this.ctx.failMessage };
  }

  /**
   * Where the last failed precondition (`require`, `fail`, `let ... else`) is in the spec. Not
   * part of the result, which agents see; coverage tools read it (set on precondition results only).
   */
  lastPreconditionAt: string | undefined;

  private errorResult(err: unknown, tool: ToolDef): CallResult {
    if (err instanceof PreconditionFailure) {
      this.lastPreconditionAt = err.location;
      return { ok: false, kind: "precondition", error: err.message };
    }
    this.ctx.depth = 0; // a throw out of nested calls skipped their returns
    if (err instanceof StepBudgetExceeded || err instanceof CallDepthExceeded) {
      // over means past: when the budget ran out, count the step that did not fit
      if (err instanceof StepBudgetExceeded) this.ctx.steps = -1;
      return budgetFault(err, tool.name, this.budget);
    }
    if (err instanceof EnvFault) return { ok: false, kind: "env_fault", error: err.message, location: err.location };
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, kind: "env_fault", error: `Internal error in ${tool.name}: ${message}`, location: tool.location };
  }

  private checkAfterAction() {
    const store = this.store;
    const nTables = store.touchedCount;
    if (nTables === 0 && !store.globalsTouched) return;
    const nChanges = store.changeCount;
    // references from changed records, and to deleted ones; table by table in the order of
    // their first change, records in the order of their first change (a record journaled twice
    // is checked twice: the checks are pure, so the outcome is the same)
    let deletedFrom: Set<string> | undefined;
    for (let t = 0; t < nTables; t++) {
      const table = store.touchedTable(t);
      const tdef = this.plan.tableDefs.get(table.name)!;
      for (let i = 0; i < nChanges; i++) {
        if (store.changedTable(i) !== table) continue;
        const key = store.changedKey(i);
        const rec = table.get(key);
        if (rec === undefined) {
          (deletedFrom ??= new Set()).add(table.name);
          continue;
        }
        if (tdef.refs) this.checkRefs(tdef, key, rec);
      }
    }
    if (deletedFrom) {
      for (const r of this.danglingRefs(deletedFrom))
        throw new EnvFault(
          `Record ${r.table}[${JSON.stringify(r.key)}].${r.path} still refers to deleted ${r.target}[${JSON.stringify(r.value)}]`,
          this.def.specFile,
        );
    }
    const plans = this.plan.invariants;
    for (let n = 0; n < plans.length; n++) {
      const { inv, star, globals, tables } = plans[n]!;
      const pr = inv.perRecord;
      // did this action change anything the invariant reads, and anything besides its own table?
      let readsChanged = star || (globals && store.globalsTouched);
      let otherChanged = readsChanged;
      // with joins: whether a table read in a way they do not cover changed
      let unjoined = readsChanged;
      const joins = plans[n]!.joins;
      for (let j = 0; j < tables.length; j++) {
        const r = tables[j]!;
        if (!store.isTouched(r)) continue;
        readsChanged = true;
        if (r !== pr?.table) otherChanged = true;
        if (joins && joins[j] === null) unjoined = true;
      }
      if (!readsChanged) continue;
      if (joins) {
        if (!unjoined && this.checkJoined(plans[n]!, joins)) continue;
        if (!inv.check(this.ctx)) throw new EnvFault(`Invariant ${inv.name} is broken${inv.description ? `: ${inv.description}` : ""}`, inv.location);
      } else if (pr && !otherChanged) {
        const table = store.tables[pr.table]!;
        for (let i = 0; i < nChanges; i++) {
          if (store.changedTable(i) !== table) continue;
          const key = store.changedKey(i);
          const rec = table.get(key);
          if (rec !== undefined && !pr.check(this.ctx, rec))
            throw new EnvFault(`Invariant ${inv.name} is broken by ${pr.table}[${JSON.stringify(key)}]${inv.description ? `: ${inv.description}` : ""}`, inv.location);
        }
      } else if (!inv.check(this.ctx)) {
        throw new EnvFault(`Invariant ${inv.name} is broken${inv.description ? `: ${inv.description}` : ""}`, inv.location);
      }
    }
  }

  /**
   * A per-record invariant after an action that changed only tables its joins cover: the
   * changed records of its own table, and the records of its table that a changed record (as
   * it was, or as it is) joins. Throws for the first that breaks it; false when a joined value
   * is not a plain one (a full check must decide).
   */
  private checkJoined(plan: InvariantPlan, joins: readonly (readonly JoinPair[] | null)[]): boolean {
    const store = this.store;
    const inv = plan.inv;
    const pr = inv.perRecord!;
    const table = store.tables[pr.table]!;
    const nChanges = store.changeCount;
    const broken = (key: string) =>
      new EnvFault(`Invariant ${inv.name} is broken by ${pr.table}[${JSON.stringify(key)}]${inv.description ? `: ${inv.description}` : ""}`, inv.location);
    if (store.isTouched(pr.table)) {
      for (let i = 0; i < nChanges; i++) {
        if (store.changedTable(i) !== table) continue;
        const key = store.changedKey(i);
        const rec = table.get(key);
        if (rec !== undefined && !pr.check(this.ctx, rec)) throw broken(key);
      }
    }
    for (let j = 0; j < joins.length; j++) {
      const pairs = joins[j];
      if (!pairs || pairs.length === 0 || !store.isTouched(plan.tables[j]!)) continue;
      const other = store.tables[plan.tables[j]!]!;
      for (const [f, g] of pairs) {
        const values = new Set<unknown>();
        for (let i = 0; i < nChanges; i++) {
          if (store.changedTable(i) !== other) continue;
          const key = store.changedKey(i);
          if (f === null) {
            values.add(key);
            continue;
          }
          // the record as it was (a change may take it away from x) and as it is (or to x)
          const was = store.changedPrev(i) as Record<string, unknown> | undefined;
          const now = other.get(key) as Record<string, unknown> | undefined;
          if (was) {
            const v = was[f];
            if (v !== null && typeof v === "object") return false;
            values.add(v ?? null);
          }
          if (now) {
            const v = now[f];
            if (v !== null && typeof v === "object") return false;
            values.add(v ?? null);
          }
        }
        if (values.size === 0) continue;
        if (g === plan.keyField) {
          for (const v of values) {
            if (typeof v !== "string") continue;
            const rec = table.get(v);
            if (rec !== undefined && !pr.check(this.ctx, rec)) throw broken(v);
          }
        } else {
          const keys = table.keys();
          const recs = table.values() as Record<string, unknown>[];
          for (let r = 0; r < recs.length; r++) {
            const v = recs[r]![g];
            if (v !== null && typeof v === "object") return false;
            if (values.has(v ?? null) && !pr.check(this.ctx, recs[r])) throw broken(keys[r]!);
          }
        }
      }
    }
    return true;
  }

  private checkRefs(tdef: TableDef, key: string, rec: unknown) {
    for (const [path, target, value] of tdef.refs!(rec)) {
      if (!this.store.tables[target]!.has(value))
        throw new EnvFault(
          `Record ${tdef.name}[${JSON.stringify(key)}].${path} refers to ${target}[${JSON.stringify(value)}], which does not exist`,
          this.def.specFile,
        );
    }
  }

  /** References to missing records, from every table (or only those pointing into `targets`). */
  private *danglingRefs(targets?: Set<string>): Generator<{ table: string; key: string; path: string; target: string; value: string }> {
    for (const tdef of this.def.tables) {
      if (!tdef.refs) continue;
      const table = this.store.tables[tdef.name]!;
      const keys = table.keys();
      const values = table.values();
      for (let i = 0; i < values.length; i++) {
        for (const [path, target, value] of tdef.refs(values[i])) {
          if (targets && !targets.has(target)) continue;
          if (!this.store.tables[target]!.has(value)) yield { table: tdef.name, key: keys[i]!, path, target, value };
        }
      }
    }
  }

  referenceProblems(): StateProblem[] {
    return [...this.danglingRefs()].map((r) => ({
      path: `${jsonPath([r.table, r.key])}.${r.path}`,
      message: `refers to ${r.target}[${JSON.stringify(r.value)}], which does not exist`,
    }));
  }

  invariantProblems(): StateProblem[] {
    const out: StateProblem[] = [];
    this.liftBudget();
    this.ctx.depth = 0;
    for (const inv of this.def.invariants) {
      let ok: boolean;
      try {
        ok = inv.check(this.ctx);
      } catch (err) {
        out.push({ path: "$", message: `invariant ${inv.name} could not be evaluated: ${(err as Error).message}` });
        continue;
      }
      if (ok) continue;
      let where = "$";
      if (inv.perRecord) {
        const table = this.store.tables[inv.perRecord.table]!;
        const keys = table.keys();
        const values = table.values();
        const bad = values.findIndex((r) => {
          try { return !inv.perRecord!.check(this.ctx, r); } catch { return true; }
        });
        if (bad >= 0) where = jsonPath([inv.perRecord.table, keys[bad]!]);
      }
      out.push({ path: where, message: `breaks invariant ${inv.name}${inv.description ? ` (${inv.description})` : ""}` });
    }
    return out;
  }

  /** A new environment sharing this one's records; O(1) in the state size. */
  fork(options: EnvOptions = {}): Environment {
    const env = new Environment(this.def, this.store.fork(), { checks: options.checks ?? this.checks, maxSteps: options.maxSteps ?? this.budget });
    if (options.seed) env.store.idCounter = 1 + (Math.abs(Math.trunc(options.seed)) % 1_000_000);
    return env;
  }

  /**
   * Mark the current state, in O(1), so that changedSince() can tell whether later calls left a
   * trace (tools like the fuzzer check that failed calls and queries change nothing).
   */
  checkpoint(): { readonly globals: object } {
    for (const t of this.store.tableList) t.checkpoint();
    return { globals: this.store.globals };
  }

  /** Whether any record, any table's order or the globals changed since the checkpoint. */
  changedSince(mark: { readonly globals: object }): boolean {
    if (this.store.globals !== mark.globals) return true;
    for (const t of this.store.tableList) if (t.changedSinceCheckpoint()) return true;
    return false;
  }

  /** A frozen copy of the current state (a fork nobody writes to). */
  snapshot(): Environment {
    return this.fork();
  }

  table(name: string): Table<any> | undefined {
    return this.store.tables[name];
  }

  get globals(): Readonly<Record<string, unknown>> {
    return this.store.globals;
  }

  /** The state as checker functions read it (scenario checks, rewards). */
  readContext(): Ctx {
    this.liftBudget();
    this.ctx.depth = 0; // in case a check's helper faulted in nested calls last time
    return this.ctx;
  }

  /** The state as JSON-shaped values (tables as keyed objects, in insertion order). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const tdef of this.def.tables) out[tdef.name] = tableToObject(this.store.tables[tdef.name]!);
    for (const g of this.def.globals) out[g.name] = this.store.globals[g.name] ?? null;
    return out;
  }

  /** Records and fields that differ between this state and another of the same spec. */
  diff(other: Environment): StateDiff {
    const tables: StateDiff["tables"] = {};
    for (const tdef of this.def.tables) {
      const a = this.store.tables[tdef.name]!;
      const b = other.store.tables[tdef.name]!;
      const changes: TableChanges = {};
      const candidates = candidateKeys(a, b);
      for (const key of candidates) {
        const before = a.get(key);
        const after = b.get(key);
        if (before === after || deepEqual(before, after)) continue;
        setOwn(changes, key, { before: before ?? null, after: after ?? null }); // FIX(__proto__ key)
      }
      if (Object.keys(changes).length) tables[tdef.name] = changes;
    }
    const globals: StateDiff["globals"] = {};
    for (const g of this.def.globals) {
      const before = this.store.globals[g.name];
      const after = other.store.globals[g.name];
      if (!deepEqual(before, after)) globals[g.name] = { before: before ?? null, after: after ?? null };
    }
    return { tables, globals };
  }
}

export type TableChanges = Record<string, { before: unknown; after: unknown }>;
export interface StateDiff {
  tables: Record<string, TableChanges>;
  globals: Record<string, { before: unknown; after: unknown }>;
}

export function diffIsEmpty(d: StateDiff): boolean {
  return Object.keys(d.tables).length === 0 && Object.keys(d.globals).length === 0;
}

function candidateKeys(a: Table<any>, b: Table<any>): Iterable<string> {
  const chainA = a.layerChain();
  const chainB = b.layerChain();
  // shared ancestry: only keys written above the deepest common layer can differ
  let common = null as ReturnType<Table<any>["topLayer"]>;
  for (const l of chainA) if (chainB.has(l)) { common = l; break; }
  if (!common && (chainA.size || chainB.size)) return new Set([...a.keys(), ...b.keys()]);
  const keys = a.changedKeysSince(common);
  for (const k of b.changedKeysSince(common)) keys.add(k);
  return keys;
}

/**
 * FIX(__proto__ key): `obj[key] = v` with the key "__proto__" sets the prototype instead of
 * adding an entry, so a record stored under that key vanished from toJSON() and diff().
 */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function tableToObject(t: Table<any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = t.keys();
  const values = t.values();
  let reordered = false;
  for (let i = 0; i < keys.length; i++) {
    setOwn(out, keys[i]!, values[i]); // FIX(__proto__ key)
    if (!reordered && /^(0|[1-9]\d*)$/.test(keys[i]!)) reordered = true;
  }
  if (reordered) Object.defineProperty(out, KEY_ORDER, { value: [...keys], enumerable: false });
  return out;
}

interface ToolEntry {
  tool: ToolDef;
  /** the tool's argument fast path (null: none); undefined until the tool is first called */
  fastArgs: FastArgs | null | undefined;
}

interface InvariantPlan {
  inv: InvariantDef;
  /** reads "*": anything may matter */
  star: boolean;
  /** reads a global: any change to the globals matters */
  globals: boolean;
  /** the tables it reads */
  tables: string[];
  /**
   * for a per-record invariant with joins: per table read (same order), its join pairs, or
   * null where the joins do not cover it
   */
  joins?: (JoinPair[] | null)[];
  /** the field the invariant's table holds its keys in (undefined: none, or no per-record) */
  keyField?: string;
}
type JoinPair = [string | null, string];
/** Worked out once per definition: every environment, session and fuzz run of it shares it. */
interface DefinitionPlan {
  /** tools by name, with their zod-free argument check */
  tools: Map<string, ToolEntry>;
  tableDefs: Map<string, TableDef>;
  /** the invariants' reads, sorted into tables, globals and "*" */
  invariants: InvariantPlan[];
}

const definitionPlans = new WeakMap<EnvDefinition, DefinitionPlan>();

function planOf(def: EnvDefinition): DefinitionPlan {
  let plan = definitionPlans.get(def);
  if (!plan) {
    const tableNames = new Set(def.tables.map((t) => t.name));
    plan = {
      tools: new Map(def.tools.map((t): [string, ToolEntry] => [t.name, { tool: t, fastArgs: undefined }])),
      tableDefs: new Map(def.tables.map((t) => [t.name, t])),
      invariants: def.invariants.map((inv): InvariantPlan => {
        const tables = [...new Set(inv.reads.filter((r) => tableNames.has(r)))];
        const pr = inv.perRecord;
        const tdef = pr ? def.tables.find((t) => t.name === pr.table) : undefined;
        return {
          inv,
          star: inv.reads.includes("*"),
          globals: inv.reads.some((r) => r !== "*" && !tableNames.has(r)),
          tables,
          ...(pr?.joins && tdef ? { joins: tables.map((t) => (Object.hasOwn(pr.joins!, t) ? pr.joins![t]! : null)), ...(tdef.externalKey ? {} : { keyField: tdef.key }) } : {}),
        };
      }),
    };
    definitionPlans.set(def, plan);
  }
  return plan;
}

/** Tool results are JSON values: undefined becomes null. */
function normalize(v: unknown): unknown {
  return v === undefined ? null : v;
}

function buildStore(def: EnvDefinition, initial: unknown): Store {
  const problems: StateProblem[] = [];
  if (initial === null || typeof initial !== "object" || Array.isArray(initial)) {
    throw new StateError([{ path: "$", message: `the state must be a JSON object with ${[...def.tables.map((t) => t.name), ...def.globals.map((g) => g.name)].map((n) => `"${n}"`).join(", ")}` }]);
  }
  const root = initial as Record<string, unknown>;
  const known = new Set([...def.tables.map((t) => t.name), ...def.globals.map((g) => g.name)]);
  for (const k of Object.keys(root))
    if (!known.has(k)) problems.push({ path: jsonPath([k]), message: `unknown state field (expected one of ${[...known].join(", ")})` });
  const globals: Record<string, unknown> = {};
  for (const g of def.globals) {
    const present = Object.prototype.hasOwnProperty.call(root, g.name) && root[g.name] !== undefined;
    if (!present) {
      if (g.hasDefault) globals[g.name] = g.default;
      else {
        const r = g.schema.safeParse(undefined);
        if (r.success) globals[g.name] = r.data ?? null;
        else problems.push({ path: jsonPath([g.name]), message: "missing (this state field has no default)" });
      }
      continue;
    }
    const r = g.schema.safeParse(root[g.name]);
    if (r.success) globals[g.name] = r.data;
    else problems.push(...zodProblems(r.error as never, [g.name]));
  }
  const store = new Store(globals);
  for (const tdef of def.tables) {
    const raw = root[tdef.name];
    const entries: [string, object][] = [];
    if (raw === undefined) {
      // an absent table is an empty one
    } else if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      problems.push({ path: jsonPath([tdef.name]), message: `expected an object keyed by ${tdef.key}, like {"id1": {...}}` });
    } else {
      const obj = raw as Record<string, unknown>;
      for (const key of orderedKeys(obj)) {
        const r = tdef.record.safeParse(obj[key]);
        if (!r.success) {
          problems.push(...zodProblems(r.error as never, [tdef.name, key]));
          continue;
        }
        const rec = r.data as Record<string, unknown>;
        carryKeyOrder(obj[key], rec); // zod rebuilds objects: numeric-string keys would move first
        if (!tdef.externalKey && rec[tdef.key] !== key) {
          problems.push({
            path: jsonPath([tdef.name, key, tdef.key]),
            message: `is ${JSON.stringify(rec[tdef.key])} but the record is stored under "${key}"`,
          });
          continue;
        }
        entries.push([key, rec]);
      }
    }
    store.addTable(tdef.name, tdef.key, entries, tdef.externalKey);
  }
  if (problems.length) throw new StateError(problems);
  store.freezeAll();
  return store;
}
