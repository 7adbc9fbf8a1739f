// The step budget of a tool call (runtime/env.ts, Ctx.steps; charged by compiler/emit-js.ts):
// runaway loops, recursion and collections end as a clean env_fault naming the tool and the
// spec location, change nothing, and leave the environment usable; the budget comes from the
// options, else the spec's `limits { steps: N }`, else DEFAULT_MAX_STEPS. Also measures the
// steps the bundled specs' recorded examples and scenarios take, far below the default.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { envFrom } from "../helpers.js";
import { RUNAWAY } from "./runaway-spec.js";
import { DEFAULT_MAX_STEPS, WRITE_STEPS, MAX_CALL_DEPTH, Environment } from "../../runtime/index.js";
import { checkInputs } from "../../compiler/project.js";
import { loadDefinition } from "../../compiler/load.js";
import { verifyAll } from "../../compiler/verify.js";
import { loadExamples, firstExampleMismatch, defaultExamplesFile } from "../../compiler/fuzz/examples.js";


const make = (options = {}) => envFrom(RUNAWAY, {}, options);

describe("the step budget of a call", () => {
  it("ends a runaway loop with an env_fault naming the tool and the loop, fast", () => {
    const env = make();
    const t0 = performance.now();
    const r = env.call("count_up", { n: 1e9 });
    const ms = performance.now() - t0;
    expect(r).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:15:3" });
    if (r.ok) return;
    expect(r.error).toContain("count_up ran over its budget of 100,000 evaluation steps at test.env:15:3");
    expect(r.error).toContain("require");
    expect(env.lastCallSteps).toBe(DEFAULT_MAX_STEPS + 1);
    // the loop stops after the budget's iterations, not after a billion
    expect(ms).toBeLessThan(2000);
    // the environment goes on
    expect(env.call("count_up", { n: 10 })).toEqual({ ok: true, value: 45 });
    expect(env.lastCallSteps).toBe(10);
  });

  it("rolls back an action that runs over: nothing it wrote survives", () => {
    const env = make();
    const before = JSON.stringify(env.toJSON());
    const r = env.call("fill", { n: 1e9 });
    expect(r).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:23:3" });
    expect(JSON.stringify(env.toJSON())).toBe(before);
    // a write costs WRITE_STEPS: the global and n inserts, one iteration step each
    expect(env.call("fill", { n: 3 })).toEqual({ ok: true, value: 3 });
    expect(env.lastCallSteps).toBe(WRITE_STEPS + 3 * (1 + WRITE_STEPS));
    expect(env.toJSON().total).toBe(1);
  });

  it("charges a collection's length before building it: range(1e9) is no heap exhaustion", () => {
    const env = make();
    const r = env.call("numbers", { n: 1e9 });
    expect(r).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:30:12" });
    expect(env.call("numbers", { n: Number.MAX_SAFE_INTEGER })).toMatchObject({ ok: false, kind: "env_fault" });
    expect(env.call("numbers", { n: 1000 })).toEqual({ ok: true, value: 1000 });
    expect(env.lastCallSteps).toBe(1000);
  });

  it("charges lists built by joining and nested walks", () => {
    const env = make();
    expect(env.call("doubled", { n: 60 })).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:37:10" });
    expect(env.call("doubled", { n: 3 })).toEqual({ ok: true, value: 8 });
    // xs.map over n, a count over n for each: quadratic, charged as such
    expect(env.call("pairs", { n: 100_000 })).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:44:10" });
    expect(env.call("pairs", { n: 4 })).toEqual({ ok: true, value: 6 });
    expect(env.lastCallSteps).toBe(4 + 4 + 4 * 4 + 4); // range, map, a count per element, sum
  });

  it("ends a runaway recursion at the call depth limit, not a stack overflow", () => {
    const env = make({ maxSteps: 1e9 });
    const r = env.call("depth", { n: 1e6 });
    expect(r).toMatchObject({ ok: false, kind: "env_fault", location: "test.env:51:14" });
    if (!r.ok) expect(r.error).toContain(`more than ${MAX_CALL_DEPTH} deep`);
    expect(env.call("depth", { n: MAX_CALL_DEPTH - 1 })).toEqual({ ok: true, value: MAX_CALL_DEPTH - 1 });
  });

  it("takes the budget from the options, then the spec's limits, then the default", () => {
    expect(make().maxSteps).toBe(DEFAULT_MAX_STEPS);
    const small = make({ maxSteps: 50 });
    expect(small.call("count_up", { n: 50 })).toEqual({ ok: true, value: 1225 });
    expect(small.call("count_up", { n: 51 })).toMatchObject({ ok: false, kind: "env_fault" });
    // a fork keeps the budget unless told otherwise
    expect(small.fork().maxSteps).toBe(50);
    expect(small.fork({ maxSteps: 5 }).maxSteps).toBe(5);
    const spec = envFrom(RUNAWAY.replace("state {", "limits { steps: 20 }\n\nstate {"), {});
    expect(spec.maxSteps).toBe(20);
    expect(spec.call("count_up", { n: 21 })).toMatchObject({ ok: false, kind: "env_fault" });
    const overridden = envFrom(RUNAWAY.replace("state {", "limits { steps: 20 }\n\nstate {"), {}, { maxSteps: 1000 });
    expect(overridden.call("count_up", { n: 21 })).toMatchObject({ ok: true });
    // out-of-range budgets are clamped, not refused
    expect(make({ maxSteps: 0 }).maxSteps).toBe(1);
    expect(make({ maxSteps: Infinity }).maxSteps).toBe(1_000_000_000);
  });

  it("does not count invariants and scenario checks, even when they call helpers", () => {
    const src = RUNAWAY.replace(
      "query count_up",
      `fn sum_below(n: int) -> int {
  let t = 0
  for i in range(n) {
    t += i
  }
  return t
}

invariant small_total: total <= sum_below(100)

query count_up`,
    );
    const env = envFrom(src, {}, { maxSteps: 30 });
    // the action takes 1 + WRITE_STEPS steps; the invariant's helper loops 100 times after it
    expect(env.call("fill", { n: 1 })).toEqual({ ok: true, value: 1 });
    expect(env.lastCallSteps).toBe(WRITE_STEPS + 1 + WRITE_STEPS);
    expect(env.readContext().steps).toBeGreaterThan(1000);
  });
});

describe("the bundled specs", () => {
  it("take a small fraction of the default budget in every recorded example and scenario", async () => {
    let max = 0;
    let where = "";
    const orig = Environment.prototype.call;
    Environment.prototype.call = function (this: Environment, name: string, args?: unknown) {
      const r = orig.call(this, name, args);
      if (this.lastCallSteps > max) [max, where] = [this.lastCallSteps, `${this.name}.${name}`];
      return r;
    };
    try {
      const { specs } = await checkInputs(["specs"]);
      verifyAll(specs, []);
      for (const s of specs) {
        if (!s.env || s.scenariosFor || !existsSync(defaultExamplesFile(s.file))) continue;
        expect(firstExampleMismatch(loadDefinition(s.env), loadExamples(defaultExamplesFile(s.file)))).toBeUndefined();
      }
    } finally {
      Environment.prototype.call = orig;
    }
    // about 1,500 (Messaging.read_messages) when this was written
    expect(max, `heaviest call: ${where}`).toBeGreaterThan(100);
    expect(max, `heaviest call: ${where}`).toBeLessThan(DEFAULT_MAX_STEPS / 20);
  }, 60_000);
});
