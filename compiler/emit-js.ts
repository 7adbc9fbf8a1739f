// Lowers IR tool bodies, invariants and expressions to JavaScript source text that runs on
// the runtime (`rt`) with the live state `$s`. Sees only the IR. Output is deterministic.
// Tool and helper bodies count their evaluation steps against the call's budget (Ctx.steps):
// a step per loop iteration and per call, and the length of each collection an operation
// walks or builds, charged before the work. Invariants and scenario checks do not count.
// Over 600 lines: one class lowers every kind of IR node, and splitting its switch would
// scatter what each node becomes.
import type { IExpr, IStmt, ITool, IEnv, IInvariant, ICheck, Type } from "./ir.js";
import { stripOptional, isOptional } from "./ir.js";
import type { Span } from "../grammar/ast.js";
import { CONSTANT_TIME_METHODS, CONSTANT_TIME_WITHOUT_FN, isListMutator, parseBuiltinId } from "./builtins.js";

const JS_RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "arguments",
  "eval", "undefined", "NaN", "Infinity", "rt", "z", "$s", "$a", "$i", "Math", "Object", "JSON", "String", "Number",
]);

/**
 * A spec's local or parameter as a JavaScript variable: reserved words, the globals and module
 * names generated code uses, and `tool_*` (the tool functions) get a `$` appended. A spec's
 * identifiers never hold `$`, so the result cannot meet another local (`new_` could).
 */
export function jsName(name: string): string {
  return JS_RESERVED.has(name) || name.startsWith("tool_") ? `${name}$` : name;
}

export function toolFn(name: string): string {
  return `tool_${name}`;
}

const PRIMITIVE_KINDS = new Set(["string", "int", "number", "bool", "date", "datetime", "enum", "ref"]);
function isPrimitive(t: Type): boolean {
  return PRIMITIVE_KINDS.has(stripOptional(t).k);
}


/** String builtins worth computing once per call when applied to a parameter inside a loop. */
const HOISTABLE = new Map([["lower", "toLowerCase"], ["upper", "toUpperCase"], ["trim", "trim"]]);

export class JsEmitter {
  /** `: any` on lambda parameters when the output is TypeScript; nothing for plain JavaScript */
  private anyT: string;
  /** while emitting a tool body: the tool, how deep in loops and lambdas, and what was hoisted */
  private tool: ITool | undefined;
  private loopDepth = 0;
  private hoisted = new Map<string, string>();
  /** emitting a tool or helper body: charge steps (invariants and checks are not budgeted) */
  private budget = false;
  /** tools by name and entities' tables by entity name, first of a name wins (a search per use was quadratic on large specs) */
  private toolsByName = new Map<string, ITool>();
  private tableByEntity = new Map<string, string | undefined>();
  /**
   * `file`: where the lowered code was written, when not in the spec (scenario files, datasets).
   * `probe`: lowers an ordering comparison (`<`, `<=`, `>`, `>=`) instead of the plain JavaScript
   * one, given its operands' code; it must compute the same value (compiler/fuzz/probes.ts
   * watches the operands of every comparison a call evaluates this way).
   */
  constructor(
    private env: IEnv, typed = true, private file = env.file,
    private probe?: (e: Extract<IExpr, { e: "binary" }>, left: string, right: string) => string,
  ) {
    this.anyT = typed ? ": any" : "";
    for (const t of env.tools) if (!this.toolsByName.has(t.name)) this.toolsByName.set(t.name, t);
    for (const e of env.entities) if (!this.tableByEntity.has(e.name)) this.tableByEntity.set(e.name, e.table);
  }

  loc(span: Span): string {
    return JSON.stringify(`${this.file}:${span.start.line}:${span.start.column}`);
  }

  /** `xs`, charged one step per element first (in a budgeted body). */
  private charged(xs: string, span: Span): string {
    return this.budget ? `$s.n(${xs}, ${this.loc(span)})` : xs;
  }

  private tableOf(field: string): string {
    return `$s.t.${field}`;
  }

  private entityTable(t: Type): string | undefined {
    const s = stripOptional(t);
    const rec = s.k === "list" ? stripOptional(s.elem) : s;
    if (rec.k !== "record" || !rec.entity) return undefined;
    return this.tableByEntity.get(rec.entity);
  }

  /** The array behind a collection: a table's records, a list, or a map's values. */
  private coll(e: IExpr, write = false): string {
    const t = stripOptional(e.t);
    if (t.k === "table") return `${this.x(e)}.values()`;
    if (t.k === "map") return `rt.mapValues(${write ? this.w(e) : this.x(e)})`;
    return write ? this.w(e) : this.x(e);
  }

  lambda(e: IExpr): string {
    if (e.e !== "lambda") return this.x(e);
    const params = e.destructure
      ? `({ first: ${jsName(e.params[0]!)}, second: ${jsName(e.params[1]!)} }${this.anyT})`
      : `(${e.params.map((p) => `${jsName(p)}${this.anyT}`).join(", ")})`;
    return `${params} => ${paren(this.inLoop(() => this.x(e.body)))}`;
  }

  /** Emit code that runs once per element (a loop or lambda body). */
  private inLoop(emit: () => string): string {
    this.loopDepth++;
    try {
      return emit();
    } finally {
      this.loopDepth--;
    }
  }

  /**
   * `param.lower()` (or upper, trim, and chains of them like `param.trim().lower()`) inside a
   * loop or lambda: the same for every element, since parameters are read-only and never
   * shadowed, so it is computed once at the top of the body (tau-bench's lookups lower-case
   * their argument once per record otherwise). Only for parameters that are never null, where
   * the calls cannot fail: computing them when the loop runs zero times changes nothing.
   * Returns the name of the hoisted constant (`name$trim$lower`: `$` is not in spec names).
   */
  private hoistedCall(e: IExpr): string | undefined {
    if (!this.tool || this.loopDepth === 0) return undefined;
    if (e.e === "local") {
      const param = this.tool.params.find((p) => p.name === e.name);
      return param && param.type.k === "string" && (param.required || param.hasDefault) ? jsName(param.name) : undefined;
    }
    if (e.e !== "builtin" || e.args.length !== 1) return undefined;
    const builtin = parseBuiltinId(e.fn)[1];
    const method = HOISTABLE.get(builtin);
    const inner = method ? this.hoistedCall(e.args[0]!) : undefined;
    if (!inner) return undefined;
    const name = `${inner}$${builtin}`;
    if (!this.hoisted.has(name)) this.hoisted.set(name, `${inner}.${method}()`);
    return name;
  }

  /** Read an expression. */
  x(e: IExpr): string {
    switch (e.e) {
      case "lit":
        if (typeof e.value === "number") return e.value < 0 || Object.is(e.value, -0) ? `(${e.value})` : String(e.value);
        return jsValue(e.value);
      case "str":
        return "`" + e.parts.map((p) => (typeof p === "string" ? escapeTemplate(p) : "${" + this.text(p) + "}")).join("") + "`";
      case "local":
        return jsName(e.name);
      case "state":
        if (e.initial) return e.table ? `$i.t.${e.field}` : `$i.g.${e.field}`;
        return e.table ? this.tableOf(e.field) : `$s.g.${e.field}`;
      case "list":
        return `[${e.items.map((i) => this.x(i)).join(", ")}]`;
      case "record":
        return this.record(e);
      case "member":
        return `${this.x(e.object)}${propAccess(e.name)}`;
      case "index":
        return this.index(e, false);
      case "builtin":
        return this.builtin(e, false);
      case "call":
        return this.call(e);
      case "unary":
        return e.op === "-" ? `(-${this.x(e.operand)})` : `(!${this.x(e.operand)})`;
      case "binary":
        return this.binary(e);
      case "ternary":
        return `(${this.x(e.cond)} ? ${this.x(e.then)} : ${this.x(e.otherwise)})`;
      case "lambda":
        return this.lambda(e);
      case "quant": {
        const v = jsName(e.variable);
        const coll = this.charged(this.coll(e.collection), e.span);
        const where = e.where ? this.inLoop(() => this.x(e.where!)) : "";
        const body = this.inLoop(() => this.x(e.body));
        if (e.quantifier === "all") return `${coll}.every((${v}${this.anyT}) => ${e.where ? `!(${where}) || ` : ""}(${body}))`;
        return `${coll}.some((${v}${this.anyT}) => ${e.where ? `(${where}) && ` : ""}(${body}))`;
      }
      case "insert":
        return `rt.insertRec(${this.tableOf(e.table)}, ${this.x(e.value)}, ${this.loc(e.span)})`;
    }
  }

  /** Text of a value inside an interpolated string (Python-like for floats). */
  private text(e: IExpr): string {
    const t = stripOptional(e.t);
    if ((t.k === "string" || t.k === "enum" || t.k === "date" || t.k === "datetime" || t.k === "ref") && !isOptional(e.t)) return this.x(e);
    return `rt.str(${this.x(e)}, ${t.k === "number"})`;
  }

  private record(e: Extract<IExpr, { e: "record" }>): string {
    const t = stripOptional(e.t);
    const parts = e.fields.map((f) => `${propKey(f.name)}: ${this.x(f.value)}`);
    if (t.k === "record") {
      const given = new Set(e.fields.map((f) => f.name));
      for (const f of t.fields) if (!given.has(f.name) && f.hasDefault) parts.push(`${propKey(f.name)}: ${jsValue(f.default)}`);
    }
    // a map literal is an open record of values: TypeScript would type `{}` as having no keys
    if (t.k === "map" && this.anyT) return `({ ${parts.join(", ")} } as { [key: string]: any })`;
    return `{ ${parts.join(", ")} }`;
  }

  private index(e: Extract<IExpr, { e: "index" }>, write: boolean): string {
    const obj = write ? this.w(e.object) : this.x(e.object);
    const key = this.x(e.index);
    switch (e.mode) {
      case "table":
        if (write) return e.get ? `rt.orNull(${obj}.getW(${key}))` : `rt.mustW(${obj}, ${key}, ${this.loc(e.span)})`;
        return e.get ? `rt.orNull(${obj}.get(${key}))` : `rt.must(${obj}, ${key}, ${this.loc(e.span)})`;
      case "map":
        return e.get ? `rt.mapGetOpt(${obj}, ${key})` : `rt.mapGet(${obj}, ${key}, ${this.loc(e.span)})`;
      case "list":
      case "string":
        return `rt.at(${obj}, ${key}, ${this.loc(e.span)})`;
      case "json":
        return `rt.jsonGet(${obj}, ${key})`;
    }
  }

  private call(e: Extract<IExpr, { e: "call" }>): string {
    const run = this.run(e);
    // a precondition that stops the callee stops the caller too
    return this.toolsByName.get(e.callee)!.fails ? `$s.sure(${run})` : run;
  }

  private run(e: Extract<IExpr, { e: "call" }>): string {
    const tool = this.toolsByName.get(e.callee)!;
    const args = tool.params.map((p, i) => `${propKey(p.name)}: ${this.x(e.args[i]!)}`);
    // in a budgeted body through Ctx.call: a step, and the nesting depth (runaway recursion)
    if (this.budget) return `$s.call(${toolFn(e.callee)}, { ${args.join(", ")} }, ${this.loc(e.span)})`;
    return `${toolFn(e.callee)}($s, { ${args.join(", ")} })`;
  }

  /**
   * A call of a tool that can fail, when it is a whole statement's value (`check(x)`,
   * `let y = f(x)`, `return f(x)`): its result is passed on as it is, FAILED included, with no
   * throw (Ctx.sure) to carry the failure out. Else undefined.
   */
  private fallibleRun(e: IExpr): string | undefined {
    return e.e === "call" && this.toolsByName.get(e.callee)!.fails ? this.run(e) : undefined;
  }

  private binary(e: Extract<IExpr, { e: "binary" }>): string {
    const l = this.x(e.left);
    const r = this.x(e.right);
    switch (e.op) {
      case "==":
      case "!=": {
        const nullish = (x: IExpr) => x.e === "lit" && x.value === null;
        if (nullish(e.left) || nullish(e.right) || ((isPrimitive(e.left.t) || e.left.t.k === "null") && (isPrimitive(e.right.t) || e.right.t.k === "null"))) {
          const loose = isOptional(e.left.t) || isOptional(e.right.t) || nullish(e.left) || nullish(e.right);
          return `(${l} ${e.op}${loose ? "" : "="} ${r})`;
        }
        return e.op === "==" ? `rt.eq(${l}, ${r})` : `!rt.eq(${l}, ${r})`;
      }
      case "and":
        return `(${l} && ${r})`;
      case "or":
        return `(${l} || ${r})`;
      case "??":
        return `(${l} ?? ${r})`;
      case "/":
        return `rt.div(${l}, ${r}, ${this.loc(e.span)})`;
      case "%":
        return `rt.mod(${l}, ${r}, ${this.loc(e.span)})`;
      case "+":
        if (stripOptional(e.t).k === "list") return `[...${this.charged(l, e.span)}, ...${this.charged(r, e.span)}]`;
        return `(${l} + ${r})`;
      case "in":
      case "not in": {
        const rt = stripOptional(e.right.t);
        let test: string;
        if (rt.k === "table") test = `${r}.has(${l})`;
        else if (rt.k === "map") test = `rt.mapHas(${r}, ${l})`;
        else if (rt.k === "list") {
          // a literal list is a handful of constants: only a computed one is charged
          const list = e.right.e === "list" ? r : this.charged(r, e.span);
          test = isPrimitive(rt.elem) ? `${list}.includes(${l})` : `rt.contains(${list}, ${l})`;
        }
        else test = `${r}.includes(${l})`;
        return e.op === "in" ? test : `!${test}`;
      }
      case "<":
      case "<=":
      case ">":
      case ">=":
        return this.probe ? this.probe(e, l, r) : `(${l} ${e.op} ${r})`;
      default:
        return `(${l} ${e.op} ${r})`;
    }
  }

  private builtin(e: Extract<IExpr, { e: "builtin" }>, write: boolean): string {
    const [kind, name] = parseBuiltinId(e.fn);
    const a = e.args;
    const arg = (i: number) => (a[i] ? (a[i]!.e === "lambda" ? this.lambda(a[i]!) : this.x(a[i]!)) : "undefined");
    const loc = this.loc(e.span);
    if (kind === "g") {
      switch (name) {
        case "round": return `rt.pyRound(${arg(0)}${a.length > 1 ? `, ${arg(1)}` : ""})`;
        case "abs": return `Math.abs(${arg(0)})`;
        case "floor": return `Math.floor(${arg(0)})`;
        case "ceil": return `Math.ceil(${arg(0)})`;
        case "min": return `Math.min(${a.map((_, i) => arg(i)).join(", ")})`;
        case "max": return `Math.max(${a.map((_, i) => arg(i)).join(", ")})`;
        case "str": return this.text(a[0]!);
        case "arith": return `rt.arith(${arg(0)})`;
        case "int": return `rt.toInt(${arg(0)}, ${loc})`;
        case "number": return `rt.toNumber(${arg(0)}, ${loc})`;
        case "date_add": return `rt.dateAdd(${arg(0)}, ${arg(1)})`;
        case "datetime_add": return `rt.datetimeAdd(${arg(0)}, ${arg(1)})`;
        case "days_between": return `rt.daysBetween(${arg(0)}, ${arg(1)})`;
        case "date_of": return `rt.dateOf(${arg(0)})`;
        case "new_id": return `$s.newId(${arg(0)})`;
        case "range":
          if (this.budget) return `rt.range(${arg(0)}, ${a.length > 1 ? arg(1) : "null"}, $s, ${loc})`;
          return `rt.range(${arg(0)}${a.length > 1 ? `, ${arg(1)}` : ""})`;
        case "zip": return `rt.zip(${this.charged(arg(0), e.span)}, ${arg(1)})`;
      }
      throw new Error(`emitter: unknown builtin ${e.fn}`);
    }
    if (kind === "str") {
      const hoisted = HOISTABLE.has(name) ? this.hoistedCall(e) : undefined;
      if (hoisted) return hoisted;
      const s = arg(0);
      switch (name) {
        case "lower": return `${s}.toLowerCase()`;
        case "upper": return `${s}.toUpperCase()`;
        case "trim": return `${s}.trim()`;
        case "starts_with": return `${s}.startsWith(${arg(1)})`;
        case "ends_with": return `${s}.endsWith(${arg(1)})`;
        case "contains": return `${s}.includes(${arg(1)})`;
        case "split": return `rt.split(${s}, ${arg(1)}, ${loc})`;
        case "replace": return `rt.replaceAll(${s}, ${arg(1)}, ${arg(2)})`;
        case "slice": return `${s}.slice(${arg(1)}${a.length > 2 ? `, ${arg(2)}` : ""})`;
        case "len": return `${s}.length`;
        case "index_of": return `${s}.indexOf(${arg(1)})`;
        case "mentions": return `rt.mentions(${s}, ${arg(1)})`;
      }
      throw new Error(`emitter: unknown builtin ${e.fn}`);
    }
    const recv = a[0]!;
    const isTable = kind === "table";
    const table = isTable ? this.x(recv) : "";
    // keyed methods
    if (kind === "table" || kind === "map") {
      const m = write && kind === "map" ? this.w(recv) : this.x(recv);
      switch (name) {
        // a table's keys and values are cached arrays (O(1)); copies and maps' lists are charged
        case "keys": return isTable ? (write ? `[...${this.charged(`${m}.keys()`, e.span)}]` : `${m}.keys()`) : this.charged(`rt.orderedKeys(${m})`, e.span);
        case "values":
          if (isTable) return write ? `rt.writableAll(${m}, ${this.charged(`${m}.values()`, e.span)})` : `${m}.values()`;
          return this.charged(`rt.mapValues(${m})`, e.span);
        case "entries": return this.charged(isTable ? `rt.tableEntries(${m})` : `rt.entries(${m})`, e.span);
        case "get":
          if (isTable) return write ? `rt.orNull(${m}.getW(${arg(1)}))` : `rt.orNull(${m}.get(${arg(1)}))`;
          return `rt.mapGetOpt(${m}, ${arg(1)})`;
        case "len": return isTable ? `${m}.size` : `Object.keys(${m}).length`;
      }
    }
    const plain = write && !isTable ? this.coll(recv, true) : this.coll(recv);
    // methods that walk (or copy) the collection pay one step per element; the O(1) ones do not
    const xs = CONSTANT_TIME_METHODS.has(name) || (CONSTANT_TIME_WITHOUT_FN.has(name) && a.length < 2) ? plain : this.charged(plain, e.span);
    let out: string;
    switch (name) {
      case "filter": out = `${xs}.filter(${arg(1)})`; break;
      case "map": out = `${xs}.map(${arg(1)})`; break;
      // the result may be longer than the receiver: it is charged as well
      case "flat_map": out = this.charged(`${xs}.flatMap(${arg(1)})`, e.span); break;
      case "find": out = `rt.find(${xs}, ${arg(1)})`; break;
      case "any": out = a.length > 1 ? `${xs}.some(${arg(1)})` : `(${xs}.length > 0)`; break;
      case "all": out = `${xs}.every(${arg(1)})`; break;
      case "count": out = a.length > 1 ? `rt.count(${xs}, ${arg(1)})` : `${xs}.length`; break;
      case "len": out = isTable ? `${table}.size` : `${xs}.length`; break;
      case "first": out = `rt.first(${xs})`; break;
      case "last": out = `rt.last(${xs})`; break;
      case "contains": out = `rt.contains(${xs}, ${arg(1)})`; break;
      case "index_of": out = `rt.indexOf(${xs}, ${arg(1)})`; break;
      case "sum": out = `rt.sum(${xs}${a.length > 1 ? `, ${arg(1)}` : ""})`; break;
      case "min": out = `rt.minOf(${xs}${a.length > 1 ? `, ${arg(1)}` : ""})`; break;
      case "max": out = `rt.maxOf(${xs}${a.length > 1 ? `, ${arg(1)}` : ""})`; break;
      case "min_by": out = `rt.minBy(${xs}, ${arg(1)})`; break;
      case "max_by": out = `rt.maxBy(${xs}, ${arg(1)})`; break;
      case "sorted": out = `rt.sorted(${xs}${a.length > 1 ? `, ${arg(1)}` : ""})`; break;
      case "sorted_desc": out = `rt.sorted(${xs}, ${a.length > 1 ? arg(1) : "undefined"}, true)`; break;
      case "reversed": out = `[...${xs}].reverse()`; break;
      case "distinct": out = `rt.distinct(${xs})`; break;
      case "slice": out = `rt.slice(${xs}, ${arg(1)}${a.length > 2 ? `, ${arg(2)}` : ""})`; break;
      case "join": out = `${xs}.join(${a.length > 1 ? arg(1) : '""'})`; break;
      // list mutators: the receiver is a writable place
      case "append": return `${this.w(recv)}.push(${arg(1)})`;
      case "remove": return `rt.remove(${this.charged(this.w(recv), e.span)}, ${arg(1)}, ${loc})`;
      case "insert_at": return `rt.insertAt(${this.charged(this.w(recv), e.span)}, ${arg(1)}, ${arg(2)})`;
      case "pop": return `rt.pop(${this.w(recv)})`;
      case "clear": return `rt.clear(${this.w(recv)})`;
      default:
        throw new Error(`emitter: unknown builtin ${e.fn}`);
    }
    if (write && isTable) {
      const returnsRecords = ["find", "first", "last", "min_by", "max_by"].includes(name);
      const returnsList = ["filter", "sorted", "sorted_desc", "reversed", "distinct", "slice"].includes(name);
      if (returnsRecords) return `${table}.writable(${out})`;
      if (returnsList) return `rt.writableAll(${table}, ${out})`;
    }
    return out;
  }

  /** An expression whose result will be written through: records come as writable copies. */
  w(e: IExpr): string {
    switch (e.e) {
      case "local":
        return jsName(e.name);
      case "state":
        return e.table ? this.tableOf(e.field) : `$s.gw().${e.field}`;
      case "member":
        return `${this.w(e.object)}${propAccess(e.name)}`;
      case "index":
        return this.index(e, true);
      case "builtin":
        return this.builtin(e, true);
      case "call": {
        // a helper may return records read from a table: write through their table's copies
        const table = this.entityTable(e.t);
        if (!table) return this.x(e);
        return stripOptional(e.t).k === "list" ? `rt.writableAll(${this.tableOf(table)}, ${this.x(e)})` : `${this.tableOf(table)}.writable(${this.x(e)})`;
      }
      case "ternary":
        return `(${this.x(e.cond)} ? ${this.w(e.then)} : ${this.w(e.otherwise)})`;
      case "binary":
        if (e.op === "??") return `(${this.w(e.left)} ?? ${this.w(e.right)})`;
        return this.x(e);
      default:
        return this.x(e);
    }
  }

  // ---------- statements ----------

  stmts(list: IStmt[], indent: string): string {
    return list.map((s) => this.stmt(s, indent)).join("\n");
  }

  private stmt(s: IStmt, ind: string): string {
    const code = this.stmtCode(s, ind);
    // a write to the state costs several steps: it copies and journals records, and a loop of
    // writes must run out of budget about as fast (in time) as a loop of reads
    return this.budget && writesState(s) ? `${ind}$s.write(${this.loc(s.span)});\n${code}` : code;
  }

  private stmtCode(s: IStmt, ind: string): string {
    const next = ind + "  ";
    switch (s.s) {
      case "let": {
        const direct = s.orElse || (s.writable && this.entityTable(s.value.t)) ? undefined : this.fallibleRun(s.value);
        if (direct) return `${ind}let ${jsName(s.name)} = ${direct};\n${ind}if (${jsName(s.name)} === rt.FAILED) return rt.FAILED;`;
        const value = s.writable ? this.w(s.value) : this.x(s.value);
        const head = `${ind}let ${jsName(s.name)} = ${value};`;
        return s.orElse ? `${head}\n${ind}if (${jsName(s.name)} == null) return $s.fail(${this.x(s.orElse)}, ${this.loc(s.span)});` : head;
      }
      case "assign":
        return ind + this.assign(s) + ";";
      case "expr": {
        const direct = this.fallibleRun(s.expr);
        return direct ? `${ind}if (${direct} === rt.FAILED) return rt.FAILED;` : `${ind}${this.x(s.expr)};`;
      }
      case "if": {
        let out = `${ind}if (${this.x(s.cond)}) {\n${this.stmts(s.then, next)}\n${ind}}`;
        if (s.otherwise) out += ` else {\n${this.stmts(s.otherwise, next)}\n${ind}}`;
        return out;
      }
      case "for":
        return this.forStmt(s, ind);
      case "require":
        return `${ind}if (!${paren(this.x(s.cond))}) return $s.fail(${this.x(s.message)}, ${this.loc(s.span)});`;
      case "fail":
        return `${ind}return $s.fail(${this.x(s.message)}, ${this.loc(s.span)});`;
      case "ensure": {
        const msg = s.message ? this.x(s.message) : JSON.stringify("ensure failed");
        // an ensure the code after it relies on (a null test) is cheap and always checked, which
        // also lets TypeScript narrow as the checker did
        if (s.narrows) return `${ind}if (!${paren(this.x(s.cond))}) rt.fault(${msg}, ${this.loc(s.span)});`;
        return `${ind}if ($s.checks && !${paren(this.x(s.cond))}) rt.fault(${msg}, ${this.loc(s.span)});`;
      }
      case "return":
        return `${ind}return ${s.value ? (this.fallibleRun(s.value) ?? this.x(s.value)) : "null"};`;
      case "delete": {
        const t = s.target as Extract<IExpr, { e: "index" }>;
        if (t.mode === "table") return `${ind}rt.deleteRec(${this.x(t.object)}, ${this.x(t.index)}, ${this.loc(s.span)});`;
        return `${ind}rt.mapDelete(${this.w(t.object)}, ${this.x(t.index)}, ${this.loc(s.span)});`;
      }
      case "break":
        return `${ind}break;`;
      case "continue":
        return `${ind}continue;`;
    }
  }

  private assign(s: Extract<IStmt, { s: "assign" }>): string {
    const t = s.target;
    const v = this.x(s.value);
    const isList = stripOptional(t.t).k === "list";
    const compose = (place: string) => {
      if (s.op === "=") return `${place} = ${v}`;
      if (isList) return `${place}.push(...${this.charged(v, s.span)})`;
      return `${place} ${s.op} ${v}`;
    };
    if (t.e === "local") return compose(jsName(t.name));
    if (t.e === "state") return compose(`$s.gw().${t.field}`);
    if (t.e === "member") return compose(`${this.w(t.object)}${propAccess(t.name)}`);
    if (t.e === "index") {
      const obj = this.w(t.object);
      if (t.mode === "list") {
        if (s.op === "=") return `rt.setAt(${obj}, ${this.x(t.index)}, ${v}, ${this.loc(s.span)})`;
        return `rt.setAt(${obj}, ${this.x(t.index)}, rt.at(${obj}, ${this.x(t.index)}, ${this.loc(s.span)}) ${s.op === "+=" ? "+" : "-"} ${v}, ${this.loc(s.span)})`;
      }
      if (t.mode === "map") {
        // through rt.mapSet: `m[k] = v` with the key "__proto__" would set the prototype; and
        // `m[k] += v` reads the entry first, a missing key being a fault as for any `m[k]`
        const key = this.x(t.index);
        if (s.op === "=") return `rt.mapSet(${obj}, ${key}, ${v})`;
        if (isList) return `rt.mapGet(${obj}, ${key}, ${this.loc(s.span)}).push(...${v})`;
        return `rt.${s.op === "+=" ? "mapAdd" : "mapSub"}(${obj}, ${key}, ${v}, ${this.loc(s.span)})`;
      }
      return compose(`${obj}[${this.x(t.index)}]`);
    }
    throw new Error("emitter: bad assignment target");
  }

  private forStmt(s: Extract<IStmt, { s: "for" }>, ind: string): string {
    const next = ind + "  ";
    const it = stripOptional(s.iterable.t);
    // one step per iteration, taken first so that `continue` pays too
    const tick = this.budget ? `${next}if (--$s.steps < 0) rt.overBudget(${this.loc(s.span)});\n` : "";
    const body = tick + this.inLoop(() => this.stmts(s.body, next));
    const a = jsName(s.name);
    const b = s.second ? jsName(s.second) : undefined;
    const r = s.iterable;
    if (!b && r.e === "builtin" && r.fn === "g.range") {
      // `for i in range(a, b)`: a counted loop, no list built (the iteration steps are what a
      // long range costs: `range(1e9)` runs out of budget after the budget's iterations)
      const k = `$k${this.loopDepth}`;
      const end = `$end${this.loopDepth}`;
      const [lo, hi] = r.args.length > 1 ? [this.x(r.args[0]!), this.x(r.args[1]!)] : ["0", this.x(r.args[0]!)];
      return `${ind}for (let ${k} = ${lo}, ${end} = ${hi}; ${k} < ${end}; ${k}++) {\n${next}let ${a} = ${k};\n${body}\n${ind}}`;
    }
    const src = s.writable ? this.w(s.iterable) : this.x(s.iterable);
    if (it.k === "table") {
      const table = this.x(s.iterable);
      if (b && !s.writable && this.tool && !this.tool.writes) {
        // nothing in this tool writes, so the table's cached key and record arrays (built
        // together, in the same order) stay as they are for the whole loop: no lookup per key
        const n = `$n${this.loopDepth}`;
        const keys = `$keys${this.loopDepth}`;
        const recs = `$recs${this.loopDepth}`;
        return `${ind}for (let ${n} = 0, ${recs} = ${table}.values(), ${keys} = ${table}.keys(); ${n} < ${keys}.length; ${n}++) {\n${next}const ${a} = ${keys}[${n}];\n${next}const ${b} = ${recs}[${n}];\n${body}\n${ind}}`;
      }
      if (b) {
        const vals = s.writable ? `${table}.writable(${table}.get(${a}))` : `${table}.get(${a})`;
        // keys() is a snapshot (the table replaces its cached arrays, never changes them), so
        // the loop sees the keys as they were even when its body inserts or deletes
        return `${ind}for (const ${a} of ${table}.keys()) {\n${next}const ${b} = ${vals};\n${next}if (${b} == null) continue;\n${body}\n${ind}}`;
      }
      if (s.writable) return `${ind}for (let ${a} of ${table}.values()) {\n${next}${a} = ${table}.writable(${a});\n${next}if (${a} == null) continue;\n${body}\n${ind}}`;
      return `${ind}for (const ${a} of ${table}.values()) {\n${body}\n${ind}}`;
    }
    if (it.k === "map") {
      if (b) return `${ind}for (const ${a} of rt.orderedKeys(${src})) {\n${next}const ${b} = ${src}[${a}];\n${body}\n${ind}}`;
      return `${ind}for (const ${a} of rt.orderedKeys(${src})) {\n${body}\n${ind}}`;
    }
    const anyList = this.anyT ? " as any[]" : "";
    if (b) return `${ind}for (const [${a}, ${b}] of ([...${src}]${anyList}).entries()) {\n${body}\n${ind}}`;
    return `${ind}for (const ${a} of [...${src}]${anyList}) {\n${body}\n${ind}}`;
  }

  // ---------- declarations ----------

  toolBody(tool: ITool): string {
    const lines: string[] = [];
    for (const p of tool.params) {
      const opt = !p.required && !p.hasDefault;
      lines.push(`  const ${jsName(p.name)} = $a${propAccess(p.name)}${opt ? " ?? null" : ""};`);
    }
    this.tool = tool;
    this.budget = true;
    this.hoisted.clear();
    let body: string;
    try {
      body = this.stmts(tool.body, "  ");
    } finally {
      this.tool = undefined;
      this.budget = false;
    }
    for (const [name, code] of this.hoisted) lines.push(`  const ${name} = ${code};`);
    lines.push(body);
    if (!tool.returnType) lines.push("  return null;");
    return lines.join("\n");
  }

  /** A scenario check: a function of the final (`$s`) and the initial (`$i`) state. */
  scenarioCheck(check: ICheck): string {
    return this.x(check.expr);
  }

  invariantCheck(inv: IInvariant): string {
    return this.x(inv.expr);
  }

  perRecordCheck(inv: IInvariant): string | undefined {
    const pr = inv.perRecord;
    if (!pr) return undefined;
    const v = jsName(pr.variable);
    const ctx = this.anyT ? ": rt.Ctx" : "";
    return `($s${ctx}, ${v}${this.anyT}) => ${pr.where ? `!(${this.x(pr.where)}) || ` : ""}(${this.x(pr.body)})`;
  }
}

/**
 * Whether a statement writes the state (or a record read from it): an assignment to anything
 * but a local, insert, delete, a list mutator on anything but a local. Changes to a tool's own
 * local values are cheap and are not counted as writes.
 */
function writesState(s: IStmt): boolean {
  switch (s.s) {
    case "assign":
      return s.target.e !== "local";
    case "delete":
      return true;
    case "let":
      return s.value.e === "insert";
    case "expr": {
      const x = s.expr;
      if (x.e === "insert") return true;
      return x.e === "builtin" && isListMutator(x.fn) && x.args[0]!.e !== "local";
    }
    default:
      return false;
  }
}

/** Wrap in parentheses unless one pair already encloses the whole text. */
function paren(s: string): string {
  if (!s.startsWith("(") || !s.endsWith(")")) return `(${s})`;
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0 && i < s.length - 1) return `(${s})`;
  }
  return s;
}

function escapeTemplate(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
}

export function propAccess(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** A property name in an object literal (or interface); "__proto__" computed, as only that keeps it a key. */
export function propKey(name: string): string {
  if (name === "__proto__") return '["__proto__"]';
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/**
 * A JSON value as JavaScript source: its JSON text, except that a "__proto__" key (a map key
 * from data) is written computed, `["__proto__"]: v`; in a literal it would set the prototype.
 */
export function jsValue(v: unknown): string {
  const text = JSON.stringify(v);
  if (text === undefined) return "null";
  return text.includes('"__proto__":') ? jsValueDeep(v) : text;
}

function jsValueDeep(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(jsValueDeep).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).map((k) => `${k === "__proto__" ? propKey(k) : JSON.stringify(k)}: ${jsValueDeep(o[k])}`).join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
