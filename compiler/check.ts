// The checker: resolves names, types every expression, enforces the language's static rules
// (query purity, key fields, inserts, returns) and lowers the AST to the IR in the same walk.
// Assumes a parsed AST (possibly partial after syntax errors); never throws on any input.
import type * as A from "../grammar/ast.js";
import { makeDiagnostic, closest, type Diagnostic, type Related } from "./diagnostics.js";
import { dateValueProblem, isDate, isDatetime } from "../runtime/dates.js";
import { MAX_MAX_STEPS as MAX_LIMIT_STEPS } from "../runtime/budget.js";
import { unboundedRanges } from "./bounds.js";
import {
  T, optional, stripOptional, isOptional, typeToString, preconditionsIn, conjuncts,
  type Type, type FieldType, type IExpr, type IStmt, type IEnv, type ITool, type IParam, type IEntity,
  type IStateField, type IInvariant, type IEnum, type IRecordDecl, type IScenario, type IStep, type ICheck,
} from "./ir.js";
import {
  COLLECTION_METHODS, LIST_MUTATORS, STRING_METHODS, METHOD_ALIASES, GLOBALS, KEYED_METHODS,
  isNumeric, isStringLike, type MethodSig,
} from "./builtins.js";
import { reservedName, type NameRole } from "./names.js";

type RecordT = Extract<Type, { k: "record" }>;

interface Local {
  type: Type;
  kind: "param" | "let" | "loop" | "lambda";
  span: A.Span;
  used: boolean;
  /** holds (part of) a record or value read from the state: writing through it changes state */
  fromState: boolean;
}

interface Frame {
  locals: Map<string, Local>;
  narrowed: Map<string, Type>;
}

type Context = "query" | "action" | "fn" | "invariant" | "default" | "check";

interface ToolSig {
  decl: A.ToolDecl;
  params: IParam[];
  returnType?: Type;
}

const PRIMITIVES: Record<string, Type> = {
  string: T.string, int: T.int, number: T.number, bool: T.bool, date: T.date, datetime: T.datetime, json: T.json,
};

export interface CheckResult {
  env?: IEnv;
  diagnostics: Diagnostic[];
  /** kept to check scenarios written elsewhere (`scenarios for` files, JSONL) against this spec */
  checker?: Checker;
}

export class Checker {
  private diags: Diagnostic[] = [];
  private enums = new Map<string, IEnum & { span: A.Span }>();
  /** the enums that list each value, in declaration order: a lookup per bound name or bare
   *  value, where a scan of every enum made large specs quadratic */
  private enumsByValue = new Map<string, IEnum[]>();
  private records = new Map<string, { type: RecordT; span: A.Span; description?: string }>();
  private entities = new Map<string, IEntity & { span: A.Span }>();
  private state = new Map<string, IStateField & { span: A.Span }>();
  private tools = new Map<string, ToolSig>();
  private topNames = new Map<string, A.Span>();
  // per-body state
  private frames: Frame[] = [];
  private context: Context = "default";
  private currentTool?: ToolSig;
  private writes = false;
  private calls: { callee: string; span: A.Span }[] = [];
  private loopDepth = 0;
  /** the one expression where an insert may stand: a let's value or a statement */
  private insertSlot: A.Expr | undefined;

  constructor(private ast: A.SpecFile) {}

  /** set while checking scenarios written in another file (`scenarios for`, JSONL) */
  private fileOverride?: string;
  /** set when a scenario check reads `reply` (see scenarioCheck) */
  private replyRead = false;
  private scenarioNames = new Map<string, { file: string; span: A.Span }>();

  private get file() {
    return this.fileOverride ?? this.ast.file;
  }

  private report(code: string, span: A.Span, message: string, extra: { related?: Related[]; fix?: string } = {}) {
    this.diags.push(makeDiagnostic(code, this.file, span, message, extra));
  }

  check(): CheckResult {
    const ast = this.ast;
    if (!ast.header) {
      const first = ast.decls[0]?.span ?? { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
      this.report("ENV1005", first, "A spec starts with `env Name \"Title\"`", { fix: "add a first line like `env Shop \"Online shop\"`" });
    }
    this.declareNames();
    this.resolveTypes();
    this.resolveState();
    this.resolveSignatures();
    const invariants = this.checkInvariants();
    const tools = this.checkTools();
    this.checkPurity(tools);
    this.diags.push(...unboundedRanges(tools, this.file));
    const scenarios = this.checkScenarios(ast.decls, ast.file);
    const maxSteps = this.checkLimits();
    if (!ast.header) return { diagnostics: this.diags };
    const env: IEnv = {
      name: ast.header.name.name,
      title: ast.header.title,
      description: ast.header.description,
      file: this.file,
      enums: [...this.enums.values()].map(({ span: _s, ...e }) => e),
      records: [...this.records.entries()].map(([name, r]) => ({ name, description: r.description, type: r.type }) as IRecordDecl),
      entities: [...this.entities.values()].map(({ span: _s, ...e }) => e),
      state: [...this.state.values()].map(({ span: _s, ...s }) => s),
      rules: ast.decls.filter((d): d is Extract<A.Decl, { kind: "Rule" }> => d.kind === "Rule").map((d) => d.text),
      invariants,
      tools,
      scenarios,
      ...(maxSteps !== undefined ? { maxSteps } : {}),
    };
    return { env, diagnostics: this.diags, checker: this };
  }

  /** Run `fn` (checking more scenarios) and return what it reported, leaving the spec's own list alone. */
  collect<R>(fn: () => R): { value: R; diagnostics: Diagnostic[] } {
    const mark = this.diags.length;
    try {
      const value = fn();
      return { value, diagnostics: this.diags.splice(mark) };
    } catch (err) {
      const file = this.file;
      this.diags.splice(mark);
      const span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
      return { value: undefined as R, diagnostics: [makeDiagnostic("ENV0000", file, span, `Internal checker error (please report): ${(err as Error).message}`)] };
    }
  }

  // ---------- declarations ----------

  /** ENV2020 when `name` cannot name a `role` (compiler/names.ts says which and why); false then. */
  private refuseReserved(name: A.Ident, role: NameRole): boolean {
    const r = reservedName(name.name, role);
    if (!r) return true;
    this.report("ENV2020", name.span, `'${name.name}' cannot name a ${role}: ${r.reason}`, { fix: `rename it, e.g. \`${r.suggestion}\`` });
    return false;
  }

  private declareTop(name: A.Ident, what: string) {
    this.refuseReserved(name, what === "enum" || what === "record" || what === "entity" ? "type" : what === "invariant" ? "invariant" : "tool");
    const prev = this.topNames.get(name.name);
    if (prev) {
      this.report("ENV2004", name.span, `'${name.name}' is already declared`, {
        related: [{ file: this.file, span: prev, message: "first declared here" }],
        fix: `rename this ${what}`,
      });
      return false;
    }
    this.topNames.set(name.name, name.span);
    return true;
  }

  private declareNames() {
    let stateSeen: A.Span | undefined;
    for (const d of this.ast.decls) {
      switch (d.kind) {
        case "Enum": {
          if (!this.declareTop(d.name, "enum")) break;
          const values: string[] = [];
          const descriptions: (string | undefined)[] = [];
          for (const m of d.members) {
            if (values.includes(m.name.name)) {
              this.report("ENV2006", m.name.span, `Enum ${d.name.name} lists '${m.name.name}' twice`);
              continue;
            }
            values.push(m.name.name);
            descriptions.push(m.description);
          }
          const en = { name: d.name.name, description: d.description, values, descriptions, span: d.name.span };
          this.enums.set(d.name.name, en);
          for (const v of values) {
            const owners = this.enumsByValue.get(v);
            if (owners) owners.push(en);
            else this.enumsByValue.set(v, [en]);
          }
          break;
        }
        case "Record":
          if (this.declareTop(d.name, "record"))
            this.records.set(d.name.name, { type: { k: "record", name: d.name.name, fields: [] }, span: d.name.span, description: d.description });
          break;
        case "Entity":
          if (this.declareTop(d.name, "entity")) {
            const type: RecordT = { k: "record", name: d.name.name, fields: [], entity: d.name.name };
            this.records.set(d.name.name, { type, span: d.name.span, description: d.description });
            this.entities.set(d.name.name, {
              name: d.name.name, key: d.key.name, ...(d.external ? { externalKey: true } : {}), description: d.description, type, span: d.name.span,
            });
            if (d.keyWord.name !== "key")
              this.report("ENV1001", d.keyWord.span, `Expected 'key' but found '${d.keyWord.name}'`, { fix: `write \`entity ${d.name.name} key <field> { ... }\`` });
            if (d.external && d.external.name !== "external")
              this.report("ENV1001", d.external.span, `Expected 'external' or '{' but found '${d.external.name}'`, { fix: `write \`entity ${d.name.name} key ${d.key.name} { ... }\`` });
          }
          break;
        case "State":
          if (stateSeen)
            this.report("ENV2015", d.span, "A spec has only one state block", {
              related: [{ file: this.file, span: stateSeen, message: "first state block" }],
              fix: "merge the fields into the first state block",
            });
          stateSeen ??= d.span;
          break;
        case "Invariant":
          this.declareTop(d.name, "invariant");
          break;
        case "Tool":
          this.declareTop(d.name, d.toolKind);
          break;
        case "Rule":
        case "Scenario":
        case "Limits":
          break;
      }
    }
  }

  /**
   * `limits { steps: N }`: the step budget of one tool call (runtime/env.ts). A whole number
   * from 1 to MAX_LIMIT_STEPS, given at most once.
   */
  private checkLimits(): number | undefined {
    let steps: number | undefined;
    let seen: A.Span | undefined;
    for (const d of this.ast.decls) {
      if (d.kind !== "Limits") continue;
      if (seen) {
        this.report("ENV3019", d.span, "A spec has one `limits { ... }` block", {
          related: [{ file: this.file, span: seen, message: "first given here" }],
          fix: "merge the settings into the first block",
        });
        continue;
      }
      seen = d.span;
      const named = new Set<string>();
      for (const item of d.items) {
        if (item.name.name !== "steps") {
          this.report("ENV3019", item.name.span, `Unknown limit '${item.name.name}': the limits are steps`, {
            fix: "write `steps: 500000` (evaluation steps one tool call may take)",
          });
          continue;
        }
        if (named.has("steps")) {
          this.report("ENV3019", item.name.span, "'steps' is given twice");
          continue;
        }
        named.add("steps");
        const v = item.value;
        if (v.kind !== "Int" || v.value < 1 || v.value > MAX_LIMIT_STEPS) {
          this.report("ENV3019", v.span, `steps is a whole number from 1 to ${MAX_LIMIT_STEPS.toLocaleString("en-US")}`, {
            fix: "write a whole number such as `steps: 500000`; the default is 100,000",
          });
          continue;
        }
        steps = v.value;
      }
    }
    return steps;
  }

  private resolveTypes() {
    for (const d of this.ast.decls) {
      if (d.kind !== "Record" && d.kind !== "Entity") continue;
      const target = this.records.get(d.name.name);
      if (!target || target.span !== d.name.span) continue;
      target.type.fields.push(...this.resolveFields(d.fields, "field"));
      if (d.kind === "Entity") {
        const keyField = target.type.fields.find((f) => f.name === d.key.name);
        if (d.external) {
          if (keyField)
            this.report("ENV2012", d.key.span, `The external key '${d.key.name}' of ${d.name.name} is also a field`, {
              fix: `drop \`external\` (the records hold their key) or the field`,
            });
        } else if (!keyField)
          this.report("ENV2012", d.key.span, `Entity ${d.name.name} has no field '${d.key.name}' to use as its key`, {
            fix: closest(d.key.name, target.type.fields.map((f) => f.name)) ? `did you mean \`${closest(d.key.name, target.type.fields.map((f) => f.name))}\`?` : `add \`${d.key.name}: string\``,
          });
        else if (keyField.type.k !== "string")
          this.report("ENV3011", d.key.span, `Key field '${d.key.name}' of ${d.name.name} is ${typeToString(keyField.type)}; key fields are strings`, { fix: `declare \`${d.key.name}: string\`` });
      }
    }
  }

  private resolveFields(fields: A.FieldDecl[], what: "field" | "parameter" | "state field", allowTable = false): FieldType[] {
    const out: FieldType[] = [];
    const seen = new Map<string, A.Span>();
    for (const f of fields) {
      const prev = seen.get(f.name.name);
      if (prev) {
        this.report(what === "parameter" ? "ENV2007" : "ENV2005", f.name.span, `Duplicate ${what} '${f.name.name}'`, {
          related: [{ file: this.file, span: prev, message: "first declared here" }],
        });
        continue;
      }
      seen.set(f.name.name, f.name.span);
      this.refuseReserved(f.name, what);
      let type = this.resolveType(f.type, allowTable);
      if (f.optionalMark) type = optional(type);
      let dflt: unknown;
      let hasDefault = false;
      if (f.default) {
        const c = this.constant(f.default, type);
        if (c.ok) {
          dflt = c.value;
          hasDefault = true;
        }
      }
      out.push({ name: f.name.name, type, description: f.description, default: dflt, hasDefault });
    }
    return out;
  }

  resolveType(t: A.TypeNode, allowTable = false): Type {
    switch (t.kind) {
      case "OptionalType":
        return optional(this.resolveType(t.inner));
      case "UnionType":
        return { k: "enum", values: [...new Set(t.values.map((v) => v.value))] };
      case "RecordType":
        return { k: "record", fields: this.resolveFields(t.fields, "field") };
      case "RefType":
      case "TableType": {
        const entity = this.entities.get(t.entity.name);
        if (!entity) {
          const guess = closest(t.entity.name, this.entities.keys());
          this.report("ENV2011", t.entity.span, `'${t.entity.name}' is not an entity`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
          return T.error;
        }
        if (t.kind === "TableType") {
          if (!allowTable) {
            this.report("ENV4014", t.span, `'table ${t.entity.name}' is only allowed as a state field's type`, { fix: `use \`list<${t.entity.name}>\`` });
            return T.error;
          }
          return { k: "table", entity: entity.name };
        }
        return { k: "ref", entity: entity.name };
      }
      case "NamedType": {
        const name = t.name.name;
        const arity = (n: number) => {
          if (t.args.length !== n) {
            this.report("ENV3013", t.span, `'${name}' takes ${n === 0 ? "no type arguments" : n === 1 ? "one type argument" : "two type arguments"}`, {
              fix: name === "list" ? "write `list<T>`" : name === "map" ? "write `map<string, T>`" : undefined,
            });
            return false;
          }
          return true;
        };
        if (name === "list") return arity(1) ? { k: "list", elem: this.resolveType(t.args[0]!) } : T.error;
        if (name === "map") {
          if (!arity(2)) return T.error;
          const key = this.resolveType(t.args[0]!);
          if (!isStringLike(key) || key.k === "ref") {
            if (key.k !== "ref") {
              this.report("ENV3013", t.args[0]!.span, `Map keys are strings (JSON object keys), not ${typeToString(key)}`, { fix: "use `map<string, ...>`" });
              return T.error;
            }
          }
          return { k: "map", key, value: this.resolveType(t.args[1]!) };
        }
        const prim = PRIMITIVES[name];
        if (prim) return arity(0) ? prim : T.error;
        const en = this.enums.get(name);
        if (en) return arity(0) ? { k: "enum", name, values: en.values } : T.error;
        const rec = this.records.get(name);
        if (rec) return arity(0) ? rec.type : T.error;
        const candidates = [...Object.keys(PRIMITIVES), "list", "map", ...this.enums.keys(), ...this.records.keys()];
        const guess = closest(name, candidates);
        this.report("ENV2002", t.name.span, `Unknown type '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        return T.error;
      }
    }
  }

  /** Evaluate a default: a constant of the expected type. */
  private constant(e: A.Expr, type: Type): { ok: true; value: unknown } | { ok: false } {
    const bad = (msg: string) => {
      this.report("ENV3010", e.span, msg);
      return { ok: false } as const;
    };
    const base = stripOptional(type);
    switch (e.kind) {
      case "Null":
        return isOptional(type) || type.k === "json" ? { ok: true, value: null } : bad(`Default null for a ${typeToString(type)} field: declare it \`${typeToString(type)}?\``);
      case "Int":
      case "Number":
        if (base.k === "int" && e.kind === "Number") return bad(`Default ${e.value} is not an int`);
        if (!isNumeric(base)) return bad(`Default ${e.value} does not fit ${typeToString(type)}`);
        return { ok: true, value: e.value };
      case "Bool":
        return base.k === "bool" || base.k === "json" ? { ok: true, value: e.value } : bad(`Default ${e.value} does not fit ${typeToString(type)}`);
      case "String": {
        if (!e.parts.every((p) => typeof p === "string")) return bad("Defaults are constants: no `${...}` interpolation");
        const s = e.parts.join("");
        if (base.k === "enum" && !base.values.includes(s)) return bad(`"${s}" is not a value of ${typeToString(base)}`);
        if (base.k === "date" || base.k === "datetime") {
          const why = dateValueProblem(base.k, s);
          if (why) return bad(why);
        }
        if (!isStringLike(base)) return bad(`Default "${s}" does not fit ${typeToString(type)}`);
        return { ok: true, value: s };
      }
      case "Name": {
        if (base.k === "enum" && base.values.includes(e.name)) return { ok: true, value: e.name };
        return bad(`Default '${e.name}' is not a constant${base.k === "enum" ? ` of ${typeToString(base)}` : ""}`);
      }
      case "Member": {
        if (e.object.kind === "Name" && this.enums.has(e.object.name) && base.k === "enum" && base.values.includes(e.name.name))
          return { ok: true, value: e.name.name };
        return bad("Defaults are constants");
      }
      case "List": {
        if (base.k !== "list" && base.k !== "json") return bad(`A list does not fit ${typeToString(type)}`);
        const out: unknown[] = [];
        for (const item of e.items) {
          const c = this.constant(item, base.k === "list" ? base.elem : T.json);
          if (!c.ok) return c;
          out.push(c.value);
        }
        return { ok: true, value: out };
      }
      case "RecordLit": {
        if (base.k === "map" || base.k === "json") {
          const out: Record<string, unknown> = {};
          for (const f of e.fields) {
            const c = this.constant(f.value, base.k === "map" ? base.value : T.json);
            if (!c.ok) return c;
            // defined, not assigned: a map key may be "__proto__", which assignment would swallow
            Object.defineProperty(out, f.name.name, { value: c.value, enumerable: true, writable: true, configurable: true });
          }
          return { ok: true, value: out };
        }
        if (base.k !== "record") return bad(`A record does not fit ${typeToString(type)}`);
        const out: Record<string, unknown> = {};
        for (const f of e.fields) {
          const ft = base.fields.find((x) => x.name === f.name.name);
          if (!ft) return bad(`${typeToString(base)} has no field '${f.name.name}'`);
          const c = this.constant(f.value, ft.type);
          if (!c.ok) return c;
          out[f.name.name] = c.value;
        }
        return { ok: true, value: out };
      }
      default:
        return bad("Defaults are constants: a literal, list, record or enum value");
    }
  }

  private resolveState() {
    for (const d of this.ast.decls) {
      if (d.kind !== "State") continue;
      // each name's first declaration, found once (a search per field was quadratic)
      const firstDecl = new Map<string, (typeof d.fields)[number]>();
      for (const x of d.fields) if (!firstDecl.has(x.name.name)) firstDecl.set(x.name.name, x);
      for (const f of this.resolveFields(d.fields, "state field", true)) {
        const decl = firstDecl.get(f.name)!;
        if (this.state.has(f.name)) {
          this.report("ENV2005", decl.name.span, `Duplicate state field '${f.name}'`);
          continue;
        }
        const table = f.type.k === "table" ? f.type.entity : undefined;
        if (table) {
          const entity = this.entities.get(table)!;
          if (entity.table) {
            this.report("ENV2013", decl.name.span, `Entity ${table} is already stored in table '${entity.table}'`, {
              related: [{ file: this.file, span: this.state.get(entity.table)!.span, message: "its table" }],
            });
            continue;
          }
          entity.table = f.name;
        }
        this.state.set(f.name, { ...f, table, span: decl.name.span });
      }
    }
    for (const e of this.entities.values())
      if (!e.table)
        this.report("ENV4016", e.span, `Entity ${e.name} is not stored in any table`, {
          fix: `add \`${e.name.toLowerCase()}s: table ${e.name}\` to the state block`,
        });
  }

  private resolveSignatures() {
    for (const d of this.ast.decls) {
      if (d.kind !== "Tool" || this.tools.has(d.name.name) || this.topNames.get(d.name.name) !== d.name.span) continue;
      const fields = this.resolveFields(d.params, "parameter");
      const params: IParam[] = fields.map((f) => ({
        name: f.name,
        type: f.type,
        description: f.description,
        required: !f.hasDefault && !isOptional(f.type),
        default: f.hasDefault ? f.default : undefined,
        hasDefault: f.hasDefault,
      }));
      const returnType = d.returnType ? this.resolveType(d.returnType) : undefined;
      this.tools.set(d.name.name, { decl: d, params, returnType });
      if (d.toolKind !== "fn" && !d.description)
        this.report("ENV4013", d.name.span, `Tool '${d.name.name}' has no description`, { fix: "add a string after the signature saying what it does" });
    }
  }

  // ---------- scopes ----------

  private pushFrame() {
    this.frames.push({ locals: new Map(), narrowed: new Map() });
  }
  private popFrame() {
    const f = this.frames.pop()!;
    for (const [name, l] of f.locals)
      if (!l.used && l.kind === "let") this.report("ENV4015", l.span, `'${name}' is never used`, { fix: "remove the `let` or use the value" });
  }
  private lookupLocal(name: string): Local | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const l = this.frames[i]!.locals.get(name);
      if (l) return l;
    }
    return undefined;
  }
  private narrowedType(path: string): Type | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const n = this.frames[i]!.narrowed.get(path);
      if (n) return n;
    }
    return undefined;
  }
  private bind(name: A.Ident, type: Type, kind: Local["kind"], fromState = true): boolean {
    if (kind !== "param") this.refuseReserved(name, "local"); // parameters: in resolveFields
    if (this.lookupLocal(name.name)) {
      this.report("ENV2008", name.span, `'${name.name}' is already bound in this tool`, { fix: "choose another name" });
      return false;
    }
    if (this.state.has(name.name) && kind !== "lambda") {
      this.report("ENV2008", name.span, `'${name.name}' hides the state field of the same name`, { fix: "choose another name" });
    }
    const shadowed = this.enumsByValue.get(name.name)?.[0];
    if (shadowed && kind !== "lambda")
      this.report("ENV2018", name.span, `'${name.name}' hides the enum value ${shadowed.name}.${name.name}`, { fix: "choose another name, or write the enum value qualified" });
    this.frames[this.frames.length - 1]!.locals.set(name.name, { type, kind, span: name.span, used: kind !== "let", fromState });
    return true;
  }
  private narrow(facts: Map<string, Type>) {
    const frame = this.frames[this.frames.length - 1]!;
    for (const [k, t] of facts) frame.narrowed.set(k, t);
  }

  // ---------- tools and invariants ----------

  private checkTools(): ITool[] {
    const out: ITool[] = [];
    for (const sig of this.tools.values()) {
      const d = sig.decl;
      this.context = d.toolKind;
      this.currentTool = sig;
      this.writes = false;
      this.calls = [];
      this.frames = [];
      this.pushFrame();
      for (const p of sig.params) {
        const decl = d.params.find((x) => x.name.name === p.name)!;
        this.bind(decl.name, p.type, "param");
      }
      const body = this.block(d.body.statements);
      if (sig.returnType && sig.returnType.k !== "error" && !alwaysExits(body)) {
        this.report("ENV4007", d.name.span, `'${d.name.name}' returns ${typeToString(sig.returnType)} but can reach its end without returning`, {
          fix: "add a `return` (or `fail`) at the end",
        });
      }
      this.popFrame();
      markWritable(body);
      out.push({
        name: d.name.name,
        kind: d.toolKind,
        params: sig.params,
        returnType: sig.returnType,
        description: d.description,
        body,
        writes: this.writes,
        fails: preconditionsIn(body).length > 0,
        span: d.name.span,
        calls: this.calls,
      } as ITool & { calls: { callee: string; span: A.Span }[] });
    }
    this.currentTool = undefined;
    return out;
  }

  private checkPurity(tools: ITool[]) {
    const byName = new Map(tools.map((t) => [t.name, t as ITool & { calls: { callee: string; span: A.Span }[] }]));
    // propagate writes through calls to a fixpoint
    // and failing preconditions (a callee's failure fails its caller)
    let changed = true;
    while (changed) {
      changed = false;
      for (const t of byName.values()) {
        if (!t.writes && t.calls.some((c) => byName.get(c.callee)?.writes)) {
          t.writes = true;
          changed = true;
        }
        if (!t.fails && t.calls.some((c) => byName.get(c.callee)?.fails)) {
          t.fails = true;
          changed = true;
        }
      }
    }
    for (const t of byName.values()) {
      if (t.kind === "query") {
        for (const c of t.calls) {
          const callee = byName.get(c.callee);
          if (callee?.writes)
            this.report("ENV4002", c.span, `Query '${t.name}' calls '${c.callee}', which changes state`, {
              related: [{ file: this.file, span: callee.span, message: `'${c.callee}' is declared here` }],
              fix: `make '${t.name}' an action, or keep '${c.callee}' from writing`,
            });
        }
      }
      delete (t as { calls?: unknown }).calls;
    }
    for (const [name, span] of this.invariantCalls) {
      const callee = byName.get(name);
      if (callee?.writes) this.report("ENV4002", span, `An invariant calls '${name}', which changes state`);
    }
  }
  private invariantCalls = new Map<string, A.Span>();

  private checkInvariants(): IInvariant[] {
    const out: IInvariant[] = [];
    for (const d of this.ast.decls) {
      if (d.kind !== "Invariant") continue;
      this.context = "invariant";
      this.frames = [];
      this.calls = [];
      this.pushFrame();
      const expr = this.expectBool(d.expr, "An invariant");
      this.popFrame();
      for (const c of this.calls) this.invariantCalls.set(c.callee, c.span);
      const reads = [...stateReads(expr)];
      let perRecord: IInvariant["perRecord"];
      if (expr.e === "quant" && expr.quantifier === "all" && expr.collection.e === "state" && expr.collection.table)
        perRecord = { table: expr.collection.field, variable: expr.variable, where: expr.where, body: expr.body };
      else if (
        expr.e === "builtin" && expr.fn === "table.all" && expr.args[0]!.e === "state" && expr.args[1]!.e === "lambda" &&
        expr.args[1]!.params.length === 1
      )
        perRecord = { table: (expr.args[0] as { field: string }).field, variable: expr.args[1]!.params[0]!, body: expr.args[1]!.body };
      out.push({ name: d.name.name, description: d.description, expr, perRecord, reads, span: d.span });
    }
    return out;
  }

  // ---------- scenarios ----------

  /** Check the scenarios among `decls`, written in `file` (this spec or a `scenarios for` file). */
  checkScenarios(decls: A.Decl[], file: string): IScenario[] {
    const saved = this.fileOverride;
    this.fileOverride = file === this.ast.file ? undefined : file;
    const out: IScenario[] = [];
    for (const d of decls) {
      // other declarations in a `scenarios for` file are reported by the pipeline (ENV5017)
      if (d.kind === "Scenario") out.push(this.scenario(d, file));
    }
    this.fileOverride = saved;
    return out;
  }

  private scenario(d: A.ScenarioDecl, file: string): IScenario {
    const name = d.name.name;
    const first = this.scenarioNames.get(name);
    if (first)
      this.report("ENV5003", d.name.span, `Scenario '${name}' is declared twice`, {
        related: [{ file: first.file, span: first.span, message: "first declared here" }],
        fix: "give each scenario its own name",
      });
    else this.scenarioNames.set(name, { file, span: d.name.span });
    const missing = [
      ...(d.init ? [] : ["init"]), ...(d.task ? [] : ["task"]), ...(d.checks.length || d.outcomes.length ? [] : ["check"]), ...(d.solution ? [] : ["solution"]),
    ];
    if (missing.length)
      this.report("ENV5002", d.name.span, `Scenario '${name}' has no ${missing.join(", ")}`, {
        fix: "a scenario has `init from \"state.json\"`, `task \"...\"`, one or more `check \"...\": expr` and `solution { tool(arg: value) }`",
      });
    const checks = d.checks.map((c) => this.scenarioCheck(c.text, c.expr, c.span));
    const solution: IStep[] = [];
    for (const step of d.solution?.steps ?? []) {
      const s = this.solutionStep(step);
      if (s) solution.push(s);
    }
    const outcomes = d.outcomes.map((o) => ({ text: o.text, ...(o.fields ? { fields: this.outcomeFields(o.fields) } : {}), span: o.span }));
    const reward = d.reward ? this.rewardMode(d.reward.text, d.reward.span) : undefined;
    this.needsReply(checks, d.reply !== undefined, d.name.span, name);
    return {
      name, description: d.description, file,
      init: !d.init ? { value: {} } : "file" in d.init ? { file: d.init.file } : { value: d.init.value },
      initSpan: d.init?.span ?? d.name.span,
      task: d.task?.text ?? "", persona: d.persona?.text, checks, solution,
      ...(d.reply ? { reply: d.reply.text } : {}),
      ...(outcomes.length ? { outcomes } : {}),
      ...(reward ? { reward } : {}),
      span: d.name.span,
    };
  }

  /** A scenario check, typed, with whether it reads `reply` (an answer check). */
  scenarioCheck(text: string, expr: A.Expr, span: A.Span, file?: string): ICheck {
    this.replyRead = false;
    const x = this.checkExpression(expr, file);
    return { text, expr: x, span, ...(this.replyRead ? { readsReply: true } : {}) };
  }

  /** A scenario whose checks read `reply` needs a reference reply for verify to prove them. */
  needsReply(checks: readonly ICheck[], hasReply: boolean, span: A.Span, name: string, file?: string) {
    const first = checks.find((c) => c.readsReply);
    if (!first || hasReply) return;
    this.withFile(file, () =>
      this.report("ENV5020", first.span, `Scenario '${name}' has an answer check (it reads \`reply\`) but no reference reply`, {
        related: [{ file: file ?? this.fileOverride ?? this.ast.file, span, message: "the scenario" }],
        fix: "add `reply \"...\"`: a reply that answers the task, which verify proves the answer checks accept",
      }),
    );
  }

  /** `reward "all"` or `reward "fraction"`. */
  rewardMode(text: string, span: A.Span, file?: string): "all" | "fraction" | undefined {
    if (text === "all" || text === "fraction") return text;
    this.withFile(file, () =>
      this.report("ENV5018", span, `A scenario's reward is "all" or "fraction", not ${JSON.stringify(text)}`, {
        fix: "write `reward \"all\"` (1 only when every check and outcome holds, as tau-bench scores) or leave it out (the fraction that hold)",
      }),
    );
    return undefined;
  }

  /** An outcome's `[field, ...]`: names of state fields. */
  outcomeFields(e: A.Expr, file?: string): string[] {
    const out: string[] = [];
    this.withFile(file, () => {
      if (e.kind !== "List") {
        this.report("ENV5019", e.span, "An outcome compares state fields: write them as a list, like `[orders, users]`");
        return;
      }
      for (const item of e.items) {
        if (item.kind !== "Name" || !this.state.has(item.name)) {
          const guess = item.kind === "Name" ? closest(item.name, this.state.keys()) : undefined;
          this.report("ENV5019", item.span, item.kind === "Name" ? `The state has no field '${item.name}'` : "An outcome lists state fields by name", guess ? { fix: `did you mean \`${guess}\`?` } : {});
          continue;
        }
        if (!out.includes(item.name)) out.push(item.name);
      }
    });
    return out;
  }

  private withFile(file: string | undefined, fn: () => void) {
    const saved = this.fileOverride;
    if (file !== undefined) this.fileOverride = file === this.ast.file ? undefined : file;
    try {
      fn();
    } finally {
      this.fileOverride = saved;
    }
  }

  /** Type a scenario check: a bool over the final state, with `initial` for the start. */
  checkExpression(e: A.Expr, file?: string): IExpr {
    const saved = this.fileOverride;
    if (file !== undefined) this.fileOverride = file === this.ast.file ? undefined : file;
    this.context = "check";
    this.frames = [];
    this.calls = [];
    this.pushFrame();
    const x = this.expectBool(e, "A check");
    this.popFrame();
    this.fileOverride = saved;
    return x;
  }

  /** A solution step: a call of a query or action with constant arguments. */
  solutionStep(step: A.Expr, file?: string): IStep | undefined {
    const saved = this.fileOverride;
    if (file !== undefined) this.fileOverride = file === this.ast.file ? undefined : file;
    try {
      if (step.kind !== "Call" || step.callee.kind !== "Name") {
        this.report("ENV5004", step.span, "A solution step is a tool call: `tool(arg: value, ...)`");
        return undefined;
      }
      const name = step.callee.name;
      const tool = this.tools.get(name);
      if (!tool || tool.decl.toolKind === "fn") {
        const agentTools = [...this.tools.values()].filter((t) => t.decl.toolKind !== "fn").map((t) => t.decl.name.name);
        const guess = closest(name, agentTools);
        this.report("ENV5004", step.callee.span, tool ? `'${name}' is a helper (fn); agents call only queries and actions` : `Unknown tool '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        return undefined;
      }
      this.context = "check";
      this.frames = [];
      this.pushFrame();
      const args: Record<string, unknown> = {};
      const given = new Set<string>();
      let positional = 0;
      for (const a of step.args) {
        let p: IParam | undefined;
        if (a.name) {
          p = tool.params.find((x) => x.name === a.name!.name);
          if (!p) {
            const guess = closest(a.name.name, tool.params.map((x) => x.name));
            this.report("ENV2016", a.name.span, `'${name}' has no parameter '${a.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
            continue;
          }
        } else {
          p = tool.params[positional++];
          if (!p) {
            this.report("ENV3007", a.value.span, `'${name}' takes ${tool.params.length} argument${tool.params.length === 1 ? "" : "s"}`);
            continue;
          }
        }
        if (given.has(p.name)) {
          this.report("ENV5005", a.value.span, `'${p.name}' is given twice`);
          continue;
        }
        given.add(p.name);
        const x = this.expr(a.value, p.type);
        if (!this.expectAssignable(x.t, p.type, a.value.span)) continue;
        const value = constantOf(x);
        if (value === NOT_CONSTANT)
          this.report("ENV5005", a.value.span, "Solution arguments are constants: literals, lists, records or enum values", {
            fix: "write the value itself (ids made by new_id are deterministic: new_id(\"t\") gives \"t_1\", then \"t_2\")",
          });
        else Object.defineProperty(args, p.name, { value, enumerable: true, writable: true, configurable: true });
      }
      this.frames = [];
      for (const p of tool.params)
        if (p.required && !given.has(p.name)) this.report("ENV3008", step.span, `'${name}' needs '${p.name}'`, { fix: `add \`${p.name}: ...\`` });
      return { tool: name, args, span: step.span };
    } finally {
      this.fileOverride = saved;
    }
  }

  private initialField(e: Extract<A.Expr, { kind: "Member" }>): IExpr {
    const span = e.span;
    if (this.context !== "check") {
      this.report("ENV5015", e.object.span, "`initial` (the state at the start of a scenario) exists only in scenario checks");
      return { e: "lit", value: null, t: T.error, span };
    }
    const st = this.state.get(e.name.name);
    if (!st) {
      const guess = closest(e.name.name, this.state.keys());
      this.report("ENV2003", e.name.span, `The state has no field '${e.name.name}'`, guess ? { fix: `did you mean \`initial.${guess}\`?` } : {});
      return { e: "lit", value: null, t: T.error, span };
    }
    return { e: "state", field: st.name, table: !!st.table, initial: true, t: st.type, span };
  }

  // ---------- statements ----------

  private block(stmts: A.Stmt[], facts?: Map<string, Type>): IStmt[] {
    this.pushFrame();
    if (facts) this.narrow(facts);
    const out: IStmt[] = [];
    let exited = false;
    let warned = false;
    for (const s of stmts) {
      if (exited && !warned) {
        this.report("ENV4006", s.span, "This statement never runs: the block already ended");
        warned = true;
      }
      const r = this.statement(s);
      if (!r) continue;
      out.push(r);
      if (isExit(r)) exited = true;
    }
    this.popFrame();
    return out;
  }

  private message(e: A.Expr): IExpr {
    const m = this.expr(e, T.string);
    if (!isStringLike(m.t) && m.t.k !== "error") this.report("ENV3012", e.span, `A message must be a string, got ${typeToString(m.t)}`, { fix: 'write a string like "Order not found"' });
    return m;
  }

  private statement(s: A.Stmt): IStmt | undefined {
    const span = s.span;
    switch (s.kind) {
      case "Let": {
        const declared = s.type ? this.resolveType(s.type) : undefined;
        this.insertSlot = s.value;
        let value = this.expr(s.value, declared);
        let orElse: IExpr | undefined;
        let type = value.t;
        if (s.orElse) {
          orElse = this.message(s.orElse);
          if (value.e === "index" && (value.mode === "table" || value.mode === "map")) {
            value = { ...value, get: true };
            type = value.t;
          } else if (isOptional(value.t)) {
            type = stripOptional(value.t);
          } else if (value.t.k !== "error" && value.t.k !== "json") {
            this.report("ENV3017", s.value.span, `This value (${typeToString(value.t)}) can never be missing, so 'else' never applies`, { fix: "remove the `else` part" });
          }
        }
        if (declared) {
          this.expectAssignable(value.t.k === "optional" && s.orElse ? stripOptional(value.t) : value.t, declared, s.value.span);
          type = declared;
        }
        if (type.k === "void") this.report("ENV3001", s.value.span, "This expression has no value to bind");
        this.bind(s.name, type, "let", this.derivesFromState(value));
        return { s: "let", name: s.name.name, value, orElse, writable: false, span };
      }
      case "Assign":
        return this.assignment(s);
      case "ExprStmt": {
        this.insertSlot = s.expr;
        const expr = this.expr(s.expr);
        return { s: "expr", expr, span };
      }
      case "If": {
        const cond = this.expectBool(s.cond, "An if condition");
        const then = this.block(s.then.statements, factsOf(cond, true));
        const otherwise = s.otherwise ? this.block(s.otherwise.statements, factsOf(cond, false)) : undefined;
        if (!otherwise && alwaysExits(then)) this.narrow(factsOf(cond, false));
        return { s: "if", cond, then, otherwise, span };
      }
      case "For": {
        const iterable = this.expr(s.iterable);
        const it = iterable.t;
        let first: Type = T.error;
        let second: Type | undefined;
        if (it.k === "list") {
          if (s.second) { first = T.int; second = it.elem; } else first = it.elem;
        } else if (it.k === "table") {
          const ent = this.entities.get(it.entity)!.type;
          if (s.second) { first = T.string; second = ent; } else first = ent;
        } else if (it.k === "map") {
          first = it.key;
          second = it.value;
        } else if (it.k !== "error" && it.k !== "json") {
          this.report("ENV3014", s.iterable.span, `Cannot iterate over ${typeToString(it)}`, isOptional(it) ? { fix: "check it is not null first" } : {});
        }
        this.pushFrame();
        const loopFromState = this.derivesFromState(iterable);
        this.bind(s.name, first, "loop", loopFromState);
        if (s.second) this.bind(s.second, second ?? T.error, "loop", loopFromState);
        this.loopDepth++;
        const body = this.block(s.body.statements);
        this.loopDepth--;
        this.popFrame();
        return { s: "for", name: s.name.name, second: s.second?.name, iterable, body, writable: false, span };
      }
      case "Require": {
        const cond = this.expectBool(s.cond, "A require condition");
        const message = this.message(s.message);
        this.narrow(factsOf(cond, true));
        return { s: "require", cond, message, span };
      }
      case "Fail":
        return { s: "fail", message: this.message(s.message), span };
      case "Ensure": {
        const cond = this.expectBool(s.cond, "An ensure condition");
        // an ensure states what cannot happen (`ensure x != null` after a lookup an earlier
        // require makes certain): what follows may rely on it, as after a require
        const facts = factsOf(cond, true);
        this.narrow(facts);
        // an assertion made only of null tests (`ensure x != null`) is what the code after it
        // relies on: the emitter checks it even with checks off (a postcondition that happens to
        // test a field for null stays a postcondition)
        const narrows = facts.size > 0 && conjuncts(cond).every((c) => c.e === "binary" && c.op === "!=" && ((c.left.e === "lit" && c.left.value === null) || (c.right.e === "lit" && c.right.value === null)));
        return { s: "ensure", cond, message: s.message ? this.message(s.message) : undefined, ...(narrows ? { narrows: true } : {}), span };
      }
      case "Return": {
        const rt = this.currentTool?.returnType;
        if (!s.value) {
          if (rt && rt.k !== "error") this.report("ENV3018", span, `'${this.currentTool!.decl.name.name}' must return ${typeToString(rt)}`);
          return { s: "return", span };
        }
        if (!rt) {
          this.report("ENV4008", s.value.span, `'${this.currentTool?.decl.name.name ?? "this"}' declares no return type`, { fix: "add `-> Type` to the signature" });
          return { s: "return", value: this.expr(s.value), span };
        }
        const value = this.expr(s.value, rt);
        if (!assignable(value.t, rt))
          this.report(isOptional(value.t) && assignable(stripOptional(value.t), rt) ? "ENV3002" : "ENV3018", s.value.span,
            `Returns ${typeToString(value.t)} where ${typeToString(rt)} is declared`,
            isOptional(value.t) ? { fix: "check for null first, or declare the return type optional" } : {});
        return { s: "return", value, span };
      }
      case "Delete": {
        this.mutation(span, "delete");
        const t = s.target;
        if (t.kind !== "Index") {
          this.report("ENV4011", t.span, "delete takes a table or map entry, like `delete books[id]`");
          return undefined;
        }
        const target = this.expr(t);
        if (target.e !== "index" || (target.mode !== "table" && target.mode !== "map")) {
          if (target.t.k !== "error") this.report("ENV4011", t.span, "delete takes a table or map entry, like `delete books[id]`");
          return undefined;
        }
        if (target.mode === "map") this.checkPlace(target.object, t.span);
        return { s: "delete", target, span };
      }
      case "Break":
      case "Continue":
        if (this.loopDepth === 0) this.report("ENV4012", span, `'${s.kind.toLowerCase()}' outside a loop`);
        return { s: s.kind === "Break" ? "break" : "continue", span };
    }
  }

  private mutation(span: A.Span, what: string) {
    if (this.context === "query" || this.context === "invariant" || this.context === "check" || this.context === "default") {
      this.report("ENV4001", span, `${this.context === "query" ? `Query '${this.currentTool?.decl.name.name}'` : "This expression"} cannot change state (${what})`, {
        fix: this.context === "query" ? "declare it as an `action`" : undefined,
      });
    }
    this.writes = true;
  }

  private declaredType(target: IExpr): Type {
    if (target.e === "local") return this.lookupLocal(target.name)?.type ?? target.t;
    if (target.e === "state") return this.state.get(target.field)?.type ?? target.t;
    if (target.e === "member") {
      const ot = stripOptional(target.object.t);
      if (ot.k === "record") return ot.fields.find((f) => f.name === target.name)?.type ?? target.t;
    }
    return target.t;
  }

  /** Does this value come from the state (so that writing through it changes the state)? */
  private derivesFromState(e: IExpr): boolean {
    switch (e.e) {
      case "state":
      case "call":
      case "insert":
        return true;
      case "local":
        return this.lookupLocal(e.name)?.fromState ?? true;
      case "member":
      case "index":
        return this.derivesFromState(e.object);
      case "builtin":
        return e.args.length > 0 && this.derivesFromState(e.args[0]!);
      case "ternary":
        return this.derivesFromState(e.then) || this.derivesFromState(e.otherwise);
      case "binary":
        return e.op === "??" && (this.derivesFromState(e.left) || this.derivesFromState(e.right));
      default:
        return false;
    }
  }

  /** A write through `target`: a state change unless it only touches a fresh local value. */
  private effect(target: IExpr, span: A.Span, what: string) {
    if (this.derivesFromState(target)) this.mutation(span, what);
  }

  private assignment(s: Extract<A.Stmt, { kind: "Assign" }>): IStmt | undefined {
    const target = this.expr(s.target);
    const isLocalRebind = target.e === "local";
    if (!isLocalRebind) this.checkPlace(target, s.target.span);
    else {
      const local = this.lookupLocal(target.name);
      if (local?.kind === "param") this.report("ENV4009", s.target.span, `Parameter '${target.name}' is read-only`, { fix: `copy it first: \`let my_${target.name} = ${target.name}\`` });
      else if (local && local.kind !== "let") this.report("ENV4005", s.target.span, `'${target.name}' cannot be assigned`);
    }
    // assigning a whole local is not a state change; writing through state (or a local read from it) is
    if (!isLocalRebind) this.effect(target, s.span, "assignment");
    // the declared type, not a narrowed one: `x.note = null` is fine after `require x.note != null`
    const declared = this.declaredType(target);
    const value = this.expr(s.value, stripOptional(declared).k === "error" ? undefined : declared);
    const key = this.pathKey(target);
    if (key && declared !== target.t) this.frames[this.frames.length - 1]!.narrowed.set(key, declared);
    if (s.op !== "=") {
      const ok = (isNumeric(target.t) && isNumeric(value.t)) || (s.op === "+=" && (target.t.k === "string" || target.t.k === "list"));
      if (!ok) this.report("ENV3004", s.span, `'${s.op}' needs numbers (or strings/lists for +=), got ${typeToString(target.t)} and ${typeToString(value.t)}`);
      else if (target.t.k === "int" && value.t.k === "number") this.report("ENV3001", s.value.span, "Adding a number to an int field: round it first (`round(x)`)");
    } else this.expectAssignable(value.t, declared, s.value.span);
    return { s: "assign", target, op: s.op, value, span: s.span };
  }

  /** A place is a state field, a table/map entry or a path below one, or a path below a local. */
  private checkPlace(target: IExpr, span: A.Span) {
    if (target.e === "state") {
      if (target.table) this.report("ENV4005", span, `Cannot replace the whole table '${target.field}'`, { fix: "insert, delete or assign its records' fields" });
      return;
    }
    if (target.e === "member") {
      const objT = stripOptional(target.object.t);
      if (objT.k === "record" && objT.entity) {
        const ent = this.entities.get(objT.entity);
        if (ent && ent.key === target.name) {
          this.report("ENV4003", span, `'${target.name}' is the key of ${ent.name}; it cannot be changed`, {
            fix: "insert a new record with the new key and delete the old one",
          });
        }
      }
      this.checkPlaceRoot(target.object, span);
      return;
    }
    if (target.e === "index") {
      if (target.mode === "string") this.report("ENV4005", span, "Strings cannot be changed in place");
      if (target.mode === "table") {
        this.report("ENV4005", span, "Assign fields of a record (`t[k].f = v`) or use insert; a whole table entry cannot be replaced", { fix: "use `insert` for new records" });
        return;
      }
      this.checkPlaceRoot(target.object, span);
      return;
    }
    if (target.t.k !== "error") this.report("ENV4005", span, "This is not something that can be assigned", { fix: "assign a state field, a record field, a list element or a map entry" });
  }

  private checkPlaceRoot(obj: IExpr, span: A.Span): void {
    if (obj.e === "local") {
      const local = this.lookupLocal(obj.name);
      if (local?.kind === "param") this.report("ENV4009", span, `Parameter '${obj.name}' is read-only`, { fix: "look the record up again by its key and change that" });
      return;
    }
    if (obj.e === "state") return;
    if (obj.e === "member" || obj.e === "index") return this.checkPlaceRoot(obj.object, span);
    if (obj.e === "builtin" && (obj.fn.endsWith(".find") || obj.fn.endsWith(".first") || obj.fn.endsWith(".last") || obj.fn.endsWith(".get"))) return;
    if (obj.t.k !== "error") this.report("ENV4005", span, "Only paths rooted in the state or a local variable can be assigned");
  }

  // ---------- expressions ----------

  private expectBool(e: A.Expr, what: string): IExpr {
    const x = this.expr(e, T.bool);
    if (x.t.k !== "bool" && x.t.k !== "error" && x.t.k !== "json")
      this.report("ENV3003", e.span, `${what} must be a bool, got ${typeToString(x.t)}`, isOptional(x.t) ? { fix: "compare with null: `x != null`" } : {});
    return x;
  }

  private expectAssignable(from: Type, to: Type, span: A.Span) {
    if (assignable(from, to)) return true;
    if (isOptional(from) && assignable(stripOptional(from), to)) {
      this.report("ENV3002", span, `This value may be null (${typeToString(from)}), but ${typeToString(to)} is required`, {
        fix: "check it first (`require x != null else ...`) or add a fallback with `??`",
      });
    } else this.report("ENV3001", span, `Expected ${typeToString(to)}, got ${typeToString(from)}`);
    return false;
  }

  expr(e: A.Expr, expected?: Type): IExpr {
    const span = e.span;
    switch (e.kind) {
      case "Int":
        return { e: "lit", value: e.value, t: T.int, span };
      case "Number":
        return { e: "lit", value: e.value, t: T.number, span };
      case "Bool":
        return { e: "lit", value: e.value, t: T.bool, span };
      case "Null":
        return { e: "lit", value: null, t: expected ? optional(expected) : T.null, span };
      case "Error":
        return { e: "lit", value: null, t: T.error, span };
      case "String": {
        const exp = expected ? stripOptional(expected) : undefined;
        if (e.parts.every((p) => typeof p === "string")) {
          const s = (e.parts as string[]).join("");
          if (exp?.k === "enum") {
            if (!exp.values.includes(s)) {
              const guess = closest(s, exp.values);
              this.report("ENV2010", span, `"${s}" is not a value of ${typeToString(exp)}`, { fix: guess ? `did you mean "${guess}"?` : `use one of ${exp.values.map((v) => JSON.stringify(v)).join(", ")}` });
              return { e: "lit", value: s, t: T.error, span };
            }
            return { e: "lit", value: s, t: exp, span };
          }
          if (exp?.k === "date" || exp?.k === "datetime") {
            // a literal where a date is expected is one: the calendar decides (runtime/dates.ts)
            const why = dateValueProblem(exp.k, s);
            if (!why) return { e: "lit", value: s, t: exp, span };
            this.report("ENV3001", span, why, { fix: exp.k === "date" ? "write a real date, like \"2024-05-01\"" : "write a real datetime, like \"2024-05-01T09:30:00\"" });
            return { e: "lit", value: s, t: T.error, span };
          }
          if (exp?.k === "ref") return { e: "lit", value: s, t: exp, span };
          return { e: "lit", value: s, t: T.string, span };
        }
        const parts = e.parts.map((p) => (typeof p === "string" ? p : this.expr(p)));
        for (const p of parts) if (typeof p !== "string" && p.t.k === "void") this.report("ENV3001", p.span, "This expression has no value to show");
        return { e: "str", parts, t: T.string, span };
      }
      case "Name":
        return this.name(e, expected);
      case "List": {
        const exp = expected ? stripOptional(expected) : undefined;
        const elemExp = exp?.k === "list" ? exp.elem : undefined;
        const items = e.items.map((i) => this.expr(i, elemExp));
        let elem: Type = elemExp ?? (items.length ? items[0]!.t : T.error);
        if (!elemExp && items.length) {
          for (const it of items.slice(1)) {
            const j = join(elem, it.t);
            if (!j) {
              this.report("ENV3001", it.span, `List items must share one type: ${typeToString(elem)} and ${typeToString(it.t)}`);
              break;
            }
            elem = j;
          }
        } else if (elemExp) for (const it of items) this.expectAssignable(it.t, elemExp, it.span);
        return { e: "list", items, t: { k: "list", elem }, span };
      }
      case "RecordLit":
        return this.recordLiteral(e, expected);
      case "Member":
        return this.member(e);
      case "Index":
        return this.index(e);
      case "Call":
        return this.call(e, expected);
      case "Unary": {
        if (e.op === "not") {
          const operand = this.expectBool(e.operand, "The operand of 'not'");
          return { e: "unary", op: "not", operand, t: T.bool, span };
        }
        const operand = this.expr(e.operand);
        if (!isNumeric(operand.t)) this.report("ENV3004", span, `Cannot negate ${typeToString(operand.t)}`);
        return { e: "unary", op: "-", operand, t: operand.t.k === "int" ? T.int : T.number, span };
      }
      case "Binary":
        return this.binary(e, expected);
      case "Ternary": {
        const cond = this.expectBool(e.cond, "A condition");
        this.pushFrame();
        this.narrow(factsOf(cond, true));
        const then = this.expr(e.then, expected);
        this.popFrame();
        this.pushFrame();
        this.narrow(factsOf(cond, false));
        const otherwise = this.expr(e.otherwise, expected ?? then.t);
        this.popFrame();
        const t = join(then.t, otherwise.t);
        if (!t) this.report("ENV3001", span, `The two branches have different types: ${typeToString(then.t)} and ${typeToString(otherwise.t)}`);
        return { e: "ternary", cond, then, otherwise, t: t ?? T.error, span };
      }
      case "Lambda":
        this.report("ENV3009", span, "A function (`x => ...`) can only be given to a collection method like filter or map");
        return { e: "lit", value: null, t: T.error, span };
      case "Quantifier": {
        const collection = this.expr(e.collection);
        const elem = this.elementType(collection, e.collection.span);
        this.pushFrame();
        this.bind(e.variable, elem, "lambda");
        const where = e.where ? this.expectBool(e.where, "A where clause") : undefined;
        if (where) this.narrow(factsOf(where, true));
        const body = this.expectBool(e.body, `The body of '${e.quantifier}'`);
        this.popFrame();
        return { e: "quant", quantifier: e.quantifier, variable: e.variable.name, collection, where, body, t: T.bool, span };
      }
      case "Insert": {
        if (this.insertSlot !== e && (this.context === "action" || this.context === "fn"))
          this.report("ENV4010", span, "insert stands alone: as a statement or as the value of a `let`", { fix: "insert in a `for` loop, then use the records" });
        this.mutation(span, "insert");
        const field = this.state.get(e.table.name);
        if (!field || !field.table) {
          if (!field) {
            const guess = closest(e.table.name, [...this.state.values()].filter((f) => f.table).map((f) => f.name));
            this.report("ENV2001", e.table.span, `No table named '${e.table.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
          } else this.report("ENV2017", e.table.span, `'${e.table.name}' is not a table`);
          this.expr(e.value);
          return { e: "lit", value: null, t: T.error, span };
        }
        const entity = this.entities.get(field.table)!;
        if (entity.externalKey)
          this.report("ENV2019", e.table.span, `Records of ${entity.name} do not hold their key (external), so an insert cannot tell where to store one`, {
            fix: `give ${entity.name} a key field (\`${entity.key}: string\`) and drop \`external\``,
          });
        const value = this.expr(e.value, entity.type);
        if (e.value.kind === "RecordLit") {
          const given = new Set(e.value.fields.map((f) => f.name.name));
          const missing = entity.type.fields.filter((f) => !given.has(f.name) && !f.hasDefault && !isOptional(f.type)).map((f) => f.name);
          if (missing.length)
            this.report("ENV4004", span, `Insert into '${e.table.name}' misses required field${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`, {
              fix: `give ${missing.map((m) => `\`${m}\``).join(", ")}`,
            });
        } else this.expectAssignable(value.t, entity.type, e.value.span);
        return { e: "insert", table: e.table.name, value, t: entity.type, span };
      }
    }
  }

  private name(e: Extract<A.Expr, { kind: "Name" }>, expected?: Type): IExpr {
    const span = e.span;
    const local = this.lookupLocal(e.name);
    if (local) {
      local.used = true;
      const t = this.narrowedType(e.name) ?? local.type;
      return { e: "local", name: e.name, t, span };
    }
    const st = this.state.get(e.name);
    if (st) {
      const t = this.narrowedType(e.name) ?? st.type;
      return { e: "state", field: e.name, table: !!st.table, t, span };
    }
    const exp = expected ? stripOptional(expected) : undefined;
    if (exp?.k === "enum" && exp.values.includes(e.name)) return { e: "lit", value: e.name, t: exp, span };
    // in scenario checks, what the agent said (the check's third argument in emitted code)
    if (e.name === "reply" && this.context === "check") {
      this.replyRead = true;
      return { e: "local", name: "reply", t: T.string, span };
    }
    if (e.name === "initial") {
      this.report("ENV5015", span, this.context === "check"
        ? "`initial` is the whole state at the start; read one of its fields, like `initial." + ([...this.state.keys()][0] ?? "field") + "`"
        : "`initial` (the state at the start of a scenario) exists only in scenario checks");
      return { e: "lit", value: null, t: T.error, span };
    }
    const owners = this.enumsByValue.get(e.name) ?? [];
    if (owners.length === 1) {
      const en = owners[0]!;
      return { e: "lit", value: e.name, t: { k: "enum", name: en.name, values: en.values }, span };
    }
    if (owners.length > 1) {
      this.report("ENV2001", span, `'${e.name}' is a value of several enums (${owners.map((o) => o.name).join(", ")})`, { fix: `qualify it: \`${owners[0]!.name}.${e.name}\`` });
      return { e: "lit", value: e.name, t: T.error, span };
    }
    const candidates = [
      ...this.frames.flatMap((f) => [...f.locals.keys()]),
      ...this.state.keys(),
      ...[...this.enums.values()].flatMap((en) => en.values),
    ];
    const guess = closest(e.name, candidates);
    if (this.tools.has(e.name) || GLOBALS[e.name] || METHOD_ALIASES.has(e.name))
      this.report("ENV2001", span, `'${e.name}' is a function; call it with (...)`);
    else if (this.enums.has(e.name)) this.report("ENV2001", span, `'${e.name}' is an enum; use one of its values, like \`${e.name}.${this.enums.get(e.name)!.values[0] ?? "x"}\``);
    else this.report("ENV2001", span, `Unknown name '${e.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
    return { e: "lit", value: null, t: T.error, span };
  }

  private recordLiteral(e: Extract<A.Expr, { kind: "RecordLit" }>, expected?: Type): IExpr {
    const span = e.span;
    const exp = expected ? stripOptional(expected) : undefined;
    const seen = new Set<string>();
    const fields: { name: string; value: IExpr }[] = [];
    if (exp?.k === "map") {
      for (const f of e.fields) {
        fields.push({ name: f.name.name, value: this.expr(f.value, exp.value) });
        this.expectAssignable(fields.at(-1)!.value.t, exp.value, f.value.span);
      }
      return { e: "record", fields, t: exp, span };
    }
    const target = exp?.k === "record" ? exp : undefined;
    for (const f of e.fields) {
      if (seen.has(f.name.name)) {
        this.report("ENV2005", f.name.span, `Field '${f.name.name}' is given twice`);
        continue;
      }
      seen.add(f.name.name);
      const ft = target?.fields.find((x) => x.name === f.name.name);
      if (target && !ft) {
        const guess = closest(f.name.name, target.fields.map((x) => x.name));
        this.report("ENV3015", f.name.span, `${typeToString(target)} has no field '${f.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        this.expr(f.value);
        continue;
      }
      const value = this.expr(f.value, ft?.type);
      if (ft) this.expectAssignable(value.t, ft.type, f.value.span);
      fields.push({ name: f.name.name, value });
    }
    if (target) {
      const missing = target.fields.filter((f) => !seen.has(f.name) && !f.hasDefault && !isOptional(f.type));
      // inserts report their own, more specific diagnostic
      if (missing.length && !target.entity)
        this.report("ENV3015", span, `${typeToString(target)} needs field${missing.length > 1 ? "s" : ""} ${missing.map((m) => m.name).join(", ")}`);
      return { e: "record", fields, t: target, span };
    }
    return {
      e: "record",
      fields,
      t: { k: "record", fields: fields.map((f) => ({ name: f.name, type: f.value.t, hasDefault: false })) },
      span,
    };
  }

  private pathKey(e: IExpr): string | undefined {
    if (e.e === "local") return e.name;
    if (e.e === "state") return e.initial ? `initial.${e.field}` : e.field;
    if (e.e === "member") {
      const p = this.pathKey(e.object);
      return p ? `${p}.${e.name}` : undefined;
    }
    return undefined;
  }

  private member(e: Extract<A.Expr, { kind: "Member" }>): IExpr {
    const span = e.span;
    // qualified enum value
    if (e.object.kind === "Name" && !this.lookupLocal(e.object.name) && !this.state.has(e.object.name) && this.enums.has(e.object.name)) {
      const en = this.enums.get(e.object.name)!;
      if (!en.values.includes(e.name.name)) {
        const guess = closest(e.name.name, en.values);
        this.report("ENV2010", e.name.span, `'${e.name.name}' is not a value of ${en.name}`, { fix: guess ? `did you mean \`${en.name}.${guess}\`?` : `use one of ${en.values.join(", ")}` });
        return { e: "lit", value: e.name.name, t: T.error, span };
      }
      return { e: "lit", value: e.name.name, t: { k: "enum", name: en.name, values: en.values }, span };
    }
    if (e.object.kind === "Name" && e.object.name === "initial" && !this.lookupLocal("initial") && !this.state.has("initial"))
      return this.initialField(e);
    const object = this.expr(e.object);
    const name = e.name.name;
    const mk = (t: Type): IExpr => {
      const node: IExpr = { e: "member", object, name, t, span };
      const key = this.pathKey(node);
      const narrowed = key ? this.narrowedType(key) : undefined;
      return narrowed ? { ...node, t: narrowed } : node;
    };
    const ot = object.t;
    if (ot.k === "error" || ot.k === "json") return mk(ot);
    if (isOptional(ot)) {
      this.report("ENV3002", e.object.span, `This value may be null (${typeToString(ot)}); check it before reading '.${name}'`, {
        fix: "use `require x != null else \"...\"`, `if x != null { ... }` or `let x = ... else \"...\"`",
      });
      return mk(T.error);
    }
    if (ot.k === "record") {
      const f = ot.fields.find((x) => x.name === name);
      if (!f) {
        const guess = closest(name, ot.fields.map((x) => x.name));
        this.report("ENV2003", e.name.span, `${typeToString(ot)} has no field '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        return mk(T.error);
      }
      return mk(f.type);
    }
    if (ot.k === "pair" && (name === "first" || name === "second")) return mk(name === "first" ? ot.first : ot.second);
    if ((ot.k === "list" || isStringLike(ot) || ot.k === "table" || ot.k === "map") && name === "length")
      return { e: "builtin", fn: `${receiverKind(ot)}.len`, args: [object], t: T.int, span };
    this.report("ENV2003", e.name.span, `${typeToString(ot)} has no field '${name}'`);
    return mk(T.error);
  }

  private index(e: Extract<A.Expr, { kind: "Index" }>): IExpr {
    const span = e.span;
    const object = this.expr(e.object);
    const ot = object.t;
    if (ot.k === "table") {
      const index = this.expr(e.index, T.string);
      if (!isStringLike(index.t)) this.report("ENV3005", e.index.span, `Table keys are strings, got ${typeToString(index.t)}`);
      return { e: "index", object, index, mode: "table", get: false, t: this.entities.get(ot.entity)!.type, span };
    }
    if (ot.k === "map") {
      const index = this.expr(e.index, ot.key);
      if (!isStringLike(index.t)) this.report("ENV3005", e.index.span, `Map keys are strings, got ${typeToString(index.t)}`);
      return { e: "index", object, index, mode: "map", get: false, t: ot.value, span };
    }
    if (ot.k === "list" || ot.k === "string") {
      const index = this.expr(e.index, T.int);
      if (index.t.k !== "int" && index.t.k !== "error") this.report("ENV3005", e.index.span, `List and string positions are ints, got ${typeToString(index.t)}`);
      return { e: "index", object, index, mode: ot.k === "list" ? "list" : "string", get: false, t: ot.k === "list" ? ot.elem : T.string, span };
    }
    const index = this.expr(e.index);
    if (ot.k === "json" || ot.k === "error") return { e: "index", object, index, mode: "json", get: false, t: ot, span };
    this.report("ENV3005", e.object.span, `Cannot index ${typeToString(ot)}`, isOptional(ot) ? { fix: "check it is not null first" } : {});
    return { e: "index", object, index, mode: "json", get: false, t: T.error, span };
  }

  private elementType(coll: IExpr, span: A.Span): Type {
    const t = coll.t;
    if (t.k === "list") return t.elem;
    if (t.k === "table") return this.entities.get(t.entity)!.type;
    if (t.k === "map") return t.value;
    if (t.k === "error" || t.k === "json") return t;
    this.report("ENV3014", span, `Cannot iterate over ${typeToString(t)}`, isOptional(t) ? { fix: "check it is not null first" } : {});
    return T.error;
  }

  private lambda(arg: A.Expr, params: Type[], pairElem?: Type): IExpr {
    if (arg.kind !== "Lambda") {
      this.report("ENV3009", arg.span, "Expected a function like `x => x.price`");
      this.expr(arg);
      return { e: "lit", value: null, t: T.error, span: arg.span };
    }
    let types = params;
    let destructure = false;
    if (arg.params.length === 2 && pairElem?.k === "pair") {
      types = [pairElem.first, pairElem.second];
      destructure = true;
    } else if (arg.params.length !== params.length) {
      this.report("ENV3009", arg.span, `This function takes ${arg.params.length} parameter${arg.params.length === 1 ? "" : "s"}; ${params.length} expected`);
    }
    this.pushFrame();
    arg.params.forEach((p, i) => this.bind(p, types[i] ?? T.error, "lambda"));
    const body = this.expr(arg.body);
    this.popFrame();
    return { e: "lambda", params: arg.params.map((p) => p.name), body, destructure, t: { k: "lambda", params: types, result: body.t }, span: arg.span };
  }

  private call(e: Extract<A.Expr, { kind: "Call" }>, expected?: Type): IExpr {
    const span = e.span;
    if (e.callee.kind === "Member") {
      const recvAst = e.callee.object;
      // Enum.value(...) makes no sense; methods only
      return this.method(recvAst, e.callee.name, e.args, span);
    }
    if (e.callee.kind !== "Name") {
      this.report("ENV3006", e.callee.span, "Only tools, helpers and built-in functions can be called");
      return { e: "lit", value: null, t: T.error, span };
    }
    const name = e.callee.name;
    if (this.lookupLocal(name) || this.state.has(name)) {
      this.report("ENV3006", e.callee.span, `'${name}' is a value, not a function`);
      return { e: "lit", value: null, t: T.error, span };
    }
    const tool = this.tools.get(name);
    if (tool) return this.toolCall(tool, e, span);
    if (METHOD_ALIASES.has(name) && e.args.length >= 1 && !(name === "len" && false)) {
      return this.method(e.args[0]!.value, { name, span: e.callee.span }, e.args.slice(1), span);
    }
    if (name === "min" || name === "max") {
      if (e.args.length === 1) return this.method(e.args[0]!.value, { name, span: e.callee.span }, [], span);
    }
    const g = GLOBALS[name];
    if (!g) {
      const guess = closest(name, [...this.tools.keys(), ...Object.keys(GLOBALS), ...METHOD_ALIASES]);
      this.report("ENV2009", e.callee.span, `Unknown function '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
      for (const a of e.args) this.expr(a.value);
      return { e: "lit", value: null, t: T.error, span };
    }
    if (e.args.some((a) => a.name)) this.report("ENV2016", span, `Built-in '${name}' takes positional arguments only`);
    if (e.args.length < g.minArgs || (!g.variadic && e.args.length > g.params.length)) {
      this.report("ENV3007", span, `'${name}' takes ${g.variadic ? `at least ${g.minArgs}` : g.minArgs === g.params.length ? g.minArgs : `${g.minArgs} to ${g.params.length}`} argument${g.params.length === 1 ? "" : "s"}, got ${e.args.length}`);
    }
    const args = e.args.map((a, i) => {
      const pt = g.params[Math.min(i, g.params.length - 1)]!;
      const x = this.expr(a.value, pt.k === "json" ? undefined : pt);
      if (pt.k !== "json") this.expectAssignable(x.t, pt, a.value.span);
      // days_between and date_of take strings: a literal one must still be a date or datetime
      if ((name === "days_between" || name === "date_of") && x.e === "lit" && typeof x.value === "string" && !isDate(x.value) && !isDatetime(x.value))
        this.report("ENV3001", a.value.span, `${JSON.stringify(x.value)} is not a date or datetime (like 2024-05-01 or 2024-05-01T09:30:00)`);
      return x;
    });
    if (name === "new_id" && this.context !== "action" && this.context !== "fn") this.mutation(span, "new_id draws from the id counter");
    else if (name === "new_id") this.writes = true;
    const r = g.result(args.map((a) => a.t));
    if (typeof r === "string") {
      this.report("ENV3001", span, r);
      return { e: "builtin", fn: `g.${name}`, args, t: T.error, span };
    }
    void expected;
    return { e: "builtin", fn: `g.${name}`, args, t: r, span };
  }

  private toolCall(tool: ToolSig, e: Extract<A.Expr, { kind: "Call" }>, span: A.Span): IExpr {
    const name = tool.decl.name.name;
    if (this.context === "check")
      this.report("ENV5016", e.callee.span, `A check cannot call '${name}': checks read the final state directly`, {
        fix: "write the condition over the state, e.g. `accounts[\"A1\"].balance == 50`",
      });
    this.calls.push({ callee: name, span });
    const slots: (IExpr | undefined)[] = tool.params.map(() => undefined);
    let positional = 0;
    for (const a of e.args) {
      let idx: number;
      if (a.name) {
        idx = tool.params.findIndex((p) => p.name === a.name!.name);
        if (idx < 0) {
          const guess = closest(a.name.name, tool.params.map((p) => p.name));
          this.report("ENV2016", a.name.span, `'${name}' has no parameter '${a.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
          this.expr(a.value);
          continue;
        }
      } else idx = positional++;
      const p = tool.params[idx];
      if (!p) {
        this.report("ENV3007", a.value.span, `'${name}' takes ${tool.params.length} argument${tool.params.length === 1 ? "" : "s"}`);
        this.expr(a.value);
        continue;
      }
      const x = this.expr(a.value, p.type);
      this.expectAssignable(x.t, p.type, a.value.span);
      slots[idx] = x;
    }
    const args = tool.params.map((p, i) => {
      const given = slots[i];
      if (given) return given;
      if (p.required) this.report("ENV3008", span, `Missing argument '${p.name}' for '${name}'`);
      return { e: "lit", value: (p.hasDefault ? p.default : null) as never, t: p.type, span } as IExpr;
    });
    return { e: "call", callee: name, args, t: tool.returnType ?? T.void, span };
  }

  private method(recvAst: A.Expr, nameId: { name: string; span: A.Span }, rawArgs: A.Arg[], span: A.Span): IExpr {
    const name = nameId.name;
    const recv = this.expr(recvAst);
    const rt = recv.t;
    const errorOut = (): IExpr => {
      for (const a of rawArgs) if (a.value.kind !== "Lambda") this.expr(a.value);
      return { e: "lit", value: null, t: T.error, span };
    };
    if (rt.k === "error" || rt.k === "json") return errorOut();
    if (isOptional(rt)) {
      this.report("ENV3002", recvAst.span, `This value may be null (${typeToString(rt)}); check it before calling '${name}'`);
      return errorOut();
    }
    const kind = receiverKind(rt);
    // keyed: tables and maps
    if ((rt.k === "table" || rt.k === "map") && (KEYED_METHODS as readonly string[]).includes(name)) {
      const valueT = rt.k === "table" ? this.entities.get(rt.entity)!.type : rt.value;
      const keyT = rt.k === "table" ? T.string : rt.key;
      const args = rawArgs.map((a) => this.expr(a.value, keyT));
      const want = name === "get" ? 1 : 0;
      if (args.length !== want) this.report("ENV3007", span, `'${name}' takes ${want} argument${want === 1 ? "" : "s"}`);
      const t: Type =
        name === "keys" ? { k: "list", elem: keyT } :
        name === "values" ? { k: "list", elem: valueT } :
        name === "entries" ? { k: "list", elem: { k: "pair", first: keyT, second: valueT } } :
        name === "get" ? optional(valueT) : T.int;
      return { e: "builtin", fn: `${kind}.${name}`, args: [recv, ...args], t, span };
    }
    let sig: MethodSig | undefined;
    let elem: Type = T.error;
    if (rt.k === "list" || rt.k === "table") {
      elem = this.elementType(recv, recvAst.span);
      sig = COLLECTION_METHODS[name] ?? (rt.k === "list" ? LIST_MUTATORS[name] : undefined);
    } else if (isStringLike(rt)) {
      sig = STRING_METHODS[name];
      elem = T.string;
    } else if (rt.k === "map" && (name === "contains" || name === "count")) {
      sig = COLLECTION_METHODS[name];
      elem = rt.value;
    }
    if (!sig) {
      const pool = rt.k === "list" ? [...Object.keys(COLLECTION_METHODS), ...Object.keys(LIST_MUTATORS)] :
        rt.k === "table" ? [...Object.keys(COLLECTION_METHODS), ...KEYED_METHODS] :
        rt.k === "map" ? [...KEYED_METHODS] : isStringLike(rt) ? Object.keys(STRING_METHODS) : [];
      const guess = closest(name, pool);
      this.report("ENV2014", nameId.span, `${typeToString(rt)} has no method '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
      return errorOut();
    }
    if (rawArgs.some((a) => a.name)) this.report("ENV2016", span, `Method '${name}' takes positional arguments only`);
    if (rawArgs.length < sig.minArgs || rawArgs.length > sig.args.length) {
      this.report("ENV3007", span, `'${name}' takes ${sig.minArgs === sig.args.length ? sig.minArgs : `${sig.minArgs} to ${sig.args.length}`} argument${sig.args.length === 1 ? "" : "s"}, got ${rawArgs.length}`);
      return errorOut();
    }
    if (sig.mutates) {
      // the list itself is changed in place: its root must be writable, like an assignment's
      if (recv.e === "local" || recv.e === "state") this.checkPlaceRoot(recv, span);
      else this.checkPlace(recv, span);
      this.effect(recv, span, name);
    }
    const args: IExpr[] = [];
    const resultArgs: Type[] = [];
    rawArgs.forEach((a, i) => {
      const spec = sig!.args[i]!;
      if (spec.kind === "lambda") {
        const lam = this.lambda(a.value, [elem], elem);
        args.push(lam);
        resultArgs.push(lam.t.k === "lambda" ? lam.t.result : T.error);
      } else {
        let pt: Type | undefined;
        if (["contains", "index_of", "append", "remove"].includes(name) && (rt.k === "list" || rt.k === "table")) pt = elem;
        else if (name === "insert_at") pt = i === 0 ? T.int : elem;
        else if (name === "slice") pt = T.int;
        else if (kind === "str" || name === "join") pt = T.string;
        const x = this.expr(a.value, pt);
        if (pt) this.expectAssignable(x.t, pt, a.value.span);
        args.push(x);
        resultArgs.push(x.t);
      }
    });
    const r = sig.result(elem, resultArgs);
    if (typeof r === "string") {
      this.report(r.includes("must return a bool") ? "ENV3003" : "ENV3001", span, r[0]!.toUpperCase() + r.slice(1));
      return { e: "builtin", fn: `${kind}.${sig.id}`, args: [recv, ...args], t: T.error, span };
    }
    return { e: "builtin", fn: `${kind}.${sig.id}`, args: [recv, ...args], t: r, span };
  }

  private binary(e: Extract<A.Expr, { kind: "Binary" }>, expected?: Type): IExpr {
    const span = e.span;
    const op = e.op;
    if (op === "and" || op === "or") {
      const left = this.expectBool(e.left, `The left side of '${op}'`);
      this.pushFrame();
      this.narrow(factsOf(left, op === "and"));
      const right = this.expectBool(e.right, `The right side of '${op}'`);
      this.popFrame();
      return { e: "binary", op, left, right, t: T.bool, span };
    }
    if (op === "??") {
      const left = this.expr(e.left, expected);
      const right = this.expr(e.right, expected ?? stripOptional(left.t));
      if (!isOptional(left.t) && left.t.k !== "error" && left.t.k !== "json")
        this.report("ENV3001", e.left.span, `'??' needs an optional value on the left; ${typeToString(left.t)} is never null`);
      const t = join(stripOptional(left.t), right.t);
      if (!t) this.report("ENV3001", span, `'??' sides differ: ${typeToString(stripOptional(left.t))} and ${typeToString(right.t)}`);
      return { e: "binary", op, left, right, t: t ?? T.error, span };
    }
    if (op === "==" || op === "!=") {
      // a bare literal or enum name takes its meaning from the other side: check that side first
      const leftIsLiteral = e.left.kind === "String" || (e.left.kind === "Name" && !this.lookupLocal(e.left.name) && !this.state.has(e.left.name));
      let l: IExpr;
      let right: IExpr;
      if (leftIsLiteral) {
        right = this.expr(e.right);
        l = this.expr(e.left, right.t.k === "null" ? undefined : right.t);
      } else {
        l = this.expr(e.left);
        right = this.expr(e.right, l.t.k === "null" ? undefined : l.t);
      }
      if (!comparableTypes(l.t, right.t))
        this.report("ENV3016", e.opSpan, `${typeToString(l.t)} and ${typeToString(right.t)} are never equal`, { fix: "compare values of the same type" });
      return { e: "binary", op, left: l, right, t: T.bool, span };
    }
    if (op === "in" || op === "not in") {
      const right = this.expr(e.right);
      const rt = right.t;
      let left: IExpr;
      if (rt.k === "table" || rt.k === "map") {
        left = this.expr(e.left, rt.k === "map" ? rt.key : T.string);
        if (!isStringLike(left.t)) this.report("ENV3004", e.left.span, `Keys are strings, got ${typeToString(left.t)}`);
      } else if (rt.k === "list") {
        left = this.expr(e.left, rt.elem);
        if (!comparableTypes(left.t, rt.elem)) this.report("ENV3004", e.left.span, `A ${typeToString(left.t)} is never in a ${typeToString(rt)}`);
      } else if (isStringLike(rt)) {
        left = this.expr(e.left, T.string);
        if (!isStringLike(left.t)) this.report("ENV3004", e.left.span, `Only strings can be found in a string, got ${typeToString(left.t)}`);
      } else {
        left = this.expr(e.left);
        if (rt.k !== "error" && rt.k !== "json") this.report("ENV3004", e.right.span, `'in' needs a table, map, list or string on the right, got ${typeToString(rt)}`);
      }
      return { e: "binary", op, left, right, t: T.bool, span };
    }
    const left = this.expr(e.left);
    const right = this.expr(e.right, ["<", "<=", ">", ">="].includes(op) ? left.t : undefined);
    const lt = left.t;
    const rtt = right.t;
    const bad = (t: Type = T.error) => {
      if (lt.k !== "error" && rtt.k !== "error") {
        const opt = isOptional(lt) || isOptional(rtt);
        this.report(opt ? "ENV3002" : "ENV3004", e.opSpan, `Cannot apply '${op}' to ${typeToString(lt)} and ${typeToString(rtt)}`, opt ? { fix: "check for null first, or use `??`" } : {});
      }
      return { e: "binary", op, left, right, t, span } as IExpr;
    };
    if (["<", "<=", ">", ">="].includes(op)) {
      const ok = (isNumeric(lt) && isNumeric(rtt)) || (isStringLike(lt) && isStringLike(rtt));
      return ok ? { e: "binary", op, left, right, t: T.bool, span } : bad(T.bool);
    }
    if (op === "+") {
      if (isNumeric(lt) && isNumeric(rtt)) return { e: "binary", op, left, right, t: lt.k === "int" && rtt.k === "int" ? T.int : T.number, span };
      if (isStringLike(lt) && isStringLike(rtt) && lt.k !== "json") return { e: "binary", op, left, right, t: T.string, span };
      if (lt.k === "list" && rtt.k === "list") {
        const j = join(lt, rtt);
        return j ? { e: "binary", op, left, right, t: j, span } : bad();
      }
      return bad();
    }
    if (isNumeric(lt) && isNumeric(rtt)) {
      const t = op === "/" ? T.number : lt.k === "int" && rtt.k === "int" ? T.int : T.number;
      return { e: "binary", op, left, right, t, span };
    }
    return bad();
  }
}

// ---------- helpers ----------

function receiverKind(t: Type): string {
  if (t.k === "table") return "table";
  if (t.k === "map") return "map";
  if (t.k === "list") return "list";
  return "str";
}

export function assignable(from: Type, to: Type): boolean {
  if (from.k === "error" || to.k === "error" || from.k === "json" || to.k === "json") return true;
  if (to.k === "optional") {
    if (from.k === "null") return true;
    return assignable(from.k === "optional" ? from.inner : from, to.inner);
  }
  if (from.k === "null" || from.k === "optional") return false;
  switch (to.k) {
    case "number":
      return from.k === "int" || from.k === "number";
    case "string":
      return isStringLike(from);
    case "ref":
      return from.k === "string" || (from.k === "ref" && from.entity === to.entity);
    case "date":
    case "datetime":
      return from.k === to.k;
    case "enum":
      return from.k === "enum" && from.values.every((v) => to.values.includes(v));
    case "list":
      return from.k === "list" && assignable(from.elem, to.elem);
    case "map":
      return from.k === "map" && assignable(from.value, to.value);
    case "pair":
      return from.k === "pair" && assignable(from.first, to.first) && assignable(from.second, to.second);
    case "record": {
      if (from.k !== "record") return false;
      if (from === to || (from.name && from.name === to.name)) return true;
      return to.fields.every((f) => {
        const g = from.fields.find((x) => x.name === f.name);
        return g ? assignable(g.type, f.type) : f.hasDefault || isOptional(f.type);
      });
    }
    default:
      return from.k === to.k;
  }
}

function comparableTypes(a: Type, b: Type): boolean {
  const x = stripOptional(a);
  const y = stripOptional(b);
  if (x.k === "null" || y.k === "null") return true;
  if (x.k === "enum" && y.k === "enum") return x.values.some((v) => y.values.includes(v));
  if (isStringLike(x) && isStringLike(y)) return true;
  return assignable(x, y) || assignable(y, x);
}

/** The common type of two branches, or undefined when they do not fit together. */
function join(a: Type, b: Type): Type | undefined {
  if (a.k === "null") return optional(b);
  if (b.k === "null") return optional(a);
  if (assignable(a, b)) return isOptional(a) ? optional(b) : b;
  if (assignable(b, a)) return isOptional(b) ? optional(a) : a;
  if (a.k === "enum" && b.k === "enum") return { k: "enum", values: [...new Set([...a.values, ...b.values])] };
  if (isStringLike(a) && isStringLike(b)) return T.string;
  if (isOptional(a) || isOptional(b)) {
    const j = join(stripOptional(a), stripOptional(b));
    return j ? optional(j) : undefined;
  }
  return undefined;
}

function pathOf(e: IExpr): string | undefined {
  if (e.e === "local") return e.name;
  if (e.e === "state") return e.initial ? `initial.${e.field}` : e.field;
  if (e.e === "member") {
    const p = pathOf(e.object);
    return p ? `${p}.${e.name}` : undefined;
  }
  return undefined;
}

/** What a condition tells about nullability when it is true (or false). */
function factsOf(cond: IExpr, positive: boolean): Map<string, Type> {
  const facts = new Map<string, Type>();
  const visit = (c: IExpr, pos: boolean) => {
    if (c.e === "unary" && c.op === "not") return visit(c.operand, !pos);
    if (c.e === "binary") {
      if ((c.op === "and" && pos) || (c.op === "or" && !pos)) {
        visit(c.left, pos);
        visit(c.right, pos);
        return;
      }
      if (c.op === "==" || c.op === "!=") {
        const nonNullWhen = c.op === "!=" ? pos : !pos;
        if (!nonNullWhen) return;
        const [x, other] = c.right.e === "lit" && c.right.value === null ? [c.left, c.right] : c.left.e === "lit" && c.left.value === null ? [c.right, c.left] : [c.left, c.right];
        const p = pathOf(x);
        if (p && other.e === "lit" && other.value === null && isOptional(x.t)) facts.set(p, stripOptional(x.t));
        // `x == value` with a non-null value also proves x is not null
        if (c.op === "==" && pos && p && isOptional(x.t) && !isOptional(other.t) && other.t.k !== "error") facts.set(p, stripOptional(x.t));
        return;
      }
      if ((c.op === "in") && pos) return;
    }
  };
  visit(cond, positive);
  return facts;
}

function isExit(s: IStmt): boolean {
  if (s.s === "return" || s.s === "fail" || s.s === "break" || s.s === "continue") return true;
  if (s.s === "if" && s.otherwise) return alwaysExits(s.then) && alwaysExits(s.otherwise);
  return false;
}

export function alwaysExits(stmts: IStmt[]): boolean {
  return stmts.some((s) => s.s === "return" || s.s === "fail" || (s.s === "if" && !!s.otherwise && alwaysExits(s.then) && alwaysExits(s.otherwise)));
}

export function rootOf(e: IExpr): IExpr | undefined {
  if (e.e === "local" || e.e === "state") return e;
  if (e.e === "member" || e.e === "index") return rootOf(e.object);
  if (e.e === "builtin" && e.args.length) return rootOf(e.args[0]!);
  return e;
}

/** Push an IR node's child nodes (not its type or span) for an iterative walk. */
function pushChildren(node: Record<string, unknown>, stack: unknown[]) {
  for (const k in node) {
    if (k === "t" || k === "span") continue;
    const v = node[k];
    if (v !== null && typeof v === "object") stack.push(v);
  }
}

function* stateReads(e: unknown): Generator<string> {
  const seen = new Set<string>();
  const stack: unknown[] = [e];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      stack.push(...n);
      continue;
    }
    const node = n as Record<string, unknown>;
    if (node.e === "state" && !seen.has(node.field as string)) {
      seen.add(node.field as string);
      yield node.field as string;
    }
    if (node.e === "call") yield "*"; // a call may read anything
    pushChildren(node, stack);
  }
}

/**
 * Decide which locals must hold writable copies of state records: those that are the root
 * of an assignment or list mutation, and, transitively, the locals they were read from.
 */
function markWritable(body: IStmt[]) {
  const roots = new Set<string>();
  const sources = new Map<string, Set<string>>();
  const lets: IStmt[] = [];
  const localRoots = (e: IExpr, acc: Set<string>) => {
    if (e.e === "local") acc.add(e.name);
    else if (e.e === "member" || e.e === "index") localRoots(e.object, acc);
    else if (e.e === "builtin" && e.args.length) localRoots(e.args[0]!, acc);
    else if (e.e === "ternary") { localRoots(e.then, acc); localRoots(e.otherwise, acc); }
    else if (e.e === "binary" && e.op === "??") { localRoots(e.left, acc); localRoots(e.right, acc); }
  };
  const visitExpr = (e: unknown) => {
    const stack: unknown[] = [e];
    while (stack.length) {
      const n = stack.pop();
      if (!n || typeof n !== "object") continue;
      if (Array.isArray(n)) { stack.push(...n); continue; }
      const node = n as IExpr;
      if (node.e === "builtin" && node.fn.startsWith("list.") && LIST_MUTATORS[node.fn.slice(5)]) {
        const acc = new Set<string>();
        localRoots(node.args[0]!, acc);
        for (const r of acc) roots.add(r);
      }
      pushChildren(node as unknown as Record<string, unknown>, stack);
    }
  };
  const visit = (stmts: IStmt[]) => {
    for (const s of stmts) {
      switch (s.s) {
        case "let": {
          lets.push(s);
          const acc = new Set<string>();
          localRoots(s.value, acc);
          sources.set(s.name, acc);
          visitExpr(s.value);
          break;
        }
        case "for": {
          lets.push(s);
          const acc = new Set<string>();
          localRoots(s.iterable, acc);
          sources.set(s.name, acc);
          if (s.second) sources.set(s.second, acc);
          visitExpr(s.iterable);
          visit(s.body);
          break;
        }
        case "assign":
          if (s.target.e !== "local") {
            const acc = new Set<string>();
            localRoots(s.target, acc);
            for (const r of acc) roots.add(r);
          }
          visitExpr(s.target);
          visitExpr(s.value);
          break;
        case "if":
          visitExpr(s.cond);
          visit(s.then);
          if (s.otherwise) visit(s.otherwise);
          break;
        default:
          visitExpr(s);
      }
    }
  };
  visit(body);
  let changed = true;
  while (changed) {
    changed = false;
    for (const r of [...roots]) {
      for (const src of sources.get(r) ?? []) {
        if (!roots.has(src)) {
          roots.add(src);
          changed = true;
        }
      }
    }
  }
  for (const s of lets) {
    if (s.s === "let" && roots.has(s.name)) s.writable = true;
    if (s.s === "for" && (roots.has(s.name) || (s.second !== undefined && roots.has(s.second)))) s.writable = true;
  }
}

export function checkSpec(ast: A.SpecFile): CheckResult {
  try {
    return new Checker(ast).check();
  } catch (err) {
    // The checker must never crash on any input; if it does, say so as a diagnostic.
    const span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
    return {
      diagnostics: [
        makeDiagnostic("ENV0000", ast.file, span, `Internal checker error (please report): ${(err as Error).message}`),
      ],
    };
  }
}

const NOT_CONSTANT = Symbol("not constant");

/** The JSON value of a typed expression made only of literals, or NOT_CONSTANT. */
function constantOf(x: IExpr): unknown {
  switch (x.e) {
    case "lit":
      return x.value;
    case "str":
      return x.parts.every((p) => typeof p === "string") ? x.parts.join("") : NOT_CONSTANT;
    case "unary": {
      const v = constantOf(x.operand);
      return x.op === "-" && typeof v === "number" ? -v : NOT_CONSTANT;
    }
    case "list": {
      const out: unknown[] = [];
      for (const item of x.items) {
        const v = constantOf(item);
        if (v === NOT_CONSTANT) return v;
        out.push(v);
      }
      return out;
    }
    case "record": {
      const out: Record<string, unknown> = {};
      for (const f of x.fields) {
        const v = constantOf(f.value);
        if (v === NOT_CONSTANT) return v;
        Object.defineProperty(out, f.name, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return NOT_CONSTANT;
  }
}
