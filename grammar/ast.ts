// The syntax tree of a .env file, as written: no names resolved, no types. Every node keeps
// its source span so that every later diagnostic can point at the text.

export interface Pos {
  offset: number;
  line: number;
  column: number;
}
export interface Span {
  start: Pos;
  end: Pos; // exclusive end offset; line/column of the last character
}

export interface Ident {
  name: string;
  span: Span;
}

export type TypeNode =
  | { kind: "NamedType"; name: Ident; args: TypeNode[]; span: Span }
  | { kind: "RefType"; entity: Ident; span: Span }
  | { kind: "TableType"; entity: Ident; span: Span }
  | { kind: "OptionalType"; inner: TypeNode; span: Span }
  | { kind: "UnionType"; values: { value: string; span: Span }[]; span: Span }
  | { kind: "RecordType"; fields: FieldDecl[]; span: Span };

export interface FieldDecl {
  name: Ident;
  type: TypeNode;
  description?: string;
  default?: Expr;
  optionalMark?: boolean; // `name?: T`
  span: Span;
}

export interface EnvHeader {
  name: Ident;
  title?: string;
  description?: string;
  span: Span;
}

export type Decl =
  | { kind: "Enum"; name: Ident; description?: string; members: { name: Ident; description?: string }[]; span: Span }
  | { kind: "Record"; name: Ident; description?: string; fields: FieldDecl[]; span: Span }
  // `external`: records do not hold their key; it is only their key in the table's JSON object
  | { kind: "Entity"; name: Ident; keyWord: Ident; key: Ident; external?: Ident; description?: string; fields: FieldDecl[]; span: Span }
  | { kind: "State"; fields: FieldDecl[]; span: Span }
  | { kind: "Rule"; text: string; span: Span }
  // `limits { steps: 500000 }`: settings of the environment's runtime (`limits` is a plain word)
  | { kind: "Limits"; items: { name: Ident; value: Expr }[]; span: Span }
  | { kind: "Invariant"; name: Ident; description?: string; expr: Expr; span: Span }
  | ToolDecl
  | ScenarioDecl;

/** A task in the environment: where it starts, what the agent is told, how it is judged. */
export interface ScenarioDecl {
  kind: "Scenario";
  name: Ident;
  description?: string;
  /** `init from "file.json"` (relative to the .env file) or an inline JSON-like literal */
  init?: { file: string; span: Span } | { value: unknown; span: Span };
  task?: { text: string; span: Span };
  persona?: { text: string; span: Span };
  checks: { text: string; expr: Expr; span: Span }[];
  /** each step is a tool call with named constant arguments, checked by the checker */
  solution?: { steps: Expr[]; span: Span };
  /** `reply "..."`: a reply that answers the task, for verifying answer checks */
  reply?: { text: string; span: Span };
  /** `outcome "question"` (the whole state) or `outcome "question": [field, ...]` */
  outcomes: { text: string; fields?: Expr; span: Span }[];
  /** `reward "all"` or `reward "fraction"` */
  reward?: { text: string; span: Span };
  /** items given twice, or words that are not scenario items */
  misplaced: { word: string; span: Span; repeated: boolean }[];
  span: Span;
}

export interface ToolDecl {
  kind: "Tool";
  toolKind: "query" | "action" | "fn";
  name: Ident;
  params: FieldDecl[];
  returnType?: TypeNode;
  description?: string;
  body: Block;
  span: Span;
}

export interface Block {
  statements: Stmt[];
  span: Span;
}

export type Stmt =
  | { kind: "Let"; name: Ident; type?: TypeNode; value: Expr; orElse?: Expr; span: Span }
  | { kind: "Assign"; target: Expr; op: "=" | "+=" | "-="; value: Expr; span: Span }
  | { kind: "ExprStmt"; expr: Expr; span: Span }
  | { kind: "If"; cond: Expr; then: Block; otherwise?: Block; span: Span }
  | { kind: "For"; name: Ident; second?: Ident; iterable: Expr; body: Block; span: Span }
  | { kind: "Require"; cond: Expr; message: Expr; span: Span }
  | { kind: "Fail"; message: Expr; span: Span }
  | { kind: "Ensure"; cond: Expr; message?: Expr; span: Span }
  | { kind: "Return"; value?: Expr; span: Span }
  | { kind: "Delete"; target: Expr; span: Span }
  | { kind: "Break"; span: Span }
  | { kind: "Continue"; span: Span };

export type BinaryOp =
  | "+" | "-" | "*" | "/" | "%"
  | "==" | "!=" | "<" | "<=" | ">" | ">="
  | "and" | "or" | "??" | "in" | "not in";

export interface Arg {
  name?: Ident;
  value: Expr;
}

export type StringPart = string | Expr;

export type Expr =
  | { kind: "Int"; value: number; span: Span }
  | { kind: "Number"; value: number; span: Span }
  | { kind: "String"; parts: StringPart[]; span: Span }
  | { kind: "Bool"; value: boolean; span: Span }
  | { kind: "Null"; span: Span }
  | { kind: "Name"; name: string; span: Span }
  | { kind: "List"; items: Expr[]; span: Span }
  | { kind: "RecordLit"; fields: { name: Ident; value: Expr }[]; span: Span }
  | { kind: "Member"; object: Expr; name: Ident; span: Span }
  | { kind: "Index"; object: Expr; index: Expr; span: Span }
  | { kind: "Call"; callee: Expr; args: Arg[]; span: Span }
  | { kind: "Unary"; op: "-" | "not"; operand: Expr; span: Span }
  | { kind: "Binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: "Ternary"; cond: Expr; then: Expr; otherwise: Expr; span: Span }
  | { kind: "Lambda"; params: Ident[]; body: Expr; span: Span }
  | { kind: "Quantifier"; quantifier: "all" | "any"; variable: Ident; collection: Expr; where?: Expr; body: Expr; span: Span }
  | { kind: "Insert"; table: Ident; value: Expr; span: Span }
  | { kind: "Error"; span: Span };

export interface SpecFile {
  file: string;
  header?: EnvHeader;
  /** `scenarios for Name`: a file of scenarios for an environment declared elsewhere */
  scenariosFor?: Ident;
  decls: Decl[];
}

export function spanOf(a: Span, b: Span): Span {
  return { start: a.start, end: b.end };
}
