// What the runtime needs to re-check an invariant incrementally after an action (runtime/env.ts,
// checkAfterAction): the state fields it reads, with the helpers it calls followed, and for a
// per-record invariant the joins by which its condition reaches other records. Emitted with
// the definition. Assumes a checked IR, where state is read only through `state` nodes and
// helpers only through `call` nodes naming a tool of the spec.
import type { IEnv, IExpr, IInvariant, Type } from "./ir.js";
import { stripOptional } from "./ir.js";

/**
 * The checker's `inv.reads` marks a call with "*" (anything may be read), which made every
 * invariant that calls a helper a full re-check after every action. Here each "*" is replaced
 * by what the called tools read, transitively; a call of a name the spec has no tool of keeps
 * the "*". The order is the checker's, then the fields found through calls in the order met.
 */
export function invariantReads(env: IEnv, inv: IInvariant): string[] {
  if (!inv.reads.includes("*")) return inv.reads;
  const byName = new Map(env.tools.map((t) => [t.name, t]));
  const out = new Set<string>(inv.reads.filter((r) => r !== "*"));
  let unknown = false;
  const seenTools = new Set<string>();
  const stack: unknown[] = [inv.expr, inv.perRecord];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    const node = n as Record<string, unknown>;
    if (node.e === "state" && typeof node.field === "string") out.add(node.field);
    if (node.e === "call" && typeof node.callee === "string" && !seenTools.has(node.callee)) {
      seenTools.add(node.callee);
      const tool = byName.get(node.callee);
      if (tool) stack.push(tool.body);
      else unknown = true;
    }
    for (const k in node) {
      if (k === "t" || k === "span" || k === "type") continue;
      const v = node[k];
      if (v !== null && typeof v === "object") stack.push(v);
    }
  }
  return unknown ? [...out, "*"] : [...out];
}

/**
 * How a per-record invariant (`all x in T [where c]: body`) reaches the records of the tables
 * its condition reads, when that is only by an equality with a field of `x`: the pairs
 * [f, g] of `U.filter/any/count/find(u => u.f == x.g and ...)`, `any/all u in U where u.f ==
 * x.g and ...: ...`, and [null, g] of `U[x.g]` and `x.g in U` (null: the record's key). A record
 * of U can then change the verdict on x only if its old or new value of f is x.g: the runtime
 * re-checks those records of T instead of all of them. A table read any other way (through a
 * helper, by a key that is not a field of x, as a whole) is left out, and a change to it makes
 * a full re-check. T itself is listed too when the condition reads it: [] when it does not
 * (only the changed records need a look), absent when it reads it some other way. Undefined for
 * an invariant that is not per record, or that binds the name of x again inside.
 */
export type JoinPair = [string | null, string];
export function perRecordJoins(env: IEnv, inv: IInvariant): Record<string, JoinPair[]> | undefined {
  const pr = inv.perRecord;
  if (!pr) return undefined;
  const byName = new Map(env.tools.map((t) => [t.name, t]));
  const pairs = new Map<string, JoinPair[]>();
  const unknown = new Set<string>();
  let rebinds = false;
  const add = (table: string, pair: JoinPair) => {
    const list = pairs.get(table) ?? [];
    if (!list.some((p) => p[0] === pair[0] && p[1] === pair[1])) list.push(pair);
    pairs.set(table, list);
  };
  const tableOf = (e: IExpr | undefined): string | undefined => (e?.e === "state" && e.table && !e.initial ? e.field : undefined);

  /**
   * Visit an expression (or statements) where `bound` names what stands for a field of x: the
   * record variable itself (x.g), and in a helper the parameters given `x.g` (then the local
   * stands for g). `record` is x's name where it is in scope (not inside helpers).
   */
  const visitIn = (n: unknown, record: string | undefined, bound: ReadonlyMap<string, string>, depth: number): void => {
    /** the field of x that `e` is, when it is one of a primitive type */
    const fieldOfX = (e: IExpr): string | undefined => {
      if (!primitive(e.t)) return undefined;
      if (record !== undefined && e.e === "member" && e.object.e === "local" && e.object.name === record) return e.name;
      return e.e === "local" ? bound.get(e.name) : undefined;
    };
    const binds = (name: string) => name === record || bound.has(name);
    /** the [f, g] of a conjunct `u.f == <x.g>` (either way round) of `cond`, or undefined */
    const joinIn = (cond: IExpr | undefined, u: string): [string, string] | undefined => {
      if (!cond || binds(u)) return undefined;
      if (cond.e === "binary" && cond.op === "and") return joinIn(cond.left, u) ?? joinIn(cond.right, u);
      if (cond.e !== "binary" || cond.op !== "==") return undefined;
      const side = (a: IExpr, b: IExpr): [string, string] | undefined => {
        const g = fieldOfX(b);
        return g !== undefined && a.e === "member" && a.object.e === "local" && a.object.name === u && primitive(a.t) ? [a.name, g] : undefined;
      };
      return side(cond.left, cond.right) ?? side(cond.right, cond.left);
    };
    const visit = (n: unknown): void => {
      if (!n || typeof n !== "object") return;
      if (Array.isArray(n)) {
        for (const c of n) visit(c);
        return;
      }
      const node = n as Record<string, unknown>;
      // statements of a helper: a binding of a bound name hides what it stood for
      if (typeof node.s === "string") {
        if ((node.s === "let" || node.s === "for") && (binds(node.name as string) || (node.second !== undefined && binds(node.second as string)))) rebinds = true;
      } else {
        const e = node as unknown as IExpr;
        switch (e.e) {
          case "state":
            if (e.table) unknown.add(e.field);
            return;
          case "index": {
            const t = e.mode === "table" ? tableOf(e.object) : undefined;
            const g = t !== undefined ? fieldOfX(e.index) : undefined;
            if (t !== undefined && g !== undefined) return add(t, [null, g]);
            break;
          }
          case "binary": {
            const t = e.op === "in" || e.op === "not in" ? tableOf(e.right) : undefined;
            const g = t !== undefined ? fieldOfX(e.left) : undefined;
            if (t !== undefined && g !== undefined) return add(t, [null, g]);
            break;
          }
          case "builtin": {
            const t = JOIN_METHODS.has(e.fn) ? tableOf(e.args[0]) : undefined;
            const fn = e.args[1];
            if (t !== undefined && fn?.e === "lambda" && fn.params.length === 1 && !fn.destructure) {
              const j = joinIn(fn.body, fn.params[0]!);
              if (j) {
                add(t, j);
                visit(fn.body);
                return;
              }
            }
            break;
          }
          case "quant": {
            if (binds(e.variable)) rebinds = true;
            const t = tableOf(e.collection);
            const j = t !== undefined ? joinIn(e.where, e.variable) : undefined;
            if (t !== undefined && j) {
              add(t, j);
              visit(e.where);
              visit(e.body);
              return;
            }
            break;
          }
          case "lambda":
            if (e.params.some(binds)) rebinds = true;
            break;
          case "call": {
            const tool = byName.get(e.callee);
            if (!tool || depth > 8) {
              rebinds = true;
              return;
            }
            // the arguments are read here; the helper's body with its parameters bound to
            // the fields of x they are given (a helper given x.member_id that counts loans by
            // member_id joins loans on it)
            visit(e.args);
            const inner = new Map<string, string>();
            tool.params.forEach((p, i) => {
              const a = e.args[i];
              const g = a ? fieldOfX(a) : undefined;
              if (g !== undefined) inner.set(p.name, g);
            });
            visitIn(tool.body, undefined, inner, depth + 1);
            return;
          }
        }
      }
      for (const k in node) {
        if (k === "t" || k === "span") continue;
        const v = node[k];
        if (v !== null && typeof v === "object") visit(v);
      }
    };
    visit(n);
  };
  const top = new Map<string, string>();
  visitIn(pr.where, pr.variable, top, 0);
  visitIn(pr.body, pr.variable, top, 0);
  if (rebinds) return undefined;
  const out: Record<string, JoinPair[]> = {};
  if (!unknown.has(pr.table)) out[pr.table] = [];
  for (const [t, list] of pairs) if (!unknown.has(t)) out[t] = t === pr.table ? [...list] : list;
  return out;
}

/** Table methods whose function, when false for a record, leaves the result as if it were absent. */
const JOIN_METHODS = new Set(["table.filter", "table.any", "table.count", "table.find"]);

const PRIMITIVE = new Set(["string", "ref", "enum", "int", "number", "bool", "date", "datetime"]);
function primitive(t: Type): boolean {
  return PRIMITIVE.has(stripOptional(t).k);
}
