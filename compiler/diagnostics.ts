// The one registry of diagnostic codes, the Diagnostic shape every phase returns, and its
// three renderings (pretty with carets, short file:line:col, JSON). Codes never change meaning.
import type { Span } from "../grammar/ast.js";

export type Severity = "error" | "warning";

export interface Related {
  file: string;
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  file: string;
  span: Span;
  related?: Related[];
  fix?: string;
}

interface CodeInfo {
  title: string;
  severity: Severity;
  explanation: string;
  example: string;
}

const c = (title: string, explanation: string, example: string, severity: Severity = "error"): CodeInfo => ({
  title, severity, explanation, example,
});

/** Every code the compiler can report. `envc explain CODE` prints these. */
export const CODES = {
  ENV0000: c("Internal compiler error", "The compiler itself failed on this input. This is a bug in envc, not in your spec: please report it with the spec.", "(any input that crashes the compiler)"),
  ENV1001: c("Syntax error", "The parser met a token it did not expect. The message says what it expected; the parser recovers and goes on, so every syntax error in a file is reported in one pass.", "entity Book key id { id: }   // a type is missing after ':'"),
  ENV1002: c("Unexpected character", "A character that is not part of the language (such as `@` or `#`) appears outside a string or comment.", "let x = 5 # comment     // use // for comments"),
  ENV1003: c("Unterminated string", "A string opened with `\"` is not closed on the same line. Use `\"\"\"` for text over several lines.", "rule \"Members may borrow"),
  ENV1004: c("Bad string content", "A string has an unknown escape (`\\q`), an empty `${}` or an unclosed `${`. Escapes are \\n \\t \\\" \\\\ \\$ and \\uXXXX.", "fail \"Order ${id not found\""),
  ENV1005: c("Missing or misplaced env header", "A spec starts with `env Name \"Title\"`, once, before any declaration.", "entity A key id { id: string }   // no `env` line above"),
  ENV1006: c("Cannot read input", "A file or folder given on the command line cannot be read.", "envc check specs/missing.env"),
  ENV1007: c("Nested too deeply", "Brackets, blocks and expressions nest at most 100 levels deep (a chain like `a + b + c + ...` nests one level per operator), and strings interpolated inside strings at most 8. Deeper input would overflow the compiler's recursion; it never comes up in a spec written for people or agents. Bind inner parts to locals with `let`, or move nested blocks into a `fn` helper.", "return ((((((((((((... 300 parentheses ...))))))))))))"),
  ENV2001: c("Unknown name", "A name in an expression is not a local, parameter, state field, enum member, tool or built-in function.", "return partcipants   // did you mean `participants`?"),
  ENV2002: c("Unknown type", "A type name is not a built-in type (string, int, number, bool, date, datetime, json, list, map) nor a declared enum, record or entity.", "name: strng"),
  ENV2003: c("Unknown field", "A record or entity has no field with this name.", "p.nmae   // Participant has no field `nmae`"),
  ENV2004: c("Duplicate declaration", "Two top-level declarations (enum, record, entity, tool, helper, invariant) share a name.", "entity Book key id {...}\nrecord Book {...}"),
  ENV2005: c("Duplicate field", "A record, entity, state block or record literal names the same field twice.", "entity A key id { id: string, id: int }"),
  ENV2006: c("Duplicate enum member", "An enum lists the same member twice.", "enum Color { red, red }"),
  ENV2007: c("Duplicate parameter", "A tool or helper declares the same parameter twice.", "query q(id: string, id: string)"),
  ENV2008: c("Duplicate or shadowing local", "A `let`, loop variable or lambda parameter reuses a name already bound in the same tool (locals are never re-declared or shadowed), or a `let` or loop variable takes the name of a state field, which would hide that field for the rest of the body.", "let x = 1\nlet x = 2\nlet orders = 3   // `orders` is a state field"),
  ENV2009: c("Unknown tool or function", "A call names no tool, helper or built-in function.", "let n = lenght(xs)"),
  ENV2010: c("Unknown enum value", "A string literal or member name is not one of the values of the enum or union it is compared with or assigned to.", "status == \"pending\"   // status is \"open\" | \"closed\""),
  ENV2011: c("Unknown entity", "`ref X` or `table X` names something that is not an entity.", "owner: ref Usr"),
  ENV2012: c("Key field not found", "The field named after `key` is not a field of the entity.", "entity Book key isbn { book_id: string }"),
  ENV2013: c("Entity stored in several tables", "Each entity has at most one table in the state, so that a record always knows where it lives.", "state { a: table Book, b: table Book }"),
  ENV2014: c("Unknown method", "The value's type has no method with this name.", "xs.size()   // use len(xs) or xs.count()"),
  ENV2015: c("Several state blocks", "A spec has one `state { ... }` block.", "state { a: int }\nstate { b: int }"),
  ENV2016: c("Unknown argument name", "A named argument does not match a parameter of the called tool or helper.", "borrow(membr_id: \"M1\")"),
  ENV2017: c("Entity without a table", "An `insert` or `delete` names a state field that is not a table.", "insert today { ... }"),
  ENV2018: c("Local hides an enum value", "A local or parameter has the name of an enum value, so a bare use of that name means the local, not the value. Rename the local, or write the value qualified (`Status.declined`).", "let declined = 0\n... i.response != declined   // compares with the int", "warning"),
  ENV2019: c("Insert into a table with external keys", "Records of an entity declared `key k external` do not hold their key; they exist only under their key in the state JSON (as tau-bench's users do), so `insert` cannot tell where a new one goes.", "entity User key user_id external { name: string }\n... insert users { name: \"Ann\" }"),
  ENV2020: c("Reserved name", "A few names cannot be used where the generated JavaScript would misread them: `__proto__` names nothing; the names every JavaScript object inherits (`constructor`, `toString`, `valueOf`, `hasOwnProperty`, ...) cannot name fields, state fields or parameters; built-in type names (`string`, `boolean`, ...) and the generated module's imports `z` and `rt` cannot name types. Tools, records and locals with names the generated code uses itself (`call`, `fork`, `State`, `new`) are fine: the emitter renames its own side.", "entity Car key car_id { car_id: string, constructor: string }   // rename it, e.g. `constructor_value`\nrecord string { s: int }   // a built-in type name"),
  ENV3001: c("Type mismatch", "A value of one type is used where another type is required. A string literal where a date or datetime is required must be one on the calendar (`\"2024-02-30\"` and `\"tomorrow\"` are not dates), and so must a literal given to `days_between` or `date_of`.", "let n: int = \"five\"\ntoday = \"2024-02-30\"   // February 2024 has 29 days"),
  ENV3002: c("Possibly null", "An optional value (`T?`) is used where a value is required. Check it first (`if x != null`, `require x != null else ...`, `let x = ... else ...`) or give a fallback with `??`.", "return c.note.length   // note: string?"),
  ENV3003: c("Condition is not a bool", "`if`, `require`, `ensure`, invariants, `where` and predicates of filter/find/any/all/count need a `bool`.", "require p.name else \"...\""),
  ENV3004: c("Bad operand types", "An operator is applied to types it does not support, e.g. `-` on strings or `<` between a number and a string.", "let x = \"a\" - 1"),
  ENV3005: c("Cannot index", "Indexing `x[i]` needs a table or map (with a key) or a list or string (with an int).", "let c = today[0]"),
  ENV3006: c("Not callable", "Only tools, helpers, built-in functions and methods can be called.", "let y = x(1)"),
  ENV3007: c("Wrong number of arguments", "A call passes more or fewer arguments than the callee takes.", "round(1.234, 2, 3)"),
  ENV3008: c("Missing required argument", "A call to a tool or helper leaves out a required parameter.", "borrow(book_id: \"B1\")   // member_id is required"),
  ENV3009: c("Bad lambda", "A collection method expects a function of one element (or two, for pairs), like `x => x.price`.", "xs.filter(true)"),
  ENV3010: c("Bad default value", "A default must be a constant (literal, list, record or enum value) of the declared type. A date or datetime default must be one on the calendar.", "qty: int = \"one\"\ndue: date = \"2024-02-31\""),
  ENV3011: c("Key field must be a string", "Tables are JSON objects keyed by the key field, so the key field's type is `string`.", "entity A key n { n: int }"),
  ENV3012: c("Message must be a string", "`require ... else`, `fail` and `ensure ... else` take a string message.", "fail 42"),
  ENV3013: c("Bad type arguments", "`list<T>` takes one type, `map<K, V>` two with a string-like key; other types take none.", "map<int, string>"),
  ENV3014: c("Not iterable", "`for` and quantifiers iterate lists, tables and maps.", "for x in 5 { }"),
  ENV3015: c("Bad record literal", "A record literal for a known record type names a field the type lacks or leaves out a required one.", "insert books { book_id: \"B1\", titel: \"X\" }"),
  ENV3016: c("Comparison can never be true", "The two sides of `==`/`!=` have unrelated types (different enums, a number and a string), so the result is constant.", "p.status == Priority.high"),
  ENV3017: c("Needless else", "`let x = e else \"...\"` is for lookups and optional values; this value can never be missing.", "let n = 5 else \"never\""),
  ENV3018: c("Wrong return type", "A `return` value does not match the tool's declared return type.", "query q() -> int { return \"x\" }"),
  ENV3019: c("Bad limit", "`limits { steps: N }` sets how many evaluation steps one tool call may take (default 100,000): a whole number from 1 to 1,000,000,000, in one `limits` block per spec. No other limit exists.", "limits { steps: 0 }\nlimits { time: 5 }"),
  ENV4001: c("A query changes state", "Queries only read. Assignments, insert, delete and list mutation are for actions (and helpers called by actions).", "query q() { today = \"2024-01-02\" }"),
  ENV4002: c("A query calls something that changes state", "A query may only call queries and helpers that do not change state, directly or through other helpers.", "query q() { bump() }   // fn bump writes state"),
  ENV4003: c("Assignment to a key field", "A record's key field names it in its table; changing it would break the table. Insert a new record and delete the old one instead.", "b.book_id = \"B2\""),
  ENV4004: c("Insert misses required fields", "Every field that is neither optional nor defaulted must be given when inserting.", "insert books { book_id: \"B9\" }   // title, copies missing"),
  ENV4005: c("Cannot assign here", "Only paths into the state, into records read from tables, and into local values can be assigned: a state field, `t[k].f`, `x.f`, `xs[i]`, `m[k]`.", "len(xs) = 3"),
  ENV4006: c("Unreachable code", "Statements after `return`, `fail`, `break` or `continue` in the same block never run.", "return x\nlet y = 1", "warning"),
  ENV4007: c("Missing return", "A tool or helper with a return type can reach its end without returning a value.", "query q(x: int) -> int { if x > 0 { return 1 } }"),
  ENV4008: c("Return value in a tool without a return type", "Declare the return type (`-> T`) to return a value.", "action a() { return 5 }"),
  ENV4009: c("Parameters are read-only", "Tool and helper parameters cannot be assigned or changed; copy them into a `let` first.", "action a(n: int) { n = 2 }"),
  ENV4010: c("Mutation outside a statement", "`insert` is a statement or the value of a `let`; it cannot appear inside another expression, a lambda or a query.", "return books.filter(b => insert books {...})"),
  ENV4011: c("Bad delete", "`delete` takes a table or map entry: `delete books[id]`.", "delete books"),
  ENV4012: c("break or continue outside a loop", "`break` and `continue` only work inside `for`.", "action a() { break }"),
  ENV4013: c("Tool without description", "Agents see a tool only through its description; give every query and action one.", "query q() -> int { return 1 }", "warning"),
  ENV4014: c("Table type outside state", "`table X` is only a state field's type; elsewhere use `list<X>` or `map<string, X>`.", "query q(t: table Book)"),
  ENV4015: c("Unused local", "A `let` binds a value that is never read.", "let x = 5", "warning"),
  ENV4016: c("Entity has no table", "An entity is declared but no state field stores it; `ref` to it can never be satisfied.", "entity Tag key id { id: string }   // no `tags: table Tag`", "warning"),
  ENV4017: c("Range over an unbounded argument", "The size of a `range(...)` in a tool comes from a numeric argument that no earlier `require` bounds, so an agent can ask for a billion iterations: the call then runs out of its step budget (an environment fault) instead of doing its work, and `envc fuzz` reports it. Bound the argument first (`require n <= 1000 else \"...\"`, or `if n > 1000 { fail \"...\" }`).", "query squares(n: int) -> list<int> \"...\" {\n  return range(n).map(i => i * i)   // no require bounds n\n}", "warning"),
  ENV5001: c("Not a scenario item", "A scenario holds `init`, `task`, `persona`, `check` and `solution` items; `init`, `task`, `persona` and `solution` appear once each.", "scenario s { taks \"...\" }   // did you mean `task`?"),
  ENV5002: c("Incomplete scenario", "A scenario needs an initial state (`init from \"state.json\"` or an inline literal), a `task`, at least one `check` and a `solution`.", "scenario s { task \"Close ticket T1\" }   // no init, check or solution"),
  ENV5003: c("Duplicate scenario", "Two scenarios of the same environment share a name (across the spec, its scenario files and datasets).", "scenario close_t1 { ... }\nscenario close_t1 { ... }"),
  ENV5004: c("Bad solution step", "A solution step is a call of one of the environment's queries or actions, `tool(arg: value, ...)`; helpers (`fn`) are not tools.", "solution { withdraw(account_id: \"A1\", amount: 5) ; 42 }"),
  ENV5005: c("Bad solution argument", "Solution arguments are constants (literals, lists, records, enum values), each given once. Ids made by new_id are deterministic, so write them out.", "solution { close(ticket_id: tickets.keys()[0]) }"),
  ENV5006: c("Cannot read initial state", "The JSON file named by `init from` (relative to the file that names it) or by a dataset line cannot be read or is not valid JSON.", "init from \"missing.json\""),
  ENV5007: c("Invalid initial state", "A scenario's initial state does not match the state schema, has a reference to a missing record, or breaks an invariant. Each problem names its JSON path.", "init { accounts: { A1: { account_id: \"A1\", balance: -5 } } }   // invariant: balance >= 0"),
  ENV5008: c("Check true at the start", "A check already holds in the initial state, so it cannot tell a solved task from an untouched one. Checks that guard what must not change are legitimate: `envc verify --allow-initially-true` reports them as warnings.", "check \"Is the account open?\": accounts[\"A1\"].status == open   // it already is"),
  ENV5009: c("Solution step fails", "Replaying the reference solution, a call returns an error result (a failed require, bad arguments, an unknown tool), so the solution does not do the task.", "solution { withdraw(account_id: \"A1\", amount: 1000000) }   // Insufficient funds"),
  ENV5010: c("Environment fault in the solution", "Replaying the reference solution hit an environment fault (a missing key without `else`, a broken ensure or invariant): a bug in the spec on this path.", "let a = accounts[id]   // no else: a missing id is a fault"),
  ENV5011: c("Check false after the solution", "After the reference solution runs, a check does not hold: the check or the solution is wrong.", "check \"Is the balance 50?\": accounts[\"A1\"].balance == 50   // the solution leaves 40"),
  ENV5012: c("Vacuous check", "A check holds in every broken variant of the solution (each call dropped in turn, each early stop), so it does not measure whether the task was done.", "check \"Does account A1 exist?\": \"A1\" in accounts"),
  ENV5013: c("Unknown environment", "A `scenarios for Name` file or a dataset line names an environment that is not among the specs given.", "scenarios for Bnak"),
  ENV5014: c("Malformed dataset line", "A JSONL dataset line is not a JSON object with `env`, `id`, `initial` (an object, or a path to a JSON file), `task`, `checks` ([{text, expr}]) and `solution` ([{name, arguments}]).", "{\"env\": \"Bank\", \"id\": \"s1\", \"checks\": \"balance == 5\"}"),
  ENV5015: c("Misused `initial`", "`initial` is the state at the start of a scenario: it exists only in scenario checks, and is read through its fields (`initial.accounts`).", "invariant x: initial.accounts == accounts"),
  ENV5016: c("Tool call in a check", "Checks are expressions over the final state; they cannot call tools, which would run as part of judging.", "check \"Is the balance 5?\": get_balance(account_id: \"A1\") == 5"),
  ENV5017: c("Declaration in a scenarios file", "A `scenarios for Name` file holds only scenarios; entities, tools and the rest belong in the spec.", "scenarios for Bank\nentity X key id { id: string }"),
  ENV5018: c("Bad reward mode", "A scenario's `reward` is \"all\" (1 when every check and outcome holds, else 0: tau-bench's grading) or \"fraction\" (the fraction that hold; the default).", "reward \"most\""),
  ENV5019: c("Bad outcome fields", "An outcome compares the final state with the one the reference solution leaves: the whole state (`outcome \"...\"`) or the state fields it lists by name (`outcome \"...\": [orders, users]`).", "outcome \"Orders as the reference leaves them\": [order]   // the field is `orders`"),
  ENV5020: c("Answer check without a reference reply", "A check that reads `reply` (what the agent told the user) is an answer check; `envc verify` proves that a reply answering the task passes it and an empty reply fails it, so the scenario needs `reply \"...\"`.", "check \"Did the agent give the total?\": mentions(reply, \"42.50\")   // and no `reply \"...\"` item"),
} as const satisfies Record<string, CodeInfo>;

/** A diagnostic code: one of CODES's keys, so a misspelled code does not compile. */
export type Code = keyof typeof CODES;

/** Whether `code` is a known diagnostic code (for codes read from outside, like `envc explain X`). */
export function isCode(code: string): code is Code {
  return Object.hasOwn(CODES, code);
}

export function makeDiagnostic(
  code: Code,
  file: string,
  span: Span,
  message: string,
  extra: { related?: Related[]; fix?: string; severity?: Severity } = {},
): Diagnostic {
  const info = CODES[code];
  return {
    code,
    severity: extra.severity ?? info?.severity ?? "error",
    message,
    file,
    span,
    ...(extra.related ? { related: extra.related } : {}),
    ...(extra.fix ? { fix: extra.fix } : {}),
  };
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) => a.file.localeCompare(b.file) || a.span.start.offset - b.span.start.offset || a.code.localeCompare(b.code),
  );
}

// Control characters (C0 but tab and newline, DEL, C1) and invisible or direction-changing
// format characters: a spec may hold them (in a string, a name, a stray byte), and printed as
// they are, an escape sequence would drive the terminal and a bidi override would reorder text.
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `s` with every unprintable character written as an escape (`\x1b`, `\u202e`). */
export function visible(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/** `file:line:col: error ENV2001: message` */
export function renderShort(d: Diagnostic): string {
  const fix = d.fix ? ` (${visible(d.fix)})` : "";
  return `${visible(d.file)}:${d.span.start.line}:${d.span.start.column}: ${d.severity} ${d.code}: ${visible(d.message)}${fix}`;
}

/** The source line with carets under the span, plus related locations and the fix. */
export function renderPretty(d: Diagnostic, sources: ReadonlyMap<string, string>, color = false): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sev = d.severity === "error" ? paint("31;1", "error") : paint("33;1", "warning");
  const out = [`${sev} ${paint("1", d.code)}: ${visible(d.message)}`, `  --> ${visible(d.file)}:${d.span.start.line}:${d.span.start.column}`];
  out.push(...excerpt(sources.get(d.file), d.span, paint));
  for (const r of d.related ?? []) {
    out.push(`  note: ${visible(r.message)} at ${visible(r.file)}:${r.span.start.line}:${r.span.start.column}`);
    out.push(...excerpt(sources.get(r.file), r.span, paint));
  }
  if (d.fix) out.push(`  help: ${visible(d.fix)}`);
  return out.join("\n");
}

function excerpt(text: string | undefined, span: Span, paint: (c: string, s: string) => string): string[] {
  if (text === undefined) return [];
  const lines = text.split("\n");
  const line = lines[span.start.line - 1];
  if (line === undefined) return [];
  const gutter = String(span.start.line).length;
  const start = Math.max(1, span.start.column);
  const width =
    span.end.line === span.start.line ? Math.max(1, span.end.column - span.start.column + 1) : Math.max(1, line.length - start + 1);
  const pad = " ".repeat(gutter);
  // escaped characters are wider than one column: carets go under the escaped text
  const shown = (s: string) => visible(s.replace(/\t/g, " "));
  const before = shown(line.slice(0, start - 1)).length;
  const under = shown(line.slice(start - 1, start - 1 + Math.min(width, Math.max(1, line.length - start + 1)))).length;
  return [
    `${pad} |`,
    `${span.start.line} | ${shown(line)}`,
    `${pad} | ${" ".repeat(before)}${paint("31;1", "^".repeat(Math.max(1, under)))}`,
  ];
}

export function toJson(d: Diagnostic): object {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    span: {
      start: { line: d.span.start.line, column: d.span.start.column, offset: d.span.start.offset },
      end: { line: d.span.end.line, column: d.span.end.column, offset: d.span.end.offset },
    },
    ...(d.related
      ? { related: d.related.map((r) => ({ file: r.file, message: r.message, line: r.span.start.line, column: r.span.start.column })) }
      : {}),
    ...(d.fix ? { fix: d.fix } : {}),
  };
}

export function explain(code: string): string | undefined {
  const upper = code.toUpperCase();
  if (!isCode(upper)) return undefined;
  const info: CodeInfo = CODES[upper];
  return `${code.toUpperCase()} (${info.severity}): ${info.title}\n\n${info.explanation}\n\nExample:\n${info.example
    .split("\n")
    .map((l) => "    " + l)
    .join("\n")}\n`;
}

/** The nearest candidate by edit distance, for "did you mean" fixes. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const cand of candidates) {
    const d = editDistance(name.toLowerCase(), cand.toLowerCase());
    if (d < bestDist && d <= limit) {
      best = cand;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
