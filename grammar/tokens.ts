// Tokens and the lexer of the .env language (Chevrotain). Syntax only: no names, no types.
// Assumes source text is UTF-16 JS strings; positions are 1-based lines and columns.
import { createToken, Lexer, type TokenType, type CustomPatternMatcherFunc } from "chevrotain";

// Any word: identifiers and keywords alike. Field names, member names and record keys accept it.
export const Name = createToken({ name: "Name", pattern: Lexer.NA });

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name],
});

const keywordNames = [
  "env", "enum", "record", "entity", "state", "rule", "invariant", "query", "action", "fn",
  "let", "if", "else", "for", "in", "require", "fail", "ensure", "return", "insert", "delete",
  "true", "false", "null", "and", "or", "not", "all", "any", "where", "break", "continue", "scenario",
] as const;
export type KeywordName = (typeof keywordNames)[number];

export const keywords = Object.fromEntries(
  keywordNames.map((word) => [
    word,
    createToken({
      name: word[0]!.toUpperCase() + word.slice(1),
      pattern: new RegExp(`${word}(?![A-Za-z0-9_])`),
      longer_alt: Identifier,
      categories: [Name],
    }),
  ]),
) as Record<KeywordName, TokenType>;
export const RESERVED_WORDS: ReadonlySet<string> = new Set(keywordNames);

// Strings may hold `${ ... }` with nested strings and braces inside, so a regex cannot match
// them; this scanner balances braces and nested quotes. An unterminated string stops at the
// end of the line so the lexer can report it and go on.
const matchString: CustomPatternMatcherFunc = (text, offset) => {
  if (text.charCodeAt(offset) !== 34 /* " */) return null;
  if (text.startsWith('"""', offset)) return null;
  let i = offset + 1;
  let depth = 0;
  const quoteStack: number[] = [];
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      if (depth === 0) return null;
      // an unclosed `${` : take the rest of the line so the parser can say so (ENV1004)
      return [text.slice(offset, i)] as unknown as RegExpExecArray;
    }
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (depth === 0) {
      if (c === 34) return [text.slice(offset, i + 1)] as unknown as RegExpExecArray;
      if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 /* { */) {
        depth = 1;
        i += 2;
        continue;
      }
    } else {
      if (quoteStack.length > 0) {
        if (c === 34) quoteStack.pop();
      } else if (c === 34) quoteStack.push(i);
      else if (c === 123) depth++;
      else if (c === 125 /* } */) depth--;
    }
    i++;
  }
  return null;
};

export const TripleString = createToken({
  name: "TripleString",
  pattern: /"""[\s\S]*?"""/,
  line_breaks: true,
});
export const StringLit = createToken({
  name: "StringLit",
  pattern: { exec: matchString },
  line_breaks: false,
  start_chars_hint: ['"'],
});
// A string missing its closing quote: lexed to the end of the line as a string, so that the
// parser goes on as if it were closed and only ENV1003 is reported, not a cascade.
const matchUnterminated: CustomPatternMatcherFunc = (text, offset) => {
  if (text.charCodeAt(offset) !== 34 || text.startsWith('"""', offset)) return null;
  let i = offset + 1;
  while (i < text.length && text.charCodeAt(i) !== 10) {
    if (text.charCodeAt(i) === 92) i++;
    else if (text.charCodeAt(i) === 34) return null;
    i++;
  }
  const end = i > offset + 1 && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
  return [text.slice(offset, Math.min(end, text.length))] as unknown as RegExpExecArray;
};
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: { exec: matchUnterminated },
  line_breaks: false,
  start_chars_hint: ['"'],
  categories: [StringLit],
});
export const NumberLit = createToken({
  name: "NumberLit",
  pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
});
export const IntLit = createToken({ name: "IntLit", pattern: /\d+/ });

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

const punct = (name: string, pattern: RegExp | string) => createToken({ name, pattern });
export const Arrow = punct("Arrow", "=>");
export const ThinArrow = punct("ThinArrow", "->");
export const EqEq = punct("EqEq", "==");
export const NotEq = punct("NotEq", "!=");
export const LtEq = punct("LtEq", "<=");
export const GtEq = punct("GtEq", ">=");
export const Lt = punct("Lt", "<");
export const Gt = punct("Gt", ">");
export const PlusAssign = punct("PlusAssign", "+=");
export const MinusAssign = punct("MinusAssign", "-=");
export const Assign = punct("Assign", "=");
export const Plus = punct("Plus", "+");
export const Minus = punct("Minus", "-");
export const Star = punct("Star", "*");
export const Slash = punct("Slash", "/");
export const Percent = punct("Percent", "%");
export const QQ = punct("QQ", "??");
export const Question = punct("Question", "?");
export const Colon = punct("Colon", ":");
export const Comma = punct("Comma", ",");
export const Semicolon = punct("Semicolon", ";");
export const Dot = punct("Dot", ".");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LCurly = punct("LCurly", "{");
export const RCurly = punct("RCurly", "}");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const PipePipe = punct("PipePipe", "||");
export const AmpAmp = punct("AmpAmp", "&&");
export const Pipe = punct("Pipe", "|");
export const Bang = punct("Bang", "!");

export const allTokens: TokenType[] = [
  WhiteSpace, LineComment, BlockComment,
  TripleString, StringLit, UnterminatedString, NumberLit, IntLit,
  Arrow, ThinArrow, EqEq, NotEq, LtEq, GtEq, Lt, Gt, PlusAssign, MinusAssign, Assign,
  Plus, Minus, Star, Slash, Percent, QQ, Question, Colon, Comma, Semicolon, Dot,
  LParen, RParen, LCurly, RCurly, LBracket, RBracket, PipePipe, AmpAmp, Pipe, Bang,
  ...Object.values(keywords),
  Identifier, Name,
];

export const envLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
