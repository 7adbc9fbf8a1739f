// The .env parser: Chevrotain embedded actions building the AST of grammar/ast.ts directly,
// with error recovery so that one pass reports every syntax error. Syntax only.
// Assumes one parser instance per nesting depth of string interpolation, reused across calls.
import {
  EmbeddedActionsParser,
  type IToken,
  type TokenType,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  tokenLabel,
  type IOrAlt,
  EOF,
} from "chevrotain";
import * as T from "./tokens.js";
import type * as A from "./ast.js";
import { bracketNestingError, treeNestingError, NESTING_FIX } from "./nesting.js";

const K = T.keywords;

export interface SyntaxError {
  code: "ENV1001" | "ENV1002" | "ENV1003" | "ENV1004" | "ENV1005" | "ENV1007" | "ENV5001";
  message: string;
  span: A.Span;
  fix?: string;
}

function describeToken(tok: IToken | undefined): string {
  if (!tok) return "end of input";
  if (tok.tokenType === EOF) return "end of input";
  return `'${tok.image}'`;
}

function describeType(t: TokenType): string {
  const label = tokenLabel(t);
  const nice: Record<string, string> = {
    Identifier: "a name", Name: "a name", StringLit: "a string", TripleString: "a string",
    IntLit: "an integer", NumberLit: "a number", LCurly: "'{'", RCurly: "'}'", LParen: "'('",
    RParen: "')'", LBracket: "'['", RBracket: "']'", Colon: "':'", Comma: "','", Assign: "'='",
    Arrow: "'=>'", ThinArrow: "'->'", Lt: "'<'", Gt: "'>'", Question: "'?'", Dot: "'.'",
  };
  if (nice[label]) return nice[label]!;
  if (T.RESERVED_WORDS.has(label.toLowerCase())) return `'${label.toLowerCase()}'`;
  return label;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `Expected ${describeType(expected)} but found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `Unexpected ${describeToken(firstRedundant)}: expected a declaration (entity, enum, record, state, rule, invariant, query, action, fn or scenario)`;
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    const what: Record<string, string> = {
      declaration: "a declaration (entity, enum, record, state, rule, invariant, query, action, fn or scenario)",
      scenarioItem: "a scenario item (init, task, persona, check, reply, outcome, reward or solution)",
      jsonValue: "a JSON value",
      primary: "an expression",
      typeAtom: "a type",
      statement: "a statement",
      unary: "an expression",
      postfix: "an expression",
      expression: "an expression",
    };
    return `Unexpected ${describeToken(actual[0]!)}: expected ${what[ruleName] ?? ruleName}`;
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return `Unexpected ${describeToken(actual[0]!)} in ${ruleName}`;
  },
};

function posOf(tok: IToken): A.Pos {
  return { offset: tok.startOffset, line: tok.startLine ?? 1, column: tok.startColumn ?? 1 };
}
function endOf(tok: IToken): A.Pos {
  return { offset: (tok.endOffset ?? tok.startOffset) + 1, line: tok.endLine ?? 1, column: tok.endColumn ?? 1 };
}
function tokSpan(a: IToken, b: IToken = a): A.Span {
  return { start: posOf(a), end: endOf(b) };
}
const NO_SPAN: A.Span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };

function validSpan(tok: IToken | undefined): boolean {
  return !!tok && !Number.isNaN(tok.startOffset) && tok.startLine !== undefined && !Number.isNaN(tok.startLine);
}

/** Decode a string literal body; returns literal parts and the raw source of each `${...}`. */
export function splitStringLiteral(image: string): { parts: (string | { source: string; offset: number })[]; error?: string } {
  const parts: (string | { source: string; offset: number })[] = [];
  let buf = "";
  let i = 1;
  const end = image.length - 1;
  while (i < end) {
    const c = image[i]!;
    if (c === "\\") {
      const n = image[i + 1];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", $: "$", "0": "\0" };
      if (n !== undefined && simple[n] !== undefined) {
        buf += simple[n];
        i += 2;
      } else if (n === "u" && /^[0-9a-fA-F]{4}$/.test(image.slice(i + 2, i + 6))) {
        buf += String.fromCharCode(parseInt(image.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        return { parts, error: `Unknown escape '\\${n ?? ""}' in string: use \\n, \\t, \\", \\\\, \\$ or \\uXXXX` };
      }
      continue;
    }
    if (c === "$" && image[i + 1] === "{") {
      let depth = 1;
      let j = i + 2;
      let quote = false;
      while (j < end && depth > 0) {
        const d = image[j]!;
        if (d === "\\") { j += 2; continue; }
        if (quote) { if (d === '"') quote = false; }
        else if (d === '"') quote = true;
        else if (d === "{") depth++;
        else if (d === "}") depth--;
        j++;
      }
      if (depth !== 0) return { parts, error: "Unclosed '${' in string: add '}'" };
      if (buf) parts.push(buf);
      buf = "";
      parts.push({ source: image.slice(i + 2, j - 1), offset: i + 2 });
      i = j;
      continue;
    }
    buf += c;
    i++;
  }
  if (buf || parts.length === 0) parts.push(buf);
  return { parts };
}

interface PendingString {
  node: Extract<A.Expr, { kind: "String" }>;
  token: IToken;
}

interface Operand {
  prefixes: IToken[];
  expr: A.Expr;
}

// Precedence, loosest first. `not` as a prefix sits between `and` and the comparisons
// (`not a == b` is `not (a == b)`); `-` and `!` bind tighter than any binary operator.
const BINARY: Record<string, [A.BinaryOp, number]> = {
  "??": ["??", 1], or: ["or", 2], "||": ["or", 2], and: ["and", 3], "&&": ["and", 3],
  "==": ["==", 5], "!=": ["!=", 5], "<=": ["<=", 5], ">=": [">=", 5], "<": ["<", 5], ">": [">", 5],
  in: ["in", 5], not: ["not in", 5],
  "+": ["+", 6], "-": ["-", 6], "*": ["*", 7], "/": ["/", 7], "%": ["%", 7],
};
const COMPARISON = 5;

interface Pending {
  tok: IToken;
  prec: number;
  prefix: boolean;
  op: string;
}

/** Shunting-yard over a flat operand/operator list; reports chained comparisons. */
function arrange(operands: (Operand | undefined)[], ops: IToken[], errors: SyntaxError[]): A.Expr {
  const head = operands[0];
  if (ops.length === 0 && (!head || head.prefixes.length === 0)) return head?.expr as A.Expr;
  const out: A.Expr[] = [];
  const stack: Pending[] = [];
  const reduce = (): void => {
    const top = stack.pop()!;
    if (top.prefix) {
      const operand = out.pop()!;
      const start = validSpan(top.tok) ? posOf(top.tok) : NO_SPAN.start;
      const span: A.Span = { start, end: operand ? operand.span.end : start };
      if (top.op === "-" && operand && (operand.kind === "Int" || operand.kind === "Number"))
        out.push({ ...operand, value: -operand.value, span });
      else out.push({ kind: "Unary", op: top.op === "-" ? "-" : "not", operand, span });
      return;
    }
    const right = out.pop()!;
    const left = out.pop()!;
    out.push({
      kind: "Binary",
      op: top.op as A.BinaryOp,
      left,
      right,
      opSpan: validSpan(top.tok) ? tokSpan(top.tok) : NO_SPAN,
      span: left && right ? { start: left.span.start, end: right.span.end } : NO_SPAN,
    });
  };
  for (let i = 0; i < operands.length; i++) {
    const operand = operands[i];
    for (const p of operand?.prefixes ?? []) stack.push({ tok: p, prec: p.image === "not" ? 4 : 8, prefix: true, op: p.image });
    out.push(operand?.expr as A.Expr);
    const tok = ops[i];
    if (!tok) break;
    const [op, prec] = BINARY[tok.image] ?? ["+", 6];
    while (stack.length > 0 && stack[stack.length - 1]!.prec >= prec) {
      const top = stack[stack.length - 1]!;
      if (prec === COMPARISON && top.prec === COMPARISON && !top.prefix && validSpan(tok))
        errors.push({
          code: "ENV1001",
          message: `Comparisons do not chain: '${top.op}' then '${op}'. Join them with 'and' or add parentheses`,
          span: tokSpan(tok),
        });
      reduce();
    }
    stack.push({ tok, prec, prefix: false, op });
  }
  while (stack.length > 0) reduce();
  return out[0]!;
}

class EnvParser extends EmbeddedActionsParser {
  pending: PendingString[] = [];
  chainErrors: SyntaxError[] = [];
  // Alternatives that capture nothing but `this` are built once per parser: Chevrotain's OR
  // takes a fresh array of closures on every call otherwise, and that garbage dominated.
  private alts: Record<string, IOrAlt<any>[]> = {};
  misplacedHeaders: A.EnvHeader[] = [];

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  private sp(first: IToken, last?: IToken): A.Span {
    if (this.RECORDING_PHASE || !validSpan(first)) return NO_SPAN;
    const end = last ?? this.LA(0);
    return tokSpan(first, validSpan(end) ? end : first);
  }
  private ident(tok: IToken): A.Ident {
    return { name: tok.image, span: validSpan(tok) ? tokSpan(tok) : NO_SPAN };
  }
  private str(tok: IToken): string {
    return this.ACTION(() => {
      if (tok.tokenType === T.TripleString) return dedent(tok.image.slice(3, -3));
      const split = splitStringLiteral(closedImage(tok));
      return split.parts.map((p) => (typeof p === "string" ? p : "${" + p.source + "}")).join("");
    });
  }
  private optDescription = this.RULE("optDescription", (): string | undefined => {
    let d: string | undefined;
    this.OPTION(() => {
      const t = this.OR((this.alts.description ??= [{ ALT: () => this.CONSUME(T.StringLit) }, { ALT: () => this.CONSUME(T.TripleString) }]));
      d = this.str(t);
    });
    return d;
  });

  public spec = this.RULE("spec", (): { header?: A.EnvHeader; scenariosFor?: A.Ident; decls: A.Decl[] } => {
    let header: A.EnvHeader | undefined;
    let scenariosFor: A.Ident | undefined;
    const decls: A.Decl[] = [];
    this.OPTION(() => {
      header = this.SUBRULE(this.header);
    });
    // `scenarios for Bank`: a file holding scenarios of an environment declared in another file
    this.OPTION2({
      GATE: () => header === undefined && this.LA(1).image === "scenarios",
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(K.for);
        scenariosFor = this.ident(this.CONSUME2(T.Identifier));
      },
    });
    this.MANY(() => {
      const d = this.SUBRULE(this.declaration);
      this.ACTION(() => d && decls.push(d));
    });
    return { header, scenariosFor, decls };
  });

  private header = this.RULE("header", (): A.EnvHeader => {
    const start = this.CONSUME(K.env);
    const name = this.CONSUME(T.Identifier);
    let title: string | undefined;
    let description: string | undefined;
    this.OPTION(() => {
      title = this.str(this.CONSUME(T.StringLit));
    });
    this.OPTION2(() => {
      description = this.str(this.CONSUME(T.TripleString));
    });
    return { name: this.ident(name), title, description, span: this.sp(start) };
  });

  private declaration = this.RULE("declaration", (): A.Decl => {
    return this.OR((this.alts.declaration ??= [
      {
        // a header after declarations: parsed, then reported as ENV1005
        ALT: () => {
          const h = this.SUBRULE(this.header);
          this.ACTION(() => h && this.misplacedHeaders.push(h));
          return undefined as unknown as A.Decl;
        },
      },
      { ALT: () => this.SUBRULE(this.enumDecl) },
      { ALT: () => this.SUBRULE(this.recordDecl) },
      { ALT: () => this.SUBRULE(this.entityDecl) },
      { ALT: () => this.SUBRULE(this.stateDecl) },
      { ALT: () => this.SUBRULE(this.ruleDecl) },
      { ALT: () => this.SUBRULE(this.invariantDecl) },
      { ALT: () => this.SUBRULE(this.toolDecl) },
      { ALT: () => this.SUBRULE(this.scenarioDecl) },
      // `limits { ... }`: a plain word, so `limits` stays usable as a name everywhere else
      { GATE: () => this.LA(1).image === "limits" && this.LA(2).tokenType === T.LCurly, ALT: () => this.SUBRULE(this.limitsDecl) },
    ]));
  });

  private limitsDecl = this.RULE("limitsDecl", (): A.Decl => {
    const start = this.CONSUME(T.Identifier);
    this.CONSUME(T.LCurly);
    const items: { name: A.Ident; value: A.Expr }[] = [];
    this.MANY(() => {
      const name = this.ident(this.CONSUME2(T.Identifier));
      this.CONSUME(T.Colon);
      const value = this.SUBRULE(this.expression);
      this.OPTION(() => this.CONSUME(T.Comma));
      this.ACTION(() => items.push({ name, value }));
    });
    this.CONSUME(T.RCurly);
    return { kind: "Limits", items, span: this.sp(start) };
  });

  private scenarioDecl = this.RULE("scenarioDecl", (): A.Decl => {
    const start = this.CONSUME(K.scenario);
    const name = this.CONSUME(T.Identifier);
    const description = this.SUBRULE(this.optDescription);
    const sc: A.ScenarioDecl = { kind: "Scenario", name: this.ident(name), description, checks: [], outcomes: [], misplaced: [], span: NO_SPAN };
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.scenarioItem, { ARGS: [sc] });
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
    sc.span = this.sp(start);
    return sc;
  });

  // Items are introduced by plain words (init, task, persona, check, reply, outcome, reward,
  // solution), not keywords, so that specs may still use those words as names; the word is
  // checked here.
  private scenarioItem = this.RULE("scenarioItem", (sc: A.ScenarioDecl) => {
    const word = this.CONSUME(T.Identifier);
    const set = (key: "task" | "persona" | "init" | "solution" | "reply" | "reward", value: NonNullable<A.ScenarioDecl[typeof key]>) => {
      if (sc[key] !== undefined) sc.misplaced.push({ word: word.image, span: tokSpan(word), repeated: true });
      else (sc as unknown as Record<string, unknown>)[key] = value;
    };
    const misplaced = () => sc.misplaced.push({ word: word.image, span: tokSpan(word), repeated: false });
    this.OR([
      {
        GATE: () => word.image === "solution",
        IGNORE_AMBIGUITIES: true,
        ALT: () => {
          const open = this.CONSUME(T.LCurly);
          const steps: A.Expr[] = [];
          this.MANY(() => {
            const step = this.SUBRULE(this.expression);
            this.ACTION(() => step && steps.push(step));
            this.OPTION(() => this.CONSUME(T.Semicolon));
          });
          this.CONSUME(T.RCurly);
          this.ACTION(() => set("solution", { steps, span: this.sp(open) }));
        },
      },
      {
        GATE: () => word.image === "init",
        IGNORE_AMBIGUITIES: true,
        ALT: () => {
          const value = this.SUBRULE(this.jsonValue);
          this.ACTION(() => set("init", { value, span: this.sp(word) }));
        },
      },
      {
        // init from "file.json"
        ALT: () => {
          const from = this.CONSUME2(T.Identifier);
          const file = this.CONSUME(T.StringLit);
          this.ACTION(() => {
            if (word.image === "init" && from.image === "from") set("init", { file: this.str(file), span: this.sp(word) });
            else misplaced();
          });
        },
      },
      {
        // task "...", persona "...", reply "...", reward "...", check "...": expr, outcome "..." [: [fields]]
        ALT: () => {
          const text = this.OR2([{ ALT: () => this.CONSUME2(T.StringLit) }, { ALT: () => this.CONSUME(T.TripleString) }]);
          let expr: A.Expr | undefined;
          this.OPTION2(() => {
            this.CONSUME(T.Colon);
            expr = this.SUBRULE2(this.expression);
          });
          this.ACTION(() => {
            const str = this.str(text);
            if (word.image === "check" && expr) sc.checks.push({ text: str, expr, span: this.sp(word) });
            else if (word.image === "check") this.chainErrors.push({ code: "ENV1001", message: "A check is `check \"question\": expression`: add ':' and the expression", span: tokSpan(text) });
            else if (word.image === "outcome") sc.outcomes.push({ text: str, fields: expr, span: this.sp(word) });
            else if ((word.image === "task" || word.image === "persona" || word.image === "reply") && !expr) set(word.image, { text: cleanDoc(str), span: this.sp(word) });
            else if (word.image === "reward" && !expr) set("reward", { text: str, span: this.sp(word) });
            else misplaced();
          });
        },
      },
    ]);
  });

  /** JSON, plus bare words as keys: the inline initial state of a scenario. */
  private jsonValue = this.RULE("jsonValue", (): unknown => {
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LCurly);
          const obj: Record<string, unknown> = {};
          this.MANY(() => {
            const key = this.OR2([{ ALT: () => this.CONSUME(T.StringLit) }, { ALT: () => this.CONSUME(T.Name) }]);
            this.CONSUME(T.Colon);
            const value = this.SUBRULE(this.jsonValue);
            this.OPTION(() => this.CONSUME(T.Comma));
            this.ACTION(() => {
              const k = key.tokenType === T.StringLit || key.tokenType === T.UnterminatedString ? this.str(key) : key.image;
              Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
            });
          });
          this.CONSUME(T.RCurly);
          return obj;
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          const items: unknown[] = [];
          this.MANY2(() => {
            const v = this.SUBRULE2(this.jsonValue);
            this.OPTION2(() => this.CONSUME2(T.Comma));
            this.ACTION(() => items.push(v));
          });
          this.CONSUME(T.RBracket);
          return items;
        },
      },
      { ALT: () => this.str(this.CONSUME2(T.StringLit)) },
      {
        ALT: () => {
          let sign = 1;
          this.OPTION3(() => {
            this.CONSUME(T.Minus);
            sign = -1;
          });
          const n = this.OR3([{ ALT: () => this.CONSUME(T.IntLit) }, { ALT: () => this.CONSUME(T.NumberLit) }]);
          return sign * Number(n.image);
        },
      },
      { ALT: () => (this.CONSUME(K.true), true) },
      { ALT: () => (this.CONSUME(K.false), false) },
      { ALT: () => (this.CONSUME(K.null), null) },
    ]);
  });

  private enumDecl = this.RULE("enumDecl", (): A.Decl => {
    const start = this.CONSUME(K.enum);
    const name = this.CONSUME(T.Identifier);
    const description = this.SUBRULE(this.optDescription);
    const members: { name: A.Ident; description?: string }[] = [];
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      const m = this.CONSUME(T.Name);
      const d = this.SUBRULE2(this.optDescription);
      this.OPTION(() => this.CONSUME(T.Comma));
      this.ACTION(() => members.push({ name: this.ident(m), description: d }));
    });
    this.CONSUME(T.RCurly);
    return { kind: "Enum", name: this.ident(name), description, members, span: this.sp(start) };
  });

  private recordDecl = this.RULE("recordDecl", (): A.Decl => {
    const start = this.CONSUME(K.record);
    const name = this.CONSUME(T.Identifier);
    const description = this.SUBRULE(this.optDescription);
    const fields = this.SUBRULE(this.fieldBlock);
    return { kind: "Record", name: this.ident(name), description, fields, span: this.sp(start) };
  });

  private entityDecl = this.RULE("entityDecl", (): A.Decl => {
    const start = this.CONSUME(K.entity);
    const name = this.CONSUME(T.Identifier);
    const keyWord = this.CONSUME2(T.Identifier);
    const key = this.CONSUME3(T.Name);
    let external: A.Ident | undefined;
    this.OPTION(() => {
      external = this.ident(this.CONSUME4(T.Identifier));
    });
    const description = this.SUBRULE(this.optDescription);
    const fields = this.SUBRULE(this.fieldBlock);
    return {
      kind: "Entity", name: this.ident(name), keyWord: this.ident(keyWord), key: this.ident(key), external,
      description, fields, span: this.sp(start),
    };
  });

  private stateDecl = this.RULE("stateDecl", (): A.Decl => {
    const start = this.CONSUME(K.state);
    const fields = this.SUBRULE(this.fieldBlock);
    return { kind: "State", fields, span: this.sp(start) };
  });

  private fieldBlock = this.RULE("fieldBlock", (): A.FieldDecl[] => {
    const fields: A.FieldDecl[] = [];
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      const f = this.SUBRULE(this.fieldDecl);
      this.OPTION(() => this.CONSUME(T.Comma));
      this.ACTION(() => f && fields.push(f));
    });
    this.CONSUME(T.RCurly);
    return fields;
  });

  private fieldDecl = this.RULE("fieldDecl", (): A.FieldDecl => {
    const name = this.CONSUME(T.Name);
    let optionalMark = false;
    this.OPTION(() => {
      this.CONSUME(T.Question);
      optionalMark = true;
    });
    this.CONSUME(T.Colon);
    const type = this.SUBRULE(this.type);
    let description: string | undefined;
    let dflt: A.Expr | undefined;
    this.MANY(() => {
      this.OR([
        { ALT: () => { description = this.str(this.CONSUME(T.StringLit)); } },
        { ALT: () => { description = this.str(this.CONSUME(T.TripleString)); } },
        { ALT: () => { this.CONSUME(T.Assign); dflt = this.SUBRULE(this.expression); } },
      ]);
    });
    return { name: this.ident(name), type, description, default: dflt, optionalMark, span: this.sp(name) };
  });

  private type = this.RULE("type", (): A.TypeNode => {
    const first = this.LA(1);
    let t = this.SUBRULE(this.typeAtom);
    this.MANY(() => {
      this.CONSUME(T.Question);
      const inner = t;
      t = this.ACTION(() => ({ kind: "OptionalType", inner, span: this.sp(first) }) as A.TypeNode);
    });
    return t;
  });

  private typeAtom = this.RULE("typeAtom", (): A.TypeNode => {
    return this.OR((this.alts.typeAtom ??= [
      {
        ALT: () => {
          const first = this.CONSUME(T.StringLit);
          const values = [{ value: this.str(first), span: this.sp(first, first) }];
          this.MANY(() => {
            this.CONSUME(T.Pipe);
            const v = this.CONSUME2(T.StringLit);
            this.ACTION(() => values.push({ value: this.str(v), span: tokSpan(v) }));
          });
          return { kind: "UnionType", values, span: this.sp(first) } as A.TypeNode;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(T.LCurly);
          const fields: A.FieldDecl[] = [];
          this.MANY2(() => {
            const f = this.SUBRULE(this.fieldDecl);
            this.OPTION(() => this.CONSUME(T.Comma));
            this.ACTION(() => f && fields.push(f));
          });
          this.CONSUME(T.RCurly);
          return { kind: "RecordType", fields, span: this.sp(start) } as A.TypeNode;
        },
      },
      {
        // `ref Entity` and `table Entity`: contextual words, so fields may still be called ref.
        GATE: () => (this.LA(1).image === "ref" || this.LA(1).image === "table") && this.LA(2).tokenType === T.Identifier,
        ALT: () => {
          const word = this.CONSUME2(T.Identifier);
          const entity = this.CONSUME3(T.Identifier);
          return this.ACTION(
            () =>
              ({
                kind: word.image === "ref" ? "RefType" : "TableType",
                entity: this.ident(entity),
                span: this.sp(word),
              }) as A.TypeNode,
          );
        },
      },
      {
        ALT: () => {
          const name = this.CONSUME(T.Identifier);
          const args: A.TypeNode[] = [];
          this.OPTION2(() => {
            this.CONSUME(T.Lt);
            this.AT_LEAST_ONE_SEP({
              SEP: T.Comma,
              DEF: () => {
                const a = this.SUBRULE(this.type);
                this.ACTION(() => args.push(a));
              },
            });
            this.CONSUME(T.Gt);
          });
          return { kind: "NamedType", name: this.ident(name), args, span: this.sp(name) } as A.TypeNode;
        },
      },
    ]));
  });

  private ruleDecl = this.RULE("ruleDecl", (): A.Decl => {
    const start = this.CONSUME(K.rule);
    const text = this.OR((this.alts.ruleText ??= [{ ALT: () => this.CONSUME(T.StringLit) }, { ALT: () => this.CONSUME(T.TripleString) }]));
    return { kind: "Rule", text: this.str(text), span: this.sp(start) };
  });

  private invariantDecl = this.RULE("invariantDecl", (): A.Decl => {
    const start = this.CONSUME(K.invariant);
    const name = this.CONSUME(T.Identifier);
    const description = this.SUBRULE(this.optDescription);
    this.CONSUME(T.Colon);
    const expr = this.SUBRULE(this.expression);
    return { kind: "Invariant", name: this.ident(name), description, expr, span: this.sp(start) };
  });

  private toolDecl = this.RULE("toolDecl", (): A.Decl => {
    const start = this.OR2((this.alts.toolKind ??= [
      { ALT: () => this.CONSUME(K.query) },
      { ALT: () => this.CONSUME(K.action) },
      { ALT: () => this.CONSUME(K.fn) },
    ]));
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    const params: A.FieldDecl[] = [];
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const p = this.SUBRULE(this.fieldDecl);
        this.ACTION(() => p && params.push(p));
      },
    });
    this.CONSUME(T.RParen);
    let returnType: A.TypeNode | undefined;
    this.OPTION2(() => {
      this.CONSUME(T.ThinArrow);
      returnType = this.SUBRULE(this.type);
    });
    const description = this.SUBRULE(this.optDescription);
    const body = this.SUBRULE(this.block);
    return {
      kind: "Tool",
      toolKind: start.image as "query" | "action" | "fn",
      name: this.ident(name),
      params,
      returnType,
      description,
      body,
      span: this.sp(start),
    };
  });

  private block = this.RULE("block", (): A.Block => {
    const start = this.CONSUME(T.LCurly);
    const statements: A.Stmt[] = [];
    this.MANY(() => {
      const s = this.SUBRULE(this.statement);
      this.ACTION(() => s && statements.push(s));
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
    return { statements, span: this.sp(start) };
  });

  private statement = this.RULE("statement", (): A.Stmt => {
    return this.OR((this.alts.statement ??= [
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      {
        ALT: () => {
          const start = this.CONSUME(K.require);
          const cond = this.SUBRULE(this.expression);
          this.CONSUME(K.else);
          const message = this.SUBRULE2(this.expression);
          return { kind: "Require", cond, message, span: this.sp(start) } as A.Stmt;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(K.fail);
          const message = this.SUBRULE3(this.expression);
          return { kind: "Fail", message, span: this.sp(start) } as A.Stmt;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(K.ensure);
          const cond = this.SUBRULE4(this.expression);
          let message: A.Expr | undefined;
          this.OPTION(() => {
            this.CONSUME2(K.else);
            message = this.SUBRULE5(this.expression);
          });
          return { kind: "Ensure", cond, message, span: this.sp(start) } as A.Stmt;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(K.return);
          let value: A.Expr | undefined;
          this.OPTION2({
            GATE: () => this.LA(1).tokenType !== T.RCurly,
            DEF: () => {
              value = this.SUBRULE6(this.expression);
            },
          });
          return { kind: "Return", value, span: this.sp(start) } as A.Stmt;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(K.delete);
          const target = this.SUBRULE7(this.expression);
          return { kind: "Delete", target, span: this.sp(start) } as A.Stmt;
        },
      },
      { ALT: () => ({ kind: "Break", span: this.sp(this.CONSUME(K.break)) }) as A.Stmt },
      { ALT: () => ({ kind: "Continue", span: this.sp(this.CONSUME(K.continue)) }) as A.Stmt },
      {
        ALT: () => {
          const first = this.LA(1);
          const target = this.SUBRULE8(this.expression);
          let result: A.Stmt | undefined;
          this.OPTION3(() => {
            const op = this.OR2((this.alts.assignOp ??= [
              { ALT: () => this.CONSUME(T.Assign) },
              { ALT: () => this.CONSUME(T.PlusAssign) },
              { ALT: () => this.CONSUME(T.MinusAssign) },
            ]));
            const value = this.SUBRULE9(this.expression);
            result = this.ACTION(
              () =>
                ({ kind: "Assign", target, op: op.image as "=" | "+=" | "-=", value, span: this.sp(first) }) as A.Stmt,
            );
          });
          return result ?? ({ kind: "ExprStmt", expr: target, span: this.sp(first) } as A.Stmt);
        },
      },
    ]));
  });

  private letStmt = this.RULE("letStmt", (): A.Stmt => {
    const start = this.CONSUME(K.let);
    const name = this.CONSUME(T.Identifier);
    let type: A.TypeNode | undefined;
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      type = this.SUBRULE(this.type);
    });
    this.CONSUME(T.Assign);
    const value = this.SUBRULE(this.expression);
    let orElse: A.Expr | undefined;
    this.OPTION2(() => {
      this.CONSUME(K.else);
      orElse = this.SUBRULE2(this.expression);
    });
    return { kind: "Let", name: this.ident(name), type, value, orElse, span: this.sp(start) };
  });

  private ifStmt = this.RULE("ifStmt", (): A.Stmt => {
    const start = this.CONSUME(K.if);
    const cond = this.SUBRULE(this.expression);
    const then = this.SUBRULE(this.block);
    let otherwise: A.Block | undefined;
    this.OPTION(() => {
      this.CONSUME(K.else);
      otherwise = this.OR((this.alts.elseBranch ??= [
        {
          ALT: () => {
            const nested = this.SUBRULE(this.ifStmt);
            return this.ACTION(() => ({ statements: [nested], span: nested.span }));
          },
        },
        { ALT: () => this.SUBRULE2(this.block) },
      ]));
    });
    return { kind: "If", cond, then, otherwise, span: this.sp(start) };
  });

  private forStmt = this.RULE("forStmt", (): A.Stmt => {
    const start = this.CONSUME(K.for);
    const name = this.CONSUME(T.Identifier);
    let second: A.Ident | undefined;
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      second = this.ident(this.CONSUME2(T.Identifier));
    });
    this.CONSUME(K.in);
    const iterable = this.SUBRULE(this.expression);
    const body = this.SUBRULE(this.block);
    return { kind: "For", name: this.ident(name), second, iterable, body, span: this.sp(start) };
  });

  // ---- expressions ----

  private isLambdaAhead(): boolean {
    const t1 = this.LA(1).tokenType;
    if (t1 === T.Identifier) return this.LA(2).tokenType === T.Arrow;
    if (t1 !== T.LParen) return false;
    let i = 2;
    for (;;) {
      const t = this.LA(i).tokenType;
      if (t === T.RParen) return this.LA(i + 1).tokenType === T.Arrow;
      if (t !== T.Identifier && t !== T.Comma) return false;
      i++;
    }
  }

  public expression = this.RULE("expression", (): A.Expr => {
    return this.OR((this.alts.expression ??= [
      { GATE: () => this.isLambdaAhead(), ALT: () => this.SUBRULE(this.lambda) },
      { ALT: () => this.SUBRULE(this.quantifier) },
      { ALT: () => this.SUBRULE(this.ternary) },
    ]));
  });

  private lambda = this.RULE("lambda", (): A.Expr => {
    const first = this.LA(1);
    const params: A.Ident[] = [];
    this.OR([
      { ALT: () => { const p = this.CONSUME(T.Identifier); this.ACTION(() => params.push(this.ident(p))); } },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.MANY_SEP({
            SEP: T.Comma,
            DEF: () => { const p = this.CONSUME2(T.Identifier); this.ACTION(() => params.push(this.ident(p))); },
          });
          this.CONSUME(T.RParen);
        },
      },
    ]);
    this.CONSUME(T.Arrow);
    const body = this.SUBRULE(this.expression);
    return { kind: "Lambda", params, body, span: this.sp(first) };
  });

  private quantifier = this.RULE("quantifier", (): A.Expr => {
    const q = this.OR((this.alts.quantifier ??= [{ ALT: () => this.CONSUME(K.all) }, { ALT: () => this.CONSUME(K.any) }]));
    const variable = this.CONSUME(T.Identifier);
    this.CONSUME(K.in);
    const collection = this.SUBRULE(this.chain);
    let where: A.Expr | undefined;
    this.OPTION(() => {
      this.CONSUME(K.where);
      where = this.SUBRULE2(this.chain);
    });
    this.CONSUME(T.Colon);
    const body = this.SUBRULE(this.expression);
    return {
      kind: "Quantifier", quantifier: q.image as "all" | "any", variable: this.ident(variable),
      collection, where, body, span: this.sp(q),
    };
  });

  private ternary = this.RULE("ternary", (): A.Expr => {
    const first = this.LA(1);
    const cond = this.SUBRULE(this.chain);
    let result = cond;
    this.OPTION(() => {
      this.CONSUME(T.Question);
      const then = this.SUBRULE(this.expression);
      this.CONSUME(T.Colon);
      const otherwise = this.SUBRULE2(this.expression);
      if (!this.RECORDING_PHASE) result = { kind: "Ternary", cond, then, otherwise, span: this.sp(first) };
    });
    return result;
  });

  // Binary operators and prefixes are read flat (operand, op, operand, ...) and arranged by
  // precedence afterwards: one rule level per operand instead of one per precedence level,
  // which is where a Chevrotain parser spends its time.
  private chain = this.RULE("chain", (): A.Expr => {
    const operands: Operand[] = [this.SUBRULE(this.operand)];
    const ops: IToken[] = [];
    this.MANY(() => {
      const op = this.OR((this.alts.binaryOp ??= [
        { ALT: () => this.CONSUME(T.QQ) },
        { ALT: () => this.CONSUME(K.or) },
        { ALT: () => this.CONSUME(T.PipePipe) },
        { ALT: () => this.CONSUME(K.and) },
        { ALT: () => this.CONSUME(T.AmpAmp) },
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
        { ALT: () => this.CONSUME(K.in) },
        { ALT: () => { const not = this.CONSUME(K.not); this.CONSUME2(K.in); return not; } },
        { ALT: () => this.CONSUME(T.Plus) },
        { ALT: () => this.CONSUME(T.Minus) },
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]));
      const right = this.SUBRULE2(this.operand);
      if (!this.RECORDING_PHASE) {
        ops.push(op);
        operands.push(right);
      }
    });
    if (this.RECORDING_PHASE) return operands[0]!.expr;
    return arrange(operands, ops, this.chainErrors);
  });

  private operand = this.RULE("operand", (): Operand => {
    const prefixes: IToken[] = [];
    this.MANY(() => {
      const p = this.OR((this.alts.prefix ??= [
        { ALT: () => this.CONSUME(K.not) },
        { ALT: () => this.CONSUME(T.Minus) },
        { ALT: () => this.CONSUME(T.Bang) },
      ]));
      if (!this.RECORDING_PHASE) prefixes.push(p);
    });
    const first = this.LA(1);
    let e = this.SUBRULE(this.primary);
    this.MANY2(() => {
      this.OR2([
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const name = this.CONSUME(T.Name);
            const object = e;
            if (!this.RECORDING_PHASE) e = { kind: "Member", object, name: this.ident(name), span: this.sp(first) };
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LBracket);
            const index = this.SUBRULE(this.expression);
            this.CONSUME(T.RBracket);
            const object = e;
            if (!this.RECORDING_PHASE) e = { kind: "Index", object, index, span: this.sp(first) };
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            const args: A.Arg[] = [];
            this.MANY_SEP({
              SEP: T.Comma,
              DEF: () => {
                const a = this.SUBRULE(this.argument);
                if (!this.RECORDING_PHASE) args.push(a);
              },
            });
            this.CONSUME(T.RParen);
            const callee = e;
            if (!this.RECORDING_PHASE) e = { kind: "Call", callee, args, span: this.sp(first) };
          },
        },
      ]);
    });
    return { prefixes, expr: e };
  });

  private argument = this.RULE("argument", (): A.Arg => {
    let name: A.Ident | undefined;
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Colon,
      DEF: () => {
        name = this.ident(this.CONSUME(T.Name));
        this.CONSUME(T.Colon);
      },
    });
    const value = this.SUBRULE(this.expression);
    return { name, value };
  });

  private primary = this.RULE("primary", (): A.Expr => {
    return this.OR((this.alts.primary ??= [
      {
        ALT: () => {
          const t = this.CONSUME(T.IntLit);
          return { kind: "Int", value: Number(t.image), span: this.sp(t, t) } as A.Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.NumberLit);
          return { kind: "Number", value: Number(t.image), span: this.sp(t, t) } as A.Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLit);
          return this.ACTION(() => {
            const node = { kind: "String", parts: [] as A.StringPart[], span: this.sp(t, t) } as Extract<A.Expr, { kind: "String" }>;
            this.pending.push({ node, token: t });
            return node as A.Expr;
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.TripleString);
          return { kind: "String", parts: [this.str(t)], span: this.sp(t, t) } as A.Expr;
        },
      },
      { ALT: () => { const t = this.CONSUME(K.true); return { kind: "Bool", value: true, span: this.sp(t, t) } as A.Expr; } },
      { ALT: () => { const t = this.CONSUME(K.false); return { kind: "Bool", value: false, span: this.sp(t, t) } as A.Expr; } },
      { ALT: () => { const t = this.CONSUME(K.null); return { kind: "Null", span: this.sp(t, t) } as A.Expr; } },
      {
        ALT: () => {
          const t = this.CONSUME(T.Identifier);
          return { kind: "Name", name: t.image, span: this.sp(t, t) } as A.Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const e = this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
          return e;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(T.LBracket);
          const items: A.Expr[] = [];
          this.MANY(() => {
            const item = this.SUBRULE2(this.expression);
            this.ACTION(() => items.push(item));
            this.OPTION(() => this.CONSUME(T.Comma));
          });
          this.CONSUME(T.RBracket);
          return { kind: "List", items, span: this.sp(start) } as A.Expr;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(T.LCurly);
          const fields: { name: A.Ident; value: A.Expr }[] = [];
          this.MANY2(() => {
            const name = this.CONSUME(T.Name);
            let value: A.Expr | undefined;
            this.OPTION2(() => {
              this.CONSUME(T.Colon);
              value = this.SUBRULE3(this.expression);
            });
            this.OPTION3(() => this.CONSUME2(T.Comma));
            this.ACTION(() =>
              fields.push({
                name: this.ident(name),
                value: value ?? { kind: "Name", name: name.image, span: tokSpan(name) },
              }),
            );
          });
          this.CONSUME(T.RCurly);
          return { kind: "RecordLit", fields, span: this.sp(start) } as A.Expr;
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(K.insert);
          const table = this.CONSUME2(T.Identifier);
          const value = this.SUBRULE4(this.expression);
          return { kind: "Insert", table: this.ident(table), value, span: this.sp(start) } as A.Expr;
        },
      },
    ]));
  });
}

/** Text that starts right after `"""`: the lines after the first lose their common indentation. */
function cleanDoc(text: string): string {
  const lines = text.split("\n");
  const rest = lines.slice(1).filter((l) => l.trim());
  if (rest.length === 0) return text;
  const cut = Math.min(...rest.map((l) => /^[ \t]*/.exec(l)![0].length));
  return [lines[0], ...lines.slice(1).map((l) => l.slice(Math.min(cut, /^[ \t]*/.exec(l)![0].length)))].join("\n");
}

function dedent(text: string): string {
  const lines = text.replace(/^\n/, "").replace(/\n[ \t]*$/, "").split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n");
}

const parserPool: EnvParser[] = [];
function parserAt(depth: number): EnvParser {
  while (parserPool.length <= depth) parserPool.push(new EnvParser());
  return parserPool[depth]!;
}

/** Where "end of input" is: just after the last token (where the missing `}` belongs). */
function endOfInput(text: string, tokens: IToken[]): A.Span {
  const last = [...tokens].reverse().find(validSpan);
  const pos: A.Pos = last
    ? { offset: (last.endOffset ?? last.startOffset) + 1, line: last.endLine ?? 1, column: (last.endColumn ?? 1) + 1 }
    : offsetToPos(text, text.length, { offset: 0, line: 1, column: 1 });
  return { start: pos, end: pos };
}

function recognitionToError(e: IRecognitionException, eof: A.Span): SyntaxError {
  const tok = e.token;
  // the end-of-input token has no position: point after the last token, not at 1:1
  const span = validSpan(tok) ? tokSpan(tok) : eof;
  return { code: "ENV1001", message: e.message, span };
}

function shiftSpan(span: A.Span, base: A.Pos): A.Span {
  const shift = (p: A.Pos): A.Pos => ({
    offset: p.offset + base.offset,
    line: p.line + base.line - 1,
    column: p.line === 1 ? p.column + base.column - 1 : p.column,
  });
  return { start: shift(span.start), end: shift(span.end) };
}

function shiftTree(node: unknown, base: A.Pos): void {
  if (Array.isArray(node)) {
    for (const n of node) shiftTree(n, base);
    return;
  }
  if (!node || typeof node !== "object") return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === "span" || k === "opSpan") obj[k] = shiftSpan(v as A.Span, base);
    else if (v && typeof v === "object") shiftTree(v, base);
  }
}

function lexErrors(text: string, errors: { offset: number; line?: number; column?: number; length: number }[]): SyntaxError[] {
  return errors.map((e) => {
    const ch = text[e.offset] ?? "";
    const span: A.Span = {
      start: { offset: e.offset, line: e.line ?? 1, column: e.column ?? 1 },
      end: { offset: e.offset + e.length, line: e.line ?? 1, column: (e.column ?? 1) + e.length - 1 },
    };
    if (ch === '"')
      return { code: "ENV1003", message: "Unterminated string: close it with '\"' on the same line (use \"\"\" for text over several lines)", span } as SyntaxError;
    return { code: "ENV1002", message: `Unexpected character '${ch}'`, span } as SyntaxError;
  });
}

type Rule = "spec" | "expression";

/** How deep `"${"${...}"}"` may nest (a parser instance per level). */
const MAX_INTERPOLATION = 8;

/** The syntax tree nested past MAX_NESTING (a long `1+1+...` chain has no brackets to count). */
function treeErrors(root: unknown): SyntaxError[] {
  const e = treeNestingError(root);
  return e ? [{ ...e, fix: NESTING_FIX }] : [];
}

function runParser<R>(text: string, rule: Rule, depth: number, errors: SyntaxError[]): R | undefined {
  const lexed = T.envLexer.tokenize(text);
  errors.push(...lexErrors(text, lexed.errors));
  for (const tok of lexed.tokens)
    if (tok.tokenType === T.UnterminatedString && !(tok.image.includes("${") && !tok.image.slice(tok.image.lastIndexOf("${")).includes("}")))
      errors.push({ code: "ENV1003", message: "Unterminated string: close it with '\"' on the same line (use \"\"\" for text over several lines)", span: tokSpan(tok) });
  // brackets nested past the limit would overflow the parser's recursion: refused unparsed
  const tooDeep = bracketNestingError(lexed.tokens);
  if (tooDeep) {
    errors.push({ ...tooDeep, fix: NESTING_FIX });
    return undefined;
  }
  // strings inside `${...}` inside strings: each level is a parser of its own
  if (depth > MAX_INTERPOLATION) {
    errors.push({ code: "ENV1007", message: `Nested too deeply: strings interpolated inside strings more than ${MAX_INTERPOLATION} levels deep`, span: NO_SPAN, fix: NESTING_FIX });
    return undefined;
  }
  const parser = parserAt(depth);
  parser.misplacedHeaders = [];
  parser.input = lexed.tokens;
  parser.pending = [];
  parser.chainErrors = [];
  const result = (rule === "spec" ? parser.spec() : parser.expression()) as R;
  const eof = endOfInput(text, lexed.tokens);
  for (const e of parser.errors) errors.push(recognitionToError(e, eof));
  errors.push(...parser.chainErrors);
  const pending = parser.pending;
  for (const { node, token } of pending) expandString(node, token, depth, errors);
  return result;
}

function closedImage(tok: IToken): string {
  return tok.tokenType === T.UnterminatedString ? tok.image + '"' : tok.image;
}

function expandString(node: Extract<A.Expr, { kind: "String" }>, token: IToken, depth: number, errors: SyntaxError[]): void {
  const split = splitStringLiteral(closedImage(token));
  if (split.error) errors.push({ code: "ENV1004", message: split.error, span: node.span });
  node.parts = [];
  for (const part of split.parts) {
    if (typeof part === "string") {
      node.parts.push(part);
      continue;
    }
    const base = offsetToPos(token.image, part.offset, posOf(token));
    const inner: SyntaxError[] = [];
    const expr = part.source.trim() ? runParser<A.Expr>(part.source, "expression", depth + 1, inner) : undefined;
    for (const e of inner) errors.push({ ...e, span: shiftSpan(e.span, base) });
    if (!expr || !part.source.trim()) {
      if (!part.source.trim()) errors.push({ code: "ENV1004", message: "Empty '${}' in string: put an expression inside", span: node.span });
      node.parts.push({ kind: "Error", span: node.span });
      continue;
    }
    shiftTree(expr, base);
    node.parts.push(expr);
  }
}

function offsetToPos(image: string, offset: number, start: A.Pos): A.Pos {
  let line = start.line;
  let column = start.column;
  for (let i = 0; i < offset; i++) {
    if (image[i] === "\n") { line++; column = 1; } else column++;
  }
  return { offset: start.offset + offset, line, column };
}

/** Parse a whole .env file. Never throws: syntax problems come back as errors. */
export function parseSpec(text: string, file: string): { ast: A.SpecFile; errors: SyntaxError[] } {
  const errors: SyntaxError[] = [];
  const result = runParser<{ header?: A.EnvHeader; scenariosFor?: A.Ident; decls: A.Decl[] }>(text, "spec", 0, errors);
  const misplaced = parserAt(0).misplacedHeaders;
  for (const h of misplaced)
    errors.push({ code: "ENV1005", message: "The `env` header comes first, and only once", span: h.span });
  const header = result?.header ?? misplaced[0];
  const decls = (result?.decls ?? []).filter(Boolean);
  errors.push(...treeErrors(decls));
  for (const d of decls) {
    if (d.kind !== "Scenario") continue;
    for (const m of d.misplaced)
      errors.push({
        code: "ENV5001",
        span: m.span,
        message: m.repeated
          ? `'${m.word}' is given twice in scenario ${d.name.name}`
          : `'${m.word}' is not a scenario item: expected init, task, persona, check, reply, outcome, reward or solution`,
      });
  }
  return { ast: { file, header, scenariosFor: result?.scenariosFor, decls }, errors: dedupe(errors) };
}

/** Parse one expression (scenario checks in JSONL). Spans are relative to `text`. */
export function parseExpression(text: string): { expr?: A.Expr; errors: SyntaxError[] } {
  const errors: SyntaxError[] = [];
  const lexed = T.envLexer.tokenize(text);
  const expr = runParser<A.Expr>(text, "expression", 0, errors);
  if (expr) errors.push(...treeErrors(expr));
  const parser = parserAt(0);
  if (errors.length === 0 && lexed.tokens.length > 0) {
    // The expression rule stops at the first token it cannot use; what remains is an error.
    const consumed = (parser as unknown as { currIdx: number }).currIdx + 1;
    const rest = lexed.tokens[consumed];
    if (rest) errors.push({ code: "ENV1001", message: `Unexpected '${rest.image}' after the expression`, span: tokSpan(rest) });
  }
  return { expr, errors: dedupe(errors) };
}

function dedupe(errors: SyntaxError[]): SyntaxError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.span.start.offset}:${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
