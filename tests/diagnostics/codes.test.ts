// Diagnostic codes are a closed union (compiler/diagnostics.ts's Code): a misspelled code does
// not compile (the @ts-expect-error below is checked by `npm run typecheck`), and `explain`
// answers only for registered codes. ENV2008's explanation covers both rules that report it.
import { describe, expect, it } from "vitest";
import { CODES, explain, isCode, makeDiagnostic } from "../../compiler/diagnostics.js";
import { checkSource } from "../../compiler/pipeline.js";

const span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 1, line: 1, column: 2 } };

describe("diagnostic codes", () => {
  it("are a closed set: an unknown code is a type error and not a code at run time", () => {
    // @ts-expect-error ENV9999 is not a registered code
    const d = makeDiagnostic("ENV9999", "x.env", span, "nothing");
    expect(isCode(d.code)).toBe(false);
    expect(isCode("ENV2001")).toBe(true);
    expect(explain("ENV9999")).toBeUndefined();
    expect(explain("env2001")).toMatch(/^ENV2001 \(error\)/);
    expect(Object.keys(CODES).every((c) => /^ENV\d{4}$/.test(c))).toBe(true);
  });

  it("ENV2008 is explained for both of its rules: a name bound twice, and a local hiding a state field", () => {
    const spec = (body: string) => `env S "s"\nentity A key id { id: string }\nstate { as: table A\n n: int = 0 }\nquery q() -> int "q" {\n${body}\n}\n`;
    const twice = checkSource(spec("let x = 1\nlet x = 2\nreturn x"), "s.env").diagnostics.find((d) => d.code === "ENV2008");
    const hides = checkSource(spec("let n = 1\nreturn n"), "s.env").diagnostics.find((d) => d.code === "ENV2008");
    expect(twice?.message).toMatch(/already bound/);
    expect(hides?.message).toMatch(/hides the state field/);
    const text = explain("ENV2008")!;
    expect(text).toMatch(/already bound/);
    expect(text).toMatch(/name of a state field/);
  });
});
