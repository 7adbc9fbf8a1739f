// The state store: insertion-ordered tables of records plus a globals record, with
// transactions (a failed call leaves no trace) and O(1) forks that share unchanged records.
// Assumes committed records are never mutated in place: a write first takes a writable copy
// (`getW`), owned by the running transaction, and commit freezes it. So outside a transaction
// every record in a table is frozen, and inside one a record that is not frozen is one the
// transaction copied or created: being unfrozen is what marks a record as owned.

import { cloneJson, deepFreeze, recordCloner } from "./values.js";

const GONE: unique symbol = Symbol("gone");
type Slot<R> = R | typeof GONE;

/** A frozen layer shared between forks. */
interface Layer<R> {
  readonly parent: Layer<R> | null;
  readonly own: Map<string, Slot<R>>;
  readonly moved: Set<string>; // keys deleted then re-inserted here: they sort after the parent's keys
  readonly size: number;
  readonly depth: number;
  /** the records as of this layer, in order: worked out when first asked (the layer never changes) */
  collected?: Collected<R>;
}

/** A table's keys and records in order, as two arrays of the same length (never modified). */
interface Collected<R> {
  readonly keys: string[];
  readonly values: R[];
}

const NOTHING: Collected<never> = { keys: [], values: [] };

const MAX_DEPTH = 8;

export class Table<R extends object = Record<string, unknown>> {
  private parent: Layer<R> | null;
  private own = new Map<string, Slot<R>>();
  private moved = new Set<string>();
  private _size: number;
  private cache: R[] | null = null;
  private keyCache: string[] | null = null;
  /** the store's transaction number when this table was last journaled (see Store.isTouched) */
  touchedIn = 0;
  /** copies records of this table (fast for the few shapes its records have); shared with forks */
  private readonly clone: <T>(v: T) => T;

  constructor(
    readonly name: string,
    readonly keyField: string,
    private readonly store: Store,
    parent: Layer<R> | null = null,
    clone?: <T>(v: T) => T,
    /** for entities with an external key: each stored record's key (records do not hold it) */
    private readonly externalKeys: WeakMap<object, string> | null = null,
  ) {
    this.parent = parent;
    this.clone = clone ?? recordCloner();
    this._size = parent ? parent.size : 0;
  }

  get size(): number {
    return this._size;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  get(key: string): R | undefined {
    // a fresh fork's own layer is empty: go straight to the shared layers
    const o = this.own.size === 0 ? undefined : this.own.get(key);
    if (o !== undefined) return o === GONE ? undefined : o;
    for (let l = this.parent; l; l = l.parent) {
      const v = l.own.get(key);
      if (v !== undefined) return v === GONE ? undefined : v;
    }
    return undefined;
  }

  /** A writable copy of the record, owned by the running transaction. */
  getW(key: string): R | undefined {
    const cur = this.get(key);
    if (cur === undefined) return undefined;
    if (!Object.isFrozen(cur)) return cur; // copied or created by the running transaction
    const copy = this.clone(cur);
    this.externalKeys?.set(copy, key);
    this.store.journal(this, key, cur);
    this.own.set(key, copy);
    this.store.own(copy);
    this.cache = null; // the keys and their order stay as they were
    return copy;
  }

  /** The writable copy of a record read earlier from this table (found again by its key). */
  writable(rec: R | null | undefined): R | null {
    if (rec == null) return null;
    const key = this.keyOf(rec);
    return key === undefined ? null : (this.getW(key) ?? null);
  }

  /** The key a record of this table is stored under: its key field, or the external key. */
  keyOf(rec: R): string | undefined {
    return this.externalKeys ? this.externalKeys.get(rec) : ((rec as Record<string, unknown>)[this.keyField] as string);
  }

  /** Add a record (under `key` when the entity's key is external); false if the key is taken. */
  insert(rec: R, key: string | undefined = this.externalKeys ? undefined : this.keyOf(rec)): boolean {
    if (key === undefined) throw new Error(`${this.name}: records do not hold their key; insert them under one`);
    if (this.get(key) !== undefined) return false;
    this.externalKeys?.set(rec, key);
    // FIX(order snapshot): snapshot positions before journaling, so that the snapshot is the
    // state before this log entry (see Store.rollback).
    const ownGone = this.own.get(key) === GONE;
    // FIX(reinsert across layers): a key deleted in a parent layer (a GONE there) must move to
    // the end too, else its position depended on whether a fork happened between the delete
    // and the re-insert.
    const mentioned = ownGone || this.mentionedInParents(key);
    if (mentioned) this.store.saveOrder(this);
    this.store.journal(this, key, undefined);
    if (mentioned) {
      // re-inserting a key deleted in this layer (or a parent layer) moves it to the end, like a dict
      if (ownGone) this.own.delete(key);
      this.moved.add(key);
    }
    this.own.set(key, rec);
    // FIX(frozen insert): a committed (frozen) record can be inserted again (`insert t r` with r
    // read from a table); it is not writable, so a later getW must copy it instead of returning it
    if (!Object.isFrozen(rec)) this.store.own(rec);
    this._size++;
    this.invalidate();
    return true;
  }

  delete(key: string): boolean {
    const cur = this.get(key);
    if (cur === undefined) return false;
    const inP = this.inParents(key);
    // dropping an own key loses its position; keep the order so a rollback can restore it
    // FIX(order snapshot): taken before journaling (see Store.rollback)
    if (!inP) this.store.saveOrder(this);
    this.store.journal(this, key, cur);
    if (inP) this.own.set(key, GONE);
    else this.own.delete(key);
    this._size--;
    this.invalidate();
    return true;
  }

  /** Whether any parent layer has an entry (a record or a GONE) for the key. */
  private mentionedInParents(key: string): boolean {
    for (let l = this.parent; l; l = l.parent) if (l.own.has(key)) return true;
    return false;
  }

  private inParents(key: string): boolean {
    for (let l = this.parent; l; l = l.parent) {
      const v = l.own.get(key);
      if (v !== undefined) return v !== GONE;
    }
    return false;
  }

  private invalidate() {
    this.cache = null;
    this.keyCache = null;
  }

  /** Records in insertion order (a cached array: do not modify). */
  values(): R[] {
    if (this.cache) return this.cache;
    const { keys, values } = withLayer(this.parent ? collectedOf(this.parent) : NOTHING, this.own, this.moved);
    this.cache = values;
    this.keyCache = keys;
    return values;
  }

  keys(): string[] {
    if (!this.keyCache) this.values();
    return this.keyCache!;
  }

  /** Start a fresh layer, so that changedSinceCheckpoint() sees only later writes. O(1). */
  checkpoint(): void {
    this.freezeLayer();
  }

  /** Whether a record or the order changed since checkpoint() (writes undone by a rollback do not count). */
  changedSinceCheckpoint(): boolean {
    if (this.moved.size > 0) return true;
    for (const [key, slot] of this.own) {
      const before = this.parentGet(key);
      if ((slot === GONE ? undefined : slot) !== before) return true;
    }
    return false;
  }

  /** Freeze the current layer so that two tables can share it. */
  freezeLayer(): Layer<R> | null {
    if (this.own.size === 0 && this.moved.size === 0) return this.parent;
    const layer: Layer<R> = {
      parent: this.parent,
      own: this.own,
      moved: this.moved,
      size: this._size,
      depth: (this.parent?.depth ?? 0) + 1,
      // the table's cached arrays, when it has them, are the layer's records already
      collected: this.cache && this.keyCache ? { keys: this.keyCache, values: this.cache } : undefined,
    };
    this.parent = layer.depth > MAX_DEPTH ? flatten(this.values(), this.keys()) : layer;
    this.own = new Map();
    this.moved = new Set();
    return this.parent;
  }

  forkInto(store: Store): Table<R> {
    const layer = this.freezeLayer();
    const t = new Table<R>(this.name, this.keyField, store, layer, this.clone, this.externalKeys);
    // same records in the same order: the cached arrays (never modified) serve the fork too
    t.cache = this.cache;
    t.keyCache = this.keyCache;
    return t;
  }

  // --- used by Store for rollback ---
  restore(key: string, prev: R | undefined) {
    const present = this.get(key) !== undefined;
    const sameKeys = present === (prev !== undefined) && !this.moved.has(key);
    if (present && prev === undefined) this._size--;
    else if (!present && prev !== undefined) this._size++;
    // FIX(moved restore): a moved key needs its own entry (its position is here, not in the
    // parent) even when the record is the parent's very object (a record re-inserted as is)
    if (prev === undefined) {
      if (this.inParents(key)) this.own.set(key, GONE);
      else this.own.delete(key);
    } else if (this.parentGet(key) === prev && !this.moved.has(key)) this.own.delete(key);
    else this.own.set(key, prev);
    if (sameKeys) this.cache = null;
    else this.invalidate();
  }
  private parentGet(key: string): R | undefined {
    for (let l = this.parent; l; l = l.parent) {
      const v = l.own.get(key);
      if (v !== undefined) return v === GONE ? undefined : v;
    }
    return undefined;
  }
  snapshotOrder(): { own: [string, Slot<R>][]; moved: string[] } {
    return { own: [...this.own], moved: [...this.moved] };
  }
  restoreOrder(saved: { own: [string, Slot<R>][]; moved: string[] }) {
    this.own = new Map(saved.own);
    this.moved = new Set(saved.moved);
    this.invalidate();
  }
  /** Recount after an order restore (sizes are cheap to derive from the saved layer). */
  recount() {
    let n = this.parent ? this.parent.size : 0;
    for (const [k, v] of this.own) {
      const inP = this.inParents(k);
      if (v === GONE) { if (inP) n--; }
      else if (!inP) n++;
    }
    this._size = n;
  }
  /** Keys changed in this table relative to another table sharing an ancestor (or all keys). */
  changedKeysSince(ancestor: Layer<R> | null): Set<string> {
    const keys = new Set<string>(this.own.keys());
    for (let l = this.parent; l && l !== ancestor; l = l.parent) for (const k of l.own.keys()) keys.add(k);
    return keys;
  }
  layerChain(): Set<Layer<R>> {
    const s = new Set<Layer<R>>();
    for (let l = this.parent; l; l = l.parent) s.add(l);
    return s;
  }
  topLayer(): Layer<R> | null {
    return this.parent;
  }
}

/** A layer's records in order, built on its parent's (each layer's worked out once). */
function collectedOf<R>(layer: Layer<R>): Collected<R> {
  return (layer.collected ??= withLayer(layer.parent ? collectedOf(layer.parent) : NOTHING, layer.own, layer.moved));
}

/**
 * The records in order after one layer on top of `below`: a record replaced here keeps its
 * position, a key deleted here (GONE) drops out, and new keys and keys moved here (deleted
 * and re-inserted) come after the others, in the order this layer got them, as a Python dict
 * orders them. Works from the arrays below instead of merging every layer's maps: a fork that
 * changed one record of a thousand copies an array and finds one position.
 */
function withLayer<R>(below: Collected<R>, own: Map<string, Slot<R>>, moved: Set<string>): Collected<R> {
  if (own.size === 0 && moved.size === 0) return below;
  const keys = below.keys;
  // positions of keys below: a scan for the usual one or two changes, else an index
  let index: Map<string, number> | undefined;
  const positionOf = (key: string): number => {
    if (own.size + moved.size <= 8) return keys.indexOf(key);
    if (!index) {
      index = new Map();
      for (let i = 0; i < keys.length; i++) index.set(keys[i]!, i);
    }
    return index.get(key) ?? -1;
  };
  const values = below.values.slice();
  let dropped: Set<number> | undefined;
  const laterKeys: string[] = [];
  const laterValues: R[] = [];
  for (const key of moved) {
    const at = positionOf(key);
    if (at >= 0) (dropped ??= new Set()).add(at);
  }
  for (const [key, slot] of own) {
    const at = moved.has(key) ? -1 : positionOf(key);
    if (at >= 0) {
      if (slot === GONE) (dropped ??= new Set()).add(at);
      else values[at] = slot;
    } else if (slot !== GONE) {
      laterKeys.push(key);
      laterValues.push(slot);
    }
  }
  if (!dropped && laterKeys.length === 0) return { keys, values };
  const outKeys: string[] = [];
  const outValues: R[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (dropped?.has(i)) continue;
    outKeys.push(keys[i]!);
    outValues.push(values[i]!);
  }
  for (let i = 0; i < laterKeys.length; i++) {
    outKeys.push(laterKeys[i]!);
    outValues.push(laterValues[i]!);
  }
  return { keys: outKeys, values: outValues };
}

function flatten<R>(values: R[], keys: string[]): Layer<R> {
  const own = new Map<string, Slot<R>>();
  for (let i = 0; i < keys.length; i++) own.set(keys[i]!, values[i]!);
  return { parent: null, own, moved: new Set(), size: own.size, depth: 1, collected: { keys, values } };
}

/** Tables, globals and the running transaction's journal. */
export class Store {
  tables: Record<string, Table<object>> = {};
  /** the same tables as a list, for loops that run on every call */
  tableList: Table<object>[] = [];
  private _globals: Record<string, unknown>;
  private globalsOwned = false;
  // The journal, as parallel arrays reused by every transaction (no allocation per entry):
  // entry i changed record logKeys[i] of logTables[i] (null: the globals record), which held
  // logPrevs[i] before. Entries past logSize are stale.
  private logTables: (Table<object> | null)[] = [];
  private logKeys: string[] = [];
  private logPrevs: (object | undefined)[] = [];
  private logSize = 0;
  /** records copied or created by the running transaction (or outside one): frozen at commit */
  private owned: object[] = [];
  private ownedSize = 0;
  /** per table: its positions before its first order change, and the log length then */
  private savedOrders = new Map<Table<object>, { order: ReturnType<Table<object>["snapshotOrder"]>; at: number }>();
  inTxn = false;
  /** numbers transactions, so that a table knows whether the running one touched it */
  private txn = 0;
  /** tables touched by the running transaction, in the order of their first change */
  private touchedTables: Table<object>[] = [];
  private touchedSize = 0;
  /** counter behind new_id; restored on rollback, copied by fork */
  idCounter = 1;
  private idCounterAtBegin = 1;
  globalsTouched = false;

  constructor(globals: Record<string, unknown>) {
    this._globals = globals;
  }

  /** A table from [key, record] entries; `externalKey`: the records do not hold their key. */
  addTable(name: string, keyField: string, entries: Iterable<[string, object]>, externalKey = false): Table<object> {
    const t = new Table<object>(name, keyField, this, null, undefined, externalKey ? new WeakMap() : null);
    for (const [key, rec] of entries) t.insert(rec, key);
    this.tables[name] = t;
    this.tableList.push(t);
    return t;
  }

  get globals(): Readonly<Record<string, unknown>> {
    return this._globals;
  }

  /** Writable globals for the running transaction. */
  globalsW(): Record<string, unknown> {
    if (!this.globalsOwned) {
      const prev = this._globals;
      this._globals = cloneJson(prev);
      this.push(null, "", prev);
      this.globalsOwned = true;
      this.globalsTouched = true;
    }
    return this._globals;
  }

  private push(table: Table<object> | null, key: string, prev: object | undefined) {
    const i = this.logSize++;
    this.logTables[i] = table;
    this.logKeys[i] = key;
    this.logPrevs[i] = prev;
  }

  journal(table: Table<object>, key: string, prev: object | undefined) {
    if (!this.inTxn) return;
    this.push(table, key, prev);
    if (table.touchedIn !== this.txn) {
      table.touchedIn = this.txn;
      this.touchedTables[this.touchedSize++] = table;
    }
  }

  /** A record the running transaction copied or created: it is frozen at commit. */
  own(rec: object) {
    this.owned[this.ownedSize++] = rec;
  }

  // --- what the running transaction changed (read by Environment's after-action checks) ---

  /** Number of tables the running transaction changed. */
  get touchedCount(): number {
    return this.touchedSize;
  }
  /** The i-th table changed by the running transaction (in the order of first change). */
  touchedTable(i: number): Table<object> {
    return this.touchedTables[i]!;
  }
  /** Whether the running transaction changed the named table. */
  isTouched(name: string): boolean {
    const t = this.tables[name];
    return this.inTxn && t instanceof Table && t.touchedIn === this.txn;
  }
  /** Number of journal entries; entry i is keyed by changedKey(i) in changedTable(i). */
  get changeCount(): number {
    return this.logSize;
  }
  /** The table of journal entry i (null for the globals record). */
  changedTable(i: number): Table<object> | null {
    return this.logTables[i]!;
  }
  changedKey(i: number): string {
    return this.logKeys[i]!;
  }
  /** The record journal entry i replaced (undefined: there was none, the entry is an insert). */
  changedPrev(i: number): object | undefined {
    return this.logPrevs[i];
  }

  saveOrder(table: Table<object>) {
    if (this.inTxn && !this.savedOrders.has(table)) this.savedOrders.set(table, { order: table.snapshotOrder(), at: this.logSize });
  }

  begin() {
    // records written outside a transaction count as committed by now
    if (this.ownedSize) this.freezeOwned();
    this.inTxn = true;
    this.txn++;
    this.idCounterAtBegin = this.idCounter;
    this.logSize = 0;
    this.touchedSize = 0;
    this.globalsTouched = false;
    this.globalsOwned = false;
  }

  private freezeOwned() {
    const owned = this.owned;
    for (let i = 0, n = this.ownedSize; i < n; i++) {
      deepFreeze(owned[i]);
      owned[i] = undefined as never;
    }
    this.ownedSize = 0;
  }

  commit() {
    this.freezeOwned();
    if (this.globalsOwned) deepFreeze(this._globals);
    this.finish();
  }

  rollback() {
    // positions first (as they were before the first move), then values, newest change first
    const saved = this.savedOrders;
    if (saved.size) for (const [table, s] of saved) table.restoreOrder(s.order);
    for (let i = this.logSize - 1; i >= 0; i--) {
      const table = this.logTables[i]!;
      const prev = this.logPrevs[i];
      if (table === null) this._globals = prev as Record<string, unknown>;
      else {
        // FIX(order snapshot): changes made after a table's order snapshot are already undone by
        // restoring it; undoing them again re-added keys at the end (delete k, insert k, rollback
        // left k last).
        if (saved.size) {
          const s = saved.get(table);
          if (s && i >= s.at) continue;
        }
        table.restore(this.logKeys[i]!, prev);
      }
    }
    // sizes follow each restore; only a table whose order was restored wholesale is recounted
    if (saved.size) for (const table of saved.keys()) table.recount();
    // the copies and new records are out of the tables again: nothing to freeze
    const owned = this.owned;
    for (let i = 0, n = this.ownedSize; i < n; i++) owned[i] = undefined as never;
    this.ownedSize = 0;
    this.idCounter = this.idCounterAtBegin;
    this.finish();
  }

  private finish() {
    // drop the references the journal holds, so that old records can be collected
    const prevs = this.logPrevs;
    for (let i = 0, n = this.logSize; i < n; i++) prevs[i] = undefined;
    this.logSize = 0;
    if (this.savedOrders.size) this.savedOrders.clear();
    this.inTxn = false;
    this.globalsOwned = false;
  }

  /** Initial load: freeze every record so that any stray mutation throws. */
  freezeAll() {
    for (const t of Object.values(this.tables)) for (const r of t.values()) deepFreeze(r);
    this.freezeOwned();
    deepFreeze(this._globals);
  }

  fork(): Store {
    // records written outside a transaction are shared from now on: freeze them
    if (this.ownedSize && !this.inTxn) this.freezeOwned();
    const s = new Store(this._globals);
    s.idCounter = this.idCounter;
    for (const [name, t] of Object.entries(this.tables)) {
      const forked = t.forkInto(s);
      s.tables[name] = forked;
      s.tableList.push(forked);
    }
    return s;
  }
}
