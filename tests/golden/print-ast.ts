// Prints a syntax tree (grammar/ast.ts) as text for the parse goldens: declarations,
// statements and their parts one per line, indented, with their spans (line:col-line:col);
// expressions and types on one line as S-expressions, `(Binary >= (Member i stock) 0)`, with
// the span of the whole. Generic over the node shapes (any field of any node is printed, in
// the order the parser set it), so that a change to what the parser builds shows in the diff.
// Assumes the tree is plain data: objects, arrays, strings, numbers, booleans, null.
import type { SpecFile, Span } from "../../grammar/ast.js";

/** Node kinds printed on one line: expressions and types. Any other kind is a tree node. */
const COMPACT = new Set([
  "Int", "Number", "String", "Bool", "Null", "Name", "List", "RecordLit", "Member", "Index", "Call", "Unary", "Binary",
  "Ternary", "Lambda", "Quantifier", "Insert", "Error",
  "NamedType", "RefType", "TableType", "OptionalType", "UnionType", "RecordType",
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isSpan = (v: unknown): v is Span => isObj(v) && isObj(v.start) && isObj(v.end) && "line" in v.start;
const isIdent = (v: unknown): v is { name: string; span: Span } =>
  isObj(v) && typeof v.name === "string" && isSpan(v.span) && Object.keys(v).length === 2;
const spanText = (s: Span) => `${s.start.line}:${s.start.column}-${s.end.line}:${s.end.column}`;
/** fields that are positions, printed once as the node's span (a binary's operator position is the source's business) */
const SKIP = new Set(["kind", "span", "opSpan"]);

/** One line for an expression or a type: literals as themselves, names bare, the rest `(Kind field ...)`. */
export function sexpr(v: unknown): string {
  if (v === undefined) return "_";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v !== "object" || v === null) return String(v);
  if (Array.isArray(v)) return `[${v.map(sexpr).join(" ")}]`;
  if (isIdent(v)) return v.name || "?"; // a name the parser recovered without
  const o = v as Obj;
  switch (o.kind) {
    case "Int":
    case "Number":
    case "Bool":
      return String(o.value);
    case "Null":
      return "null";
    case "Name":
      return String(o.name);
    case "String": {
      const parts = o.parts as unknown[];
      return parts.every((p) => typeof p === "string") ? JSON.stringify(parts.join("")) : `(String ${parts.map(sexpr).join(" ")})`;
    }
  }
  // an empty list of type arguments or call arguments says nothing
  const fields = Object.entries(o).filter(([k, x]) => !SKIP.has(k) && x !== undefined && !(Array.isArray(x) && x.length === 0));
  const inner = fields.map(([k, x]) => (typeof o.kind === "string" ? sexpr(x) : `${k}: ${sexpr(x)}`)).join(" ");
  return typeof o.kind === "string" ? `(${o.kind}${inner ? ` ${inner}` : ""})` : `{${inner}}`;
}

/** A value inline on its node's line, or undefined when it needs lines of its own. */
function inline(v: unknown): string | undefined {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (isIdent(v)) return v.name || "?";
  if (isObj(v) && typeof v.kind === "string" && COMPACT.has(v.kind)) return `${sexpr(v)} @${spanText(v.span as Span)}`;
  if (Array.isArray(v) && v.length === 0) return "[]";
  return undefined;
}

function node(o: Obj, label: string, indent: string, out: string[]): void {
  const head: string[] = [];
  if (typeof o.kind === "string") head.push(o.kind);
  if (isSpan(o.span)) head.push(`@${spanText(o.span)}`);
  const nested: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (SKIP.has(k) || v === undefined) continue;
    // a scenario's inline initial state is data, not syntax: one line of JSON
    const text = k === "value" && isObj(v) && !("kind" in v) ? JSON.stringify(v) : inline(v);
    if (text !== undefined) head.push(`${k}=${text}`);
    else nested.push([k, v]);
  }
  out.push(indent + label + head.join(" "));
  for (const [k, v] of nested) value(v, `${k}: `, indent + "  ", out);
}

function value(v: unknown, label: string, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    out.push(`${indent}${label.trimEnd()}`);
    for (const item of v) {
      const text = inline(item);
      if (text !== undefined) out.push(`${indent}  - ${text}`);
      else value(item, "- ", indent + "  ", out);
    }
  } else if (isObj(v)) node(v, label, indent, out);
  else out.push(`${indent}${label}${JSON.stringify(v)}`);
}

/** The whole tree of a file, one node per line. */
export function printAst(ast: SpecFile): string {
  const out: string[] = [];
  node(ast as unknown as Obj, "", "", out);
  return out.join("\n") + "\n";
}
