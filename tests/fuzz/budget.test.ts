// The fuzzer and the step budget: its edge arguments include large numbers (2^31, 1e9), so a
// tool whose loop follows an unbounded argument runs over its budget while fuzzing, and that is
// a finding (an env_fault: the spec lets an agent's argument decide how long a call runs; the
// checker warned about it as ENV4017). Once a require bounds the argument, nothing is found.
import { describe, expect, it } from "vitest";
import { fuzzEnv } from "../../compiler/fuzz/engine.js";
import { loadDefinition } from "../../compiler/load.js";
import { checkSource } from "../../compiler/pipeline.js";
import { mustCheck } from "../helpers.js";

const spec = (guard: string) => `env Counter "Counts"

state {
  total: int = 0
}

query count_up(n: int "How far to count") -> int "Sum the numbers below n." {
${guard}  let t = 0
  for i in range(n) {
    t += i
  }
  return t
}

action add(amount: int) -> int "Add to the total." {
  require amount >= 0 and amount <= 10 else "0 to 10"
  total += amount
  return total
}
`;

function fuzz(source: string) {
  const env = mustCheck(source);
  return fuzzEnv(env, loadDefinition(env), [{ total: 0 }], { seed: 7, runs: 300, maxCalls: 10 });
}

describe("fuzzing against the step budget", () => {
  it("reports a loop over an unbounded argument as an env_fault finding, naming the loop", () => {
    const source = spec("");
    expect(checkSource(source, "test.env").diagnostics.map((d) => d.code)).toEqual(["ENV4017"]);
    const report = fuzz(source);
    expect(report.finding).toMatchObject({ property: "env_fault", tool: "count_up", location: "test.env:9:3" });
    expect(report.finding!.message).toContain("count_up ran over its budget of 100,000 evaluation steps");
    // shrunk to the one call that runs over
    expect(report.finding!.calls).toHaveLength(1);
    expect((report.finding!.calls[0]!.arguments as { n: number }).n).toBeGreaterThan(100_000);
  });

  it("finds nothing once a require bounds the argument", () => {
    const source = spec('  require n <= 10000 else "n is at most 10000"\n');
    expect(checkSource(source, "test.env").diagnostics).toEqual([]);
    expect(fuzz(source).finding).toBeUndefined();
  });
});
