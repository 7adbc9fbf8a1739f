// The LLM layer's batch runner and usage metrics, on their own: results in input order
// whatever the order answers arrive in, a fatal error ending the batch while a rejected
// request fails only its item, and the usage metrics and line every LLM run ends with (their
// keys and order are part of the report format).
import { describe, expect, it } from "vitest";
import { LlmError, runItems, sumStats, usageLine, usageMetrics, type LlmStats } from "../../llm/index.js";

const stats = (over: Partial<LlmStats> = {}): LlmStats => ({
  requests: 0, failedAttempts: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0, estimatedUsage: 0, jsonRepairs: 0,
  costUsd: null, structured: "json_schema", ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runItems", () => {
  it("gives results in input order, not in the order they finish, and ticks the progress once per item", async () => {
    let ticks = 0;
    const { results, fatal } = await runItems([30, 0, 15], async (ms, i) => {
      await sleep(ms);
      return `${i}:${ms}`;
    }, { tick: () => ticks++ } as never);
    expect(results).toEqual(["0:30", "1:0", "2:15"]);
    expect(fatal).toBeUndefined();
    expect(ticks).toBe(3);
  });

  it("returns the first fatal error with the results of the other items; other errors rethrow", async () => {
    const down = new LlmError("the server is down", "unreachable", 1);
    const r = await runItems(["a", "b", "c"], async (x) => {
      if (x === "b") throw down;
      return x.toUpperCase();
    });
    expect(r).toEqual({ results: ["A", undefined, "C"], fatal: down });
    await expect(runItems(["a"], async () => {
      throw new LlmError("too long", "rejected", 1, 400); // not fatal: the pipeline's item handling decides
    })).rejects.toThrow("too long");
    await expect(runItems(["a"], async () => {
      throw new TypeError("a bug");
    })).rejects.toThrow("a bug");
  });
});

describe("usage metrics", () => {
  it("keep their keys in report order, round cost and time, and say why a run stopped", () => {
    const m = usageMetrics(stats({ requests: 1234, failedAttempts: 2, cacheHits: 5, promptTokens: 10_000, completionTokens: 250, costUsd: 0.12345678 }), 4_249, "the server is down");
    expect(Object.keys(m)).toEqual(["requests", "failedAttempts", "cacheHits", "jsonRepairs", "tokens", "costUsd", "structured", "wallSeconds", "aborted"]);
    expect(m).toMatchObject({ costUsd: 0.123457, wallSeconds: 4.2, tokens: { prompt: 10_000, completion: 250, estimated: 0 } });
    expect(usageLine(m)).toBe("requests: 1,234 sent (2 failed), 5 cache hits; tokens: 10,000 in, 250 out, cost $0.1235; 4.2 s");
    const plain = usageMetrics(stats({ estimatedUsage: 3 }), 0);
    expect("aborted" in plain).toBe(false);
    expect(usageLine(plain)).toBe("requests: 0 sent, 0 cache hits; tokens: 0 in, 0 out (3 answers without usage, estimated); 0.0 s");
  });

  it("add up two clients (an agent and its simulated user), and one client once", () => {
    const a = stats({ requests: 2, promptTokens: 10, costUsd: 0.5 });
    const b = stats({ requests: 3, completionTokens: 7 });
    expect(sumStats(a, b)).toMatchObject({ requests: 5, promptTokens: 10, completionTokens: 7, costUsd: 0.5 });
    expect(sumStats(a, a)).toBe(a);
    expect(sumStats(a)).toBe(a);
    expect(sumStats(stats(), stats()).costUsd).toBeNull();
  });
});
