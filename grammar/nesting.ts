// The nesting limit (ENV1007): how deep brackets, blocks and expressions may nest in a .env
// file. The parser, the checker, the emitters, prettier, TypeScript and V8 all recurse over
// the syntax tree and die of a stack overflow somewhere past 200 levels (parentheses 300 deep,
// 700 terms of `1+1+...`, `if` blocks 1,000 deep), so deeper input is refused here, with its
// location, before any of them runs. MAX_NESTING is far above what specs need (the bundled
// and held-out specs reach 18) and half what every phase was measured to survive.
import type { IToken } from "chevrotain";
import type * as A from "./ast.js";

export const MAX_NESTING = 100;

const FIX = "split it: bind inner parts to locals with `let`, or move nested blocks into a `fn` helper";

export interface NestingError {
  code: "ENV1007";
  message: string;
  span: A.Span;
}

const OPENERS: Record<string, string> = { LParen: "RParen", LBracket: "RBracket", LCurly: "RCurly" };
const CLOSERS = new Set(["RParen", "RBracket", "RCurly"]);

function spanOf(tok: IToken): A.Span {
  return {
    start: { offset: tok.startOffset, line: tok.startLine ?? 1, column: tok.startColumn ?? 1 },
    end: { offset: (tok.endOffset ?? tok.startOffset) + 1, line: tok.endLine ?? 1, column: tok.endColumn ?? 1 },
  };
}

/**
 * The first bracket that opens level MAX_NESTING + 1: `(`, `[`, `{`, the `<` of `list<` and
 * `map<` (a `<` elsewhere is a comparison), and each `else if` of a chain. Checked on the
 * tokens, before the parser recurses into them. An unclosed `<` (a comparison with a variable
 * named list) is dropped at the next closing bracket.
 */
export function bracketNestingError(tokens: readonly IToken[]): NestingError | undefined {
  const open: string[] = [];
  // `else if` nests too (the parser recurses once per link of the chain): the links of the
  // chain running at the current level, saved while a bracket is open
  let chain = 0;
  const chains: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const type = tok.tokenType.name;
    let opener = OPENERS[type];
    if (!opener && type === "Lt") {
      const prev = tokens[i - 1];
      if (prev && (prev.image === "list" || prev.image === "map")) opener = "Gt";
    }
    if (opener) {
      open.push(opener);
      chains.push(chain);
      chain = 0;
      if (open.length > MAX_NESTING)
        return { code: "ENV1007", message: `Nested too deeply: brackets more than ${MAX_NESTING} levels deep`, span: spanOf(tok) };
      continue;
    }
    if (tok.image === "else" && tokens[i + 1]?.image === "if") {
      if (open.length + ++chain > MAX_NESTING)
        return { code: "ENV1007", message: `Nested too deeply: more than ${MAX_NESTING} levels of brackets and \`else if\``, span: spanOf(tok) };
      continue;
    }
    if (type === "Gt" && open[open.length - 1] === "Gt") {
      open.pop();
      chain = chains.pop() ?? 0;
    } else if (CLOSERS.has(type)) {
      const at = open.lastIndexOf(type);
      if (at >= 0) {
        open.length = at;
        chains.length = at + 1;
        chain = chains.pop() ?? 0;
      }
      // a block not followed by `else` ends any if-chain it belonged to
      if (type === "RCurly" && tokens[i + 1]?.image !== "else") chain = 0;
    }
  }
  return undefined;
}

/**
 * The first node of the syntax tree at depth MAX_NESTING + 1, counting every node with a
 * `kind` (declarations, statements, expressions, types) on the way down, with the deepest
 * level reached. Long operator chains (`1+1+...+1`: each `+` a level) nest without brackets,
 * so the tree is measured as well. Iterative: the walk itself cannot overflow.
 */
export function treeNestingError(root: unknown): NestingError | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  let first: { span: A.Span } | undefined;
  let deepest = 0;
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      for (const n of node) stack.push([n, depth]);
      continue;
    }
    const obj = node as Record<string, unknown>;
    let d = depth;
    if (typeof obj.kind === "string" && obj.span) {
      d = depth + 1;
      if (d > deepest) deepest = d;
      if (d === MAX_NESTING + 1 && (!first || before(obj.span as A.Span, first.span))) first = obj as { span: A.Span };
    }
    for (const key in obj) {
      if (key === "span" || key === "opSpan") continue;
      const v = obj[key];
      if (v !== null && typeof v === "object") stack.push([v, d]);
    }
  }
  if (!first) return undefined;
  return { code: "ENV1007", message: `Nested too deeply: ${deepest} levels of expressions and blocks, more than ${MAX_NESTING}`, span: first.span };
}

function before(a: A.Span, b: A.Span): boolean {
  return a.start.offset < b.start.offset;
}

export const NESTING_FIX = FIX;
