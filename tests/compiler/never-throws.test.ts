// Property: the compiler front end never throws, on random text or on random edits of valid
// specs; problems always come back as diagnostics (and never as the internal-error code).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";

const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const valid = [...md.matchAll(/```env\n([\s\S]*?)```/g)].map((m) => m[1]!);
const fragments = [...md.matchAll(/```env-fragment\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
const corpus = [...valid, fragments];

const tokens = [
  "env", "entity", "key", "state", "table", "ref", "query", "action", "fn", "let", "if", "else", "for", "in",
  "require", "fail", "ensure", "return", "insert", "delete", "all", "any", "where", "{", "}", "(", ")", "[", "]",
  "<", ">", ":", ",", ".", "=", "==", "=>", "->", "?", "??", "+", "-", "*", "/", '"', '"${', "}", "x", "books",
  "int", "string", "list", "map", "1", "2.5", "\n", " ", "and", "or", "not", "null", "true",
];

function assertNoCrash(text: string) {
  let result: ReturnType<typeof checkSource> | undefined;
  expect(() => {
    result = checkSource(text, "fuzz.env");
  }).not.toThrow();
  const internal = result!.diagnostics.filter((d) => d.code === "ENV0000");
  expect(internal.map((d) => d.message)).toEqual([]);
  for (const d of result!.diagnostics) {
    expect(d.span.start.line).toBeGreaterThanOrEqual(1);
    expect(d.span.start.column).toBeGreaterThanOrEqual(1);
    expect(typeof d.message).toBe("string");
  }
}

describe("the compiler never throws", () => {
  it("on random strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), assertNoCrash), { numRuns: 300, seed: 42 });
  });

  it("on random token soup", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 120 }), (ts) => assertNoCrash(ts.join(" "))),
      { numRuns: 300, seed: 7 },
    );
  });

  it("on random edits of valid specs (delete, insert, swap)", () => {
    const edit = fc.record({
      which: fc.nat({ max: corpus.length - 1 }),
      ops: fc.array(
        fc.record({
          at: fc.double({ min: 0, max: 1, noNaN: true }),
          len: fc.nat({ max: 12 }),
          insert: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 })),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    fc.assert(
      fc.property(edit, ({ which, ops }) => {
        let text = corpus[which]!;
        for (const op of ops) {
          const i = Math.floor(op.at * text.length);
          text = text.slice(0, i) + op.insert + text.slice(i + op.len);
        }
        assertNoCrash(text);
      }),
      { numRuns: 400, seed: 1234 },
    );
  });
});
