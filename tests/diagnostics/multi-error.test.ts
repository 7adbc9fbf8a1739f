// One pass reports every problem: several type/name errors in different tools, and several
// syntax errors in different places (the parser recovers and goes on).
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/pipeline.js";
import { renderShort, type Diagnostic } from "../../compiler/diagnostics.js";

/** 1-based line and column of the first occurrence of `snippet` (at `offset` characters into it). */
function posOf(src: string, snippet: string, offset = 0): { line: number; column: number } {
  const at = src.indexOf(snippet);
  if (at < 0) throw new Error(`snippet not in source: ${snippet}`);
  const before = src.slice(0, at + offset);
  const lines = before.split("\n");
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

const show = (ds: readonly Diagnostic[]) => ds.map((d) => renderShort(d)).join("\n") || "(no diagnostics)";

const HEAD = `env Library "Library loans"

enum MemberStatus { active, suspended }

entity Book key book_id "A title in the catalogue" {
  book_id: string
  title: string
  copies: int "Copies the library owns"
}

entity Member key member_id {
  member_id: string
  name: string
  status: MemberStatus = active
}

state {
  books: table Book
  members: table Member
  today: date = "2024-01-01"
}
`;

describe("several errors in one spec", () => {
  it("reports a type or name error in each of three tools, each on its own line", () => {
    const src = `${HEAD}
query find_book(book_id: string) -> Book "Look up a book by its id."
{
  let b = books[book_id] else "Book not found"
  return bok
}

action add_copies(book_id: string, amount: int = 1) -> Book "Add copies of a book to the catalogue."
{
  let b = books[book_id] else "Book not found"
  let limit: int = "100"
  require b.copies + amount <= limit else "Too many copies"
  b.copies += amount
  return b
}

query title_of(book_id: string) -> string "The title of a book."
{
  let b = books[book_id] else "Book not found"
  return b.titel
}
`;
    const r = checkSource(src, "multi-type.env");
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    const expected = [
      { code: "ENV2001", ...posOf(src, "return bok", 7) },
      { code: "ENV3001", ...posOf(src, 'let limit: int = "100"', 17) },
      { code: "ENV2003", ...posOf(src, "return b.titel", 9) },
    ];
    expect(
      errors.map((d) => ({ code: d.code, line: d.span.start.line, column: d.span.start.column })),
      `expected exactly these three errors, got:\n${show(r.diagnostics)}`,
    ).toEqual(expected);
    expect(new Set(errors.map((d) => d.span.start.line)).size).toBe(3);
    // the three errors lie in three different tools
    const toolOf = (line: number) => src.split("\n").slice(0, line).filter((l) => /^(query|action|fn) /.test(l)).at(-1);
    expect(new Set(errors.map((d) => toolOf(d.span.start.line))).size).toBe(3);
  });

  it("reports three syntax errors in different declarations in one pass", () => {
    const src = `${HEAD}
record Shelf "A shelf in the reading room" {
  shelf_id: string
  capacity int
}

query find_book(book_id: string) -> Book "Look up a book by its id."
{
  let = books[book_id] else "Book not found"
  return books[book_id]
}

action add_copies(book_id: string, amount: int = 1) -> Book "Add copies of a book to the catalogue."
{
  let b = books[book_id] else "Book not found"
  require amount > 0 "The amount must be positive"
  b.copies += amount
  return b
}
`;
    const r = checkSource(src, "multi-syntax.env");
    const expected = [
      { code: "ENV1001", ...posOf(src, "capacity int", 9) }, // missing ':'
      { code: "ENV1001", ...posOf(src, "let = books", 4) }, // missing name after let
      { code: "ENV1001", ...posOf(src, 'amount > 0 "The', 11) }, // missing else
    ];
    expect(
      r.diagnostics.map((d) => ({ code: d.code, line: d.span.start.line, column: d.span.start.column })),
      `expected exactly these three syntax errors, got:\n${show(r.diagnostics)}`,
    ).toEqual(expected);
    expect(r.diagnostics.every((d) => d.severity === "error")).toBe(true);
    expect(r.diagnostics[0]!.message).toBe("Expected ':' but found 'int'");
    expect(r.diagnostics[2]!.message).toContain("Expected 'else'");
    // syntax errors stop the pipeline before the checker: no environment, no type errors
    expect(r.env).toBeUndefined();
  });

  it("reports syntax errors of different kinds (lexer and parser) together", () => {
    const src = `${HEAD}
query find_book(book_id: string) -> Book "Look up a book by its id."
{
  let b = books[book_id] else "Book not found" # the usual lookup
  return b
}

action add_copies(book_id: string, amount: int = 1) -> Book "Add copies of a book to the catalogue."
{
  let b = books[book_id] else "No book \\q here"
  require amount > 0 "The amount must be positive"
  return b
}
`;
    const r = checkSource(src, "multi-kinds.env");
    expect(
      r.diagnostics.map((d) => ({ code: d.code, line: d.span.start.line, column: d.span.start.column })),
      show(r.diagnostics),
    ).toEqual([
      { code: "ENV1002", ...posOf(src, "# the usual") },
      { code: "ENV1004", ...posOf(src, '"No book') },
      { code: "ENV1001", ...posOf(src, 'amount > 0 "The', 11) },
    ]);
  });
});
