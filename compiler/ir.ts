// The IR: what the checker produces and the emitters consume. Names are resolved, every
// expression carries its type, spans are kept for runtime fault locations. Emitters see only this.
import type { Span } from "../grammar/ast.js";

// The types (and their printing) live in types.ts, shared with the checker and the builtin
// table; the IR re-exports them so that emitters import only this file.
export {
  T, optional, stripOptional, isOptional, typeToString, type Type, type FieldType,
} from "./types.js";
import type { Type } from "./types.js";

// ---- expressions ----

export type IExpr = { t: Type; span: Span } & (
  | { e: "lit"; value: string | number | boolean | null }
  | { e: "str"; parts: (string | IExpr)[] }
  | { e: "local"; name: string }
  // `initial` marks a read of the scenario's initial state (only in checks)
  | { e: "state"; field: string; table: boolean; initial?: boolean }
  | { e: "list"; items: IExpr[] }
  | { e: "record"; fields: { name: string; value: IExpr }[] }
  | { e: "member"; object: IExpr; name: string }
  // mode says what is indexed; `get` is a lookup that gives null instead of a fault
  | { e: "index"; object: IExpr; index: IExpr; mode: "table" | "map" | "list" | "string" | "json"; get: boolean }
  | { e: "builtin"; fn: string; args: IExpr[] }
  | { e: "call"; callee: string; args: IExpr[] }
  | { e: "unary"; op: "-" | "not"; operand: IExpr }
  | { e: "binary"; op: string; left: IExpr; right: IExpr }
  | { e: "ternary"; cond: IExpr; then: IExpr; otherwise: IExpr }
  | { e: "lambda"; params: string[]; body: IExpr; destructure: boolean }
  | { e: "quant"; quantifier: "all" | "any"; variable: string; collection: IExpr; where?: IExpr; body: IExpr }
  | { e: "insert"; table: string; value: IExpr }
);

// ---- statements ----

export type IStmt = { span: Span } & (
  | { s: "let"; name: string; value: IExpr; orElse?: IExpr; writable: boolean }
  | { s: "assign"; target: IExpr; op: "=" | "+=" | "-="; value: IExpr }
  | { s: "expr"; expr: IExpr }
  | { s: "if"; cond: IExpr; then: IStmt[]; otherwise?: IStmt[] }
  | { s: "for"; name: string; second?: string; iterable: IExpr; body: IStmt[]; writable: boolean }
  | { s: "require"; cond: IExpr; message: IExpr }
  | { s: "fail"; message: IExpr }
  /** narrows: what follows relies on it (`ensure x != null`), so it is checked even with checks off */
  | { s: "ensure"; cond: IExpr; message?: IExpr; narrows?: boolean }
  | { s: "return"; value?: IExpr }
  | { s: "delete"; target: IExpr }
  | { s: "break" }
  | { s: "continue" }
);

/** A statement that stops a body on a failed precondition. */
export type IPrecondition = Extract<IStmt, { s: "require" } | { s: "fail" } | { s: "let" }>;

/**
 * The `require`, `fail` and `let ... else` statements of a body, nested ones included, in
 * source order (the bodies of called tools are not followed).
 */
export function preconditionsIn(stmts: IStmt[], out: IPrecondition[] = []): IPrecondition[] {
  for (const s of stmts) {
    if (s.s === "require" || s.s === "fail" || (s.s === "let" && s.orElse)) out.push(s);
    else if (s.s === "if") {
      preconditionsIn(s.then, out);
      if (s.otherwise) preconditionsIn(s.otherwise, out);
    } else if (s.s === "for") preconditionsIn(s.body, out);
  }
  return out;
}

/** The parts of a conjunction, in order: `a and (b and c)` gives a, b, c; anything else is one part. */
export function conjuncts(e: IExpr, out: IExpr[] = []): IExpr[] {
  if (e.e === "binary" && e.op === "and") {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

export interface IParam {
  name: string;
  type: Type;
  description?: string;
  required: boolean;
  default?: unknown;
  hasDefault: boolean;
}

export interface ITool {
  name: string;
  kind: "query" | "action" | "fn";
  params: IParam[];
  returnType?: Type;
  description?: string;
  body: IStmt[];
  writes: boolean; // changes state, directly or through calls
  fails: boolean; // can stop on a precondition (require, fail, let ... else), directly or through calls
  span: Span;
}

export interface IEntity {
  name: string;
  key: string;
  /** the key is not a field: records are stored under it but do not hold it */
  externalKey?: boolean;
  description?: string;
  type: Extract<Type, { k: "record" }>;
  table?: string;
}

export interface IStateField {
  name: string;
  type: Type;
  description?: string;
  default?: unknown;
  hasDefault: boolean;
  table?: string; // entity name when this is a table
}

export interface IInvariant {
  name: string;
  description?: string;
  expr: IExpr;
  // `all x in table [where c]: body` form: re-check only changed records of `table`
  perRecord?: { table: string; variable: string; where?: IExpr; body: IExpr };
  reads: string[]; // state fields it reads
  span: Span;
}

export interface IEnum {
  name: string;
  description?: string;
  values: string[];
  descriptions: (string | undefined)[];
}

export interface IRecordDecl {
  name: string;
  description?: string;
  type: Extract<Type, { k: "record" }>;
}

/** A natural-language check and its expression over the final state (`initial`: the start). */
export interface ICheck {
  text: string;
  expr: IExpr;
  span: Span;
  /** the expression as written (kept to write datasets back out) */
  exprText?: string;
  /** the check reads `reply` (what the agent said): an answer check */
  readsReply?: boolean;
}

/** `outcome "text"`: the final state (or `fields` of it) must equal what the reference solution leaves. */
export interface IOutcome {
  text: string;
  /** state fields compared; undefined: the whole state */
  fields?: string[];
  span: Span;
}

/** One call of the reference solution: a tool and constant arguments. */
export interface IStep {
  tool: string;
  args: Record<string, unknown>;
  span: Span;
}

export interface IScenario {
  name: string;
  description?: string;
  /** the file the scenario was written in (a .env file or a JSONL dataset) */
  file: string;
  /** `file` is relative to the folder of the scenario's own file */
  init: { file: string } | { value: unknown };
  initSpan: Span;
  task: string;
  persona?: string;
  checks: ICheck[];
  solution: IStep[];
  /** a reply that answers the task (answer checks must accept it) */
  reply?: string;
  outcomes?: IOutcome[];
  /** how parts make the reward: "all" (1 only when every part holds) or "fraction" (the default) */
  reward?: "all" | "fraction";
  span: Span;
}

export interface IEnv {
  name: string;
  title?: string;
  description?: string;
  file: string; // spec path as given, relative when possible
  enums: IEnum[];
  records: IRecordDecl[];
  entities: IEntity[];
  state: IStateField[];
  rules: string[];
  invariants: IInvariant[];
  tools: ITool[]; // queries, actions and helpers, in source order
  scenarios: IScenario[]; // from the spec and from `scenarios for` files, in file order
  /** `limits { steps: N }`: evaluation steps one tool call may take (else the runtime's default) */
  maxSteps?: number;
}
