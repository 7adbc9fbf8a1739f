// What a tool's preconditions ask of its arguments, and what actions can change to satisfy
// them, read statically off the IR for the fuzzer. Per tool: which parameters name a record of
// which table (`let c = claims[claim_id] else ...`, `require id in table`), which parameters
// must equal a field of a table's record (`let l = loans.find(x => x.copy_id == copy_id and ...)`),
// or a field of another parameter's record (`require h.member_id == member_id`), and the
// conditions the chosen record must meet (`require c.status == "submitted"`, `if c.closed
// { fail ... }`, also one hop away: `let b = books[c.isbn]; require not b.reference_only`).
// Per action: its effects on records (`c.status = "approved"`, `insert claims {...}`), so that a
// guard no record meets can be planned for by running an action first.
// Only the plain shapes are understood (comparisons with literals, parameters and scalar state
// fields, `and`, `not`, `in [...]`, `!= null`); everything else is left to random draws. Only
// top-level statements of a body are read, plus the bodies of helpers called with records.
import { conjuncts, type IEnv, type IExpr, type IStmt, type ITool } from "../ir.js";

export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in";

/** A value a guard compares with: a literal (or a list of them), a parameter, a state field. */
export type Operand = { lit: unknown } | { param: string } | { global: string };

/** A condition on a record, on one of its fields or on a field of the record it refers to. */
export interface Pred {
  /** `[field]`, or `[refField, field]` through the table `via` */
  path: string[];
  via?: string;
  op: CmpOp;
  value: Operand;
  /** the require (file:line:col) that states it, for coverage reports */
  at: string;
}

/** Where a parameter's values should come from. */
export type Role =
  | { kind: "key"; table: string; preds: Pred[] }
  | { kind: "field"; table: string; field: string; preds: Pred[] }
  | { kind: "same"; param: string; path: string[]; via?: string }
  /** a key (of a map) or an element (of a list) of a field of another parameter's record, or of a state field */
  | { kind: "in"; param: string; path: string[]; via?: string; elemField?: string }
  | { kind: "in"; global: string }
  /** a key or element of a field of some record of a table (`let variants = products[x].variants`) */
  | { kind: "in"; table: string; path: string[] };

export interface ParamGuide {
  role?: Role;
  /** literals the parameter is compared with (`amount <= 5000`, `kind in ["a", "b"]`) */
  literals: unknown[];
  /** parameters of the record's fields a numeric parameter is bounded by (`amount <= a.balance`) */
  bounds: { param: string; path: string[]; via?: string }[];
}

export interface ToolGuide {
  params: Map<string, ParamGuide>;
}

/** One way an action changes a table's records. */
export interface Effect {
  table: string;
  field: string;
  /** the value written: a literal, or a parameter of the action (the planner can choose it) */
  value: { lit: unknown } | { param: string } | { unknown: true };
  insert: boolean;
}

type Binding = { table: string; param: string; kind: "key" | "field"; field?: string } | { hop: string; field: string; table: string };

export function toolGuide(env: IEnv, tool: ITool): ToolGuide {
  const params = new Map<string, ParamGuide>(tool.params.map((p) => [p.name, { literals: [], bounds: [] }]));
  const fns = new Map(env.tools.filter((t) => t.kind === "fn").map((t) => [t.name, t]));
  const globals = new Set(env.state.filter((s) => !s.table).map((s) => s.name));
  const loc = (s: IStmt) => `${env.file}:${s.span.start.line}:${s.span.start.column}`;

  // locals holding a map or list field of some record of a table: `let variants = products[id].variants`
  const containers = new Map<string, { table: string; path: string[] }>();
  const walk = (body: IStmt[], locals: Map<string, Binding>, aliases: Map<string, string>, depth: number) => {
    const paramOf = (e: IExpr): string | undefined => {
      if (e.e !== "local") return undefined;
      const name = aliases.get(e.name) ?? e.name;
      return params.has(name) ? name : undefined;
    };
    /** a record's field: the local it hangs off (bound to a parameter's record) and the path */
    const fieldOf = (e: IExpr): { root: string; path: string[]; via?: string } | undefined => {
      if (e.e !== "member" || e.object.e !== "local") return undefined;
      const b = locals.get(e.object.name);
      if (!b) return undefined;
      if ("hop" in b) return { root: b.hop, path: [b.field, e.name], via: b.table };
      return { root: e.object.name, path: [e.name] };
    };
    const operand = (e: IExpr): Operand | undefined => {
      if (e.e === "lit") return { lit: e.value };
      if (e.e === "list" && e.items.every((i) => i.e === "lit")) return { lit: e.items.map((i) => (i as { value: unknown }).value) };
      const p = paramOf(e);
      if (p) return { param: p };
      if (e.e === "state" && !e.table && globals.has(e.field)) return { global: e.field };
      return undefined;
    };
    const addPred = (root: string, pred: Pred) => {
      const b = locals.get(root);
      if (!b || "hop" in b) return;
      const g = params.get(b.param)!;
      if (g.role && (g.role.kind === "key" || g.role.kind === "field") && g.role.table === b.table) g.role.preds.push(pred);
    };
    const flip: Record<string, CmpOp> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!=" };
    const negate: Record<string, CmpOp> = { "==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<", in: "not in", "not in": "in" };

    const condition = (c: IExpr, at: string, negated: boolean) => {
      if (c.e === "binary" && c.op === "and" && !negated) {
        condition(c.left, at, false);
        condition(c.right, at, false);
        return;
      }
      if (c.e === "binary" && c.op === "or" && negated) {
        condition(c.left, at, true);
        condition(c.right, at, true);
        return;
      }
      if (c.e === "binary" && c.op === "or") {
        // `reason == "a" or reason == "b"`: no role, but the literals are worth trying
        const leaves = (e: IExpr): void => {
          if (e.e === "binary" && (e.op === "or" || e.op === "and")) {
            leaves(e.left);
            leaves(e.right);
          } else if (e.e === "binary" && e.op === "==") {
            const p = paramOf(e.left) ?? paramOf(e.right);
            const lit = e.left.e === "lit" ? e.left : e.right.e === "lit" ? e.right : undefined;
            if (p && lit) params.get(p)!.literals.push(lit.value);
          }
        };
        return leaves(c);
      }
      if (c.e === "unary" && c.op === "not") return condition(c.operand, at, !negated);
      const f = fieldOf(c);
      if (f && c.t.k === "bool") return addPred(f.root, { path: f.path, ...(f.via ? { via: f.via } : {}), op: "==", value: { lit: !negated }, at });
      if (c.e === "builtin" && (c.fn === "table.any" || c.fn === "table.find") && !negated) return joinRole(c, at);
      if (c.e !== "binary") return;
      let op = c.op as CmpOp;
      if (!(op in negate)) return;
      if (negated) op = negate[op]!;
      // `id in table`, `code in coupons`, `method_id in user.payment_methods`
      if (op === "in" || op === "not in") {
        const p = paramOf(c.left);
        if (c.right.e === "state") {
          if (p && op === "in") setRole(p, c.right.table ? { kind: "key", table: c.right.field, preds: [] } : { kind: "in", global: c.right.field });
          return;
        }
        if (p && op === "in" && c.right.e === "local" && containers.has(c.right.name)) {
          const box = containers.get(c.right.name)!;
          return setRole(p, { kind: "in", table: box.table, path: box.path });
        }
        const f = fieldOf(c.right);
        const bound = f && locals.get(f.root);
        if (p && op === "in" && f && bound && !("hop" in bound) && bound.param !== p)
          return setRole(p, { kind: "in", param: bound.param, path: f.path, ...(f.via ? { via: f.via } : {}) });
      }
      for (const [a, b, o] of [[c.left, c.right, op], [c.right, c.left, flip[op] ?? op]] as [IExpr, IExpr, CmpOp][]) {
        if (o === "in" || o === "not in") if (a !== c.left) continue;
        const fa = fieldOf(a);
        const vb = operand(b);
        if (fa && vb) {
          addPred(fa.root, { path: fa.path, ...(fa.via ? { via: fa.via } : {}), op: o, value: vb, at });
          const pb = "param" in vb ? vb.param : undefined;
          const bound = locals.get(fa.root);
          if (pb && bound && !("hop" in bound) && pb !== bound.param) {
            if (o === "==" && !params.get(pb)!.role) setRole(pb, { kind: "same", param: bound.param, path: fa.path, ...(fa.via ? { via: fa.via } : {}) });
            else if (o !== "==" && o !== "!=") params.get(pb)!.bounds.push({ param: bound.param, path: fa.path, ...(fa.via ? { via: fa.via } : {}) });
          }
          return;
        }
        const pa = paramOf(a);
        if (pa && b.e === "lit") params.get(pa)!.literals.push(b.value);
        else if (pa && b.e === "list") for (const i of b.items) if (i.e === "lit") params.get(pa)!.literals.push(i.value);
      }
    };

    /** `order.items.find(it => it.item_id == item_id)`: the parameter is a field of an element of another's list. */
    const elementRole = (c: Extract<IExpr, { e: "builtin" }>) => {
      const [coll, lam] = c.args;
      if (!coll || !lam || lam.e !== "lambda" || lam.params.length !== 1) return;
      const f = fieldOf(coll);
      const bound = f && locals.get(f.root);
      if (!f || !bound || "hop" in bound) return;
      const x = lam.params[0]!;
      const conj = conjuncts(lam.body);
      for (const e of conj) {
        if (e.e !== "binary" || e.op !== "==" || e.left.e !== "member" || e.left.object.e !== "local" || e.left.object.name !== x) continue;
        const p = paramOf(e.right);
        if (p && p !== bound.param) setRole(p, { kind: "in", param: bound.param, path: f.path, ...(f.via ? { via: f.via } : {}), elemField: e.left.name });
      }
    };

    /** `tables.find(x => x.f == param and x.g == "lit")`: the parameter is a field of such a record. */
    const joinRole = (c: Extract<IExpr, { e: "builtin" }>, at: string, bindTo?: string) => {
      const [coll, lam] = c.args;
      if (!coll || coll.e !== "state" || !coll.table || !lam || lam.e !== "lambda" || lam.params.length !== 1) return;
      const x = lam.params[0]!;
      const conj = conjuncts(lam.body);
      let param: string | undefined;
      let field: string | undefined;
      const preds: Pred[] = [];
      for (const e of conj) {
        if (e.e === "unary" && e.op === "not" && e.operand.e === "member" && e.operand.object.e === "local" && e.operand.object.name === x) {
          preds.push({ path: [e.operand.name], op: "==", value: { lit: false }, at });
          continue;
        }
        if (e.e === "member" && e.object.e === "local" && e.object.name === x && e.t.k === "bool") {
          preds.push({ path: [e.name], op: "==", value: { lit: true }, at });
          continue;
        }
        if (e.e !== "binary" || !(e.op in negate)) continue;
        const l = e.left;
        if (l.e !== "member" || l.object.e !== "local" || l.object.name !== x) continue;
        const v = operand(e.right);
        if (!v) continue;
        if ("param" in v && e.op === "==" && !param) {
          param = v.param;
          field = l.name;
        } else preds.push({ path: [l.name], op: e.op as CmpOp, value: v, at });
      }
      if (param && field) {
        setRole(param, { kind: "field", table: coll.field, field, preds });
        const role = params.get(param)!.role;
        if (bindTo && role?.kind === "field" && role.table === coll.field) locals.set(bindTo, { table: coll.field, param, kind: "field", field });
      }
    };

    // a later, more telling role wins over a bare `id in table`: a key with conditions, or a
    // join (`loans.find(x => x.copy_id == copy_id ...)` asks for a copy that is on loan)
    const setRole = (p: string, role: Role) => {
      const g = params.get(p)!;
      if (!g.role || (g.role.kind === "key" && g.role.preds.length === 0 && (role.kind === "key" || role.kind === "field"))) g.role = role;
    };

    for (const s of body) {
      const at = loc(s);
      if (s.s === "let") {
        const v = s.value;
        if (v.e === "index" && v.mode === "table" && v.object.e === "state") {
          const p = paramOf(v.index);
          if (p) {
            setRole(p, { kind: "key", table: v.object.field, preds: [] });
            const g = params.get(p)!;
            if (g.role?.kind === "key" && g.role.table === v.object.field) locals.set(s.name, { table: v.object.field, param: p, kind: "key" });
            continue;
          }
          const f = fieldOf(v.index);
          if (f && f.path.length === 1) locals.set(s.name, { hop: f.root, field: f.path[0]!, table: v.object.field });
          continue;
        }
        if (v.e === "builtin" && v.fn === "table.find") {
          joinRole(v, at, s.name);
          continue;
        }
        if (v.e === "builtin" && v.fn === "list.find") {
          elementRole(v);
          continue;
        }
        if (v.e === "local" && locals.has(v.name)) locals.set(s.name, locals.get(v.name)!);
        // `let new_id = new_ids[i]`: an element of a list parameter
        if (v.e === "index" && v.mode === "list" && paramOf(v.object)) aliases.set(s.name, paramOf(v.object)!);
        if (v.e === "member" && v.object.e === "index" && v.object.mode === "table" && v.object.object.e === "state" && (v.t.k === "map" || v.t.k === "list"))
          containers.set(s.name, { table: v.object.object.field, path: [v.name] });
        continue;
      }
      if (s.s === "for" && s.iterable.e === "local" && paramOf(s.iterable) && s.iterable.t.k === "list") {
        // `for item_id in item_ids { ... }` (or `for i, item_id in ...`): what the body asks of
        // item_id, the list asks of each element
        const inner = new Map(aliases);
        inner.set(s.second ?? s.name, paramOf(s.iterable)!);
        walk(s.body, locals, inner, depth);
        continue;
      }
      if (s.s === "require") condition(s.cond, at, false);
      else if (s.s === "if" && !s.otherwise && s.then.length === 1 && s.then[0]!.s === "fail") condition(s.cond, loc(s.then[0]!), true);
      else if (s.s === "expr" && s.expr.e === "call" && depth < 2) {
        // a helper called with records and parameters: its requires are this tool's too
        const fn = fns.get(s.expr.callee);
        if (!fn) continue;
        const inner = new Map<string, Binding>();
        const innerAliases = new Map<string, string>();
        s.expr.args.forEach((a, i) => {
          const name = fn.params[i]?.name;
          if (!name || a.e !== "local") return;
          const b = locals.get(a.name);
          if (b) inner.set(name, b);
          // a record one hop away keeps the record it hangs off
          if (b && "hop" in b && locals.has(b.hop)) inner.set(b.hop, locals.get(b.hop)!);
          const p = aliases.get(a.name) ?? a.name;
          if (params.has(p)) innerAliases.set(name, p);
        });
        if (inner.size || innerAliases.size) walk(fn.body, inner, innerAliases, depth + 1);
      }
    }
  };
  walk(tool.body, new Map(), new Map(), 0);
  return { params };
}

/** What an action writes into records: field assignments and inserts (with their literal fields). */
export function actionEffects(env: IEnv, tool: ITool): Effect[] {
  const out: Effect[] = [];
  const params = new Set(tool.params.map((p) => p.name));
  const locals = new Map<string, string>(); // local -> table of the record it holds
  const valueOf = (e: IExpr): Effect["value"] =>
    e.e === "lit" ? { lit: e.value } : e.e === "local" && params.has(e.name) && !locals.has(e.name) ? { param: e.name } : { unknown: true };
  const visit = (stmts: IStmt[]) => {
    for (const s of stmts) {
      if (s.s === "let") {
        const v = s.value;
        if (v.e === "index" && v.mode === "table" && v.object.e === "state") locals.set(s.name, v.object.field);
        else if (v.e === "builtin" && (v.fn === "table.find" || v.fn === "table.get") && v.args[0]?.e === "state") locals.set(s.name, (v.args[0] as { field: string }).field);
        else if (v.e === "insert") locals.set(s.name, v.table);
        if (v.e === "insert") insertEffects(v);
      } else if (s.s === "assign" && s.op === "=" && s.target.e === "member" && s.target.object.e === "local") {
        const table = locals.get(s.target.object.name);
        if (table) out.push({ table, field: s.target.name, value: valueOf(s.value), insert: false });
      } else if (s.s === "expr" && s.expr.e === "insert") insertEffects(s.expr);
      else if (s.s === "if") {
        visit(s.then);
        if (s.otherwise) visit(s.otherwise);
      } else if (s.s === "for") visit(s.body);
    }
  };
  const insertEffects = (ins: Extract<IExpr, { e: "insert" }>) => {
    const entity = env.entities.find((e) => e.table === ins.table || env.state.find((s) => s.name === ins.table)?.table === e.name);
    const given = new Map(ins.value.e === "record" ? ins.value.fields.map((f) => [f.name, f.value]) : []);
    for (const f of entity?.type.fields ?? []) {
      const v = given.get(f.name);
      out.push({ table: ins.table, field: f.name, value: v ? valueOf(v) : f.hasDefault ? { lit: f.default } : { lit: null }, insert: true });
    }
    if (!entity) out.push({ table: ins.table, field: "", value: { unknown: true }, insert: true });
  };
  visit(tool.body);
  return out;
}

/** Does a literal meet `op value`? Unknown operands (parameters, state fields) count as yes. */
export function literalMeets(v: unknown, op: CmpOp, value: Operand): boolean {
  if (!("lit" in value)) return true;
  return compare(v, op, value.lit);
}

/** `a op b` as the language means it for scalars (null compares equal only to null). */
export function compare(a: unknown, op: CmpOp, b: unknown): boolean {
  switch (op) {
    case "==":
      return (a ?? null) === (b ?? null);
    case "!=":
      return (a ?? null) !== (b ?? null);
    case "in":
      return Array.isArray(b) && b.includes(a);
    case "not in":
      return Array.isArray(b) && !b.includes(a);
    default: {
      if (a === null || a === undefined || b === null || b === undefined) return false;
      if (typeof a !== typeof b) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
    }
  }
}
