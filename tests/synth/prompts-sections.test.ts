// The language reference in the synth prompts: whole for spec writing, only the expression and
// scenario sections for scenario writing (each scenario step resends its system prompt).
import { describe, expect, it } from "vitest";
import { languageReference, SCENARIO_SECTIONS, scenarioSystemPrompt } from "../../synth/prompts.js";

describe("languageReference", () => {
  it("gives the whole document, or its opening and the sections named, in order", () => {
    const whole = languageReference();
    const part = languageReference(SCENARIO_SECTIONS);
    expect(part.length).toBeLessThan(whole.length / 2);
    expect(part.split("\n").filter((l) => l.startsWith("## "))).toEqual(["## Expressions", "## Scenarios"]);
    // subsections come along: mentions() (Strings) and answer checks (Scenarios)
    expect(part).toContain("### Strings");
    expect(part).toContain("### Answer checks, outcomes and all-or-nothing rewards");
    expect(part.startsWith(whole.slice(0, whole.indexOf("\n## ")))).toBe(true);
  });

  it("names a missing section instead of sending less", () => {
    expect(() => languageReference(["Expressions", "Scenarioz"])).toThrow('docs/language.md has no section "## Scenarioz"');
  });

  it("the scenario prompt carries the spec and the scenario sections, not declarations", () => {
    const p = scenarioSystemPrompt("Shelf", 'env Shelf "s"', undefined);
    expect(p).toContain("## Scenarios");
    expect(p).not.toContain("## Declarations");
    expect(p).toContain('env Shelf "s"');
  });
});
