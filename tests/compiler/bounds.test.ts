// Warning ENV4017 (compiler/bounds.ts): a range whose size comes from a numeric argument that
// nothing bounds. Which bounds count (require, ensure, `if ... { fail }`, `in [...]`, through
// locals and arithmetic) and what does not raise it (collection lengths, helpers, strings).
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/pipeline.js";

function warnings(body: string, params = "n: int"): string[] {
  const src = `env W "W"\nstate { total: int = 0 }\nfn twice(x: int) -> list<int> { return range(x).map(i => i * 2) }\nquery q(${params}) -> int "Q." {\n${body}\n}\n`;
  const r = checkSource(src, "w.env");
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.diagnostics.filter((d) => d.code === "ENV4017").map((d) => d.message.match(/argument '(\w+)'/)![1]!);
}

describe("ENV4017: range over an unbounded argument", () => {
  it("warns about a for loop, a let and a lambda's range over the argument", () => {
    expect(warnings("  let t = 0\n  for i in range(n) { t += i }\n  return t")).toEqual(["n"]);
    expect(warnings("  let xs = range(n + 1)\n  return len(xs)")).toEqual(["n"]);
    expect(warnings("  return [1, 2].map(k => range(n).len()).sum()")).toEqual(["n"]);
    // through locals and arithmetic
    expect(warnings("  let k = n * 2\n  let j = k - 1\n  return range(j).len()")).toEqual(["n"]);
    // the lower end of range(a, b) needs a lower bound
    expect(warnings("  require n <= 10 else \"big\"\n  return range(m, n).len()", "n: int, m: int")).toEqual(["m"]);
  });

  it("is quiet once a require, an ensure or an if that fails bounds it", () => {
    expect(warnings("  require n <= 100 else \"too many\"\n  return range(n).len()")).toEqual([]);
    expect(warnings("  require n > 0 and 1000 >= n else \"1 to 1000\"\n  return range(n).len()")).toEqual([]);
    expect(warnings("  if n > 100 or n < 0 {\n    fail \"0 to 100\"\n  }\n  return range(n).len()")).toEqual([]);
    expect(warnings("  require n in [1, 2, 3] else \"1, 2 or 3\"\n  return range(n).len()")).toEqual([]);
    expect(warnings("  let k = n + 1\n  require k <= 10 else \"small\"\n  return range(k).len()")).toEqual([]);
    expect(warnings("  let k = n + 1\n  require n <= 10 else \"small\"\n  return range(k).len()")).toEqual([]);
    // the bound must come first
    expect(warnings("  let xs = range(n)\n  require n <= 10 else \"small\"\n  return len(xs)")).toEqual(["n"]);
  });

  it("does not follow collection lengths, strings or helpers", () => {
    expect(warnings("  let xs = [1, 2, 3].filter(x => x > n)\n  return range(xs.len()).len()")).toEqual([]);
    expect(warnings("  return range(len(s)).len()", "s: string")).toEqual([]);
    // a helper's range gets its size from its caller: not followed
    expect(warnings("  return len(twice(n))")).toEqual([]);
  });
});
