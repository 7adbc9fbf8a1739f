// Rule probes without a server: which answers can be replayed, how each is replayed on the
// sample state (setup calls must succeed; refused is a precondition or invalid arguments; a
// result field compared exactly), and what the repair prompt shows.
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { Environment } from "../../runtime/index.js";
import { mismatchFeedback, probesFromAnswer, replayProbe, replayProbes, type Probe } from "../../synth/probes.js";
import { fuzzBudget } from "../../synth/evidence.js";
import { GOOD_STATE, shelfSpec } from "./fixtures.js";

const env = checkSource(shelfSpec("Shelf"), "shelf.env").env!;
const def = loadDefinition(env);
const start = Environment.createFrom(def, GOOD_STATE);
const call = (name: string, args: unknown) => ({ name, arguments_json: JSON.stringify(args) });
const answer = (over: Partial<{ id: string; calls: { name: string; arguments_json: string }[]; expect: "ok" | "refused"; field: string | null; equals_json: string | null }>) => ({
  id: "p", rule: "a rule", calls: [call("get_book", { book_id: "B1" })], expect: "ok" as const, field: null, equals_json: null, ...over,
});
const one = (over: Parameters<typeof answer>[0]): Probe => {
  const r = probesFromAnswer([answer(over)], def);
  expect(r.malformed).toEqual([]);
  return r.probes[0]!;
};

describe("probesFromAnswer", () => {
  it("sets aside what cannot be replayed, and makes ids unique snake_case", () => {
    const r = probesFromAnswer([
      answer({ id: "Read B1!" }),
      answer({ id: "read b1" }),
      answer({ id: "ghost", calls: [call("teleport", {})] }),
      answer({ id: "bad_args", calls: [{ name: "get_book", arguments_json: "{book_id: B1}" }] }),
      answer({ id: "list_args", calls: [{ name: "get_book", arguments_json: "[1]" }] }),
      answer({ id: "no_value", field: "title", equals_json: null }),
      answer({ id: "long", calls: Array.from({ length: 7 }, () => call("get_book", { book_id: "B1" })) }),
      answer({ id: "42" }),
    ], def);
    expect(r.probes.map((p) => p.id)).toEqual(["read_b1", "read_b1_2", "probe_8_42"]);
    expect(r.malformed).toEqual([
      { id: "ghost", problem: "calls[0]: there is no tool 'teleport'" },
      { id: "bad_args", problem: expect.stringMatching(/^calls\[0\]\.arguments_json is not JSON: /) },
      { id: "list_args", problem: "calls[0].arguments_json is not a JSON object" },
      { id: "no_value", problem: "field is given without equals_json" },
      { id: "long", problem: "7 calls (at most 6)" },
    ]);
  });
});

describe("replayProbe", () => {
  const passes = (p: Probe) => expect(replayProbe(start, p)).toEqual({ calls: p.calls });

  it("passes what the spec does as expected", () => {
    passes(one({ expect: "ok", field: "title", equals_json: '"Dune"' }));
    passes(one({ calls: [call("add_copies", { book_id: "B1", amount: 0 })], expect: "refused" }));
    // arguments that do not fit the parameters are refused too
    passes(one({ calls: [call("add_copies", { book_id: "B1", amount: "many" })], expect: "refused" }));
    passes(one({ calls: [call("add_copies", { book_id: "B2", amount: 3 }), call("get_book", { book_id: "B2" })], field: "copies", equals_json: "4" }));
  });

  it("resolves references to what earlier calls returned, and returns the calls as made", () => {
    const p = one({ calls: [call("add_book", { title: "Ubik" }), call("add_copies", { book_id: "$1.book_id", amount: 2 }), call("get_book", { book_id: "$2.book_id" })], field: "copies", equals_json: "3" });
    const r = replayProbe(start, p) as { calls: { name: string; arguments: Record<string, unknown> }[] };
    const id = r.calls[1]!.arguments.book_id;
    expect(typeof id).toBe("string");
    expect(id).not.toBe("$1.book_id");
    expect(r.calls.map((c) => c.arguments)).toEqual([{ title: "Ubik" }, { book_id: id, amount: 2 }, { book_id: id }]);
    expect((replayProbe(start, one({ calls: [call("add_book", { title: "Ubik" }), call("get_book", { book_id: "$1.isbn" })] })) as { actual: string }).actual)
      .toMatch(/^call 2 \(get_book\) could not be made: \$1\.isbn: call 1's result has no isbn: \{"ok":true/);
    expect((replayProbe(start, one({ calls: [call("get_book", { book_id: "$3.book_id" })] })) as { actual: string }).actual)
      .toBe("call 1 (get_book) could not be made: $3.book_id names call 3, which is not an earlier call");
  });

  it("says what came out instead", () => {
    expect(replayProbe(start, one({ calls: [call("rename", { book_id: "B1", title: "" })], expect: "refused" }))).toMatchObject({
      expected: "the last call is refused",
      actual: 'it succeeded: {"ok":true,"value":{"book_id":"B1","title":"","copies":2}}',
    });
    expect(replayProbe(start, one({ calls: [call("get_book", { book_id: "B9" })] }))).toMatchObject({
      expected: "the last call succeeds", actual: 'it was refused (precondition): "Book not found"',
    });
    expect(replayProbe(start, one({ field: "copies", equals_json: "3" }))).toMatchObject({
      expected: "the last call succeeds with copies = 3", actual: "it succeeded with copies = 2",
    });
    expect((replayProbe(start, one({ field: "author.name", equals_json: '"Herbert"' })) as { actual: string }).actual).toMatch(/^it succeeded, but its result has no author\.name: /);
    expect(replayProbe(start, one({ calls: [call("add_copies", { book_id: "B9", amount: 1 }), call("get_book", { book_id: "B9" })] }))).toMatchObject({
      expected: "the last call succeeds, after calls that all succeed",
      actual: 'call 1 (add_copies) did not succeed: it was refused (precondition): "Book not found"',
    });
  });

  it("replays each probe on its own fork of the sample state", () => {
    const add = one({ id: "add", calls: [call("add_copies", { book_id: "B1", amount: 1 })], field: "copies", equals_json: "3" });
    const { passed, mismatches } = replayProbes(def, GOOD_STATE, [add, add, add]);
    expect(passed).toHaveLength(3);
    expect(mismatches).toEqual([]);
  });

  it("shows the model each mismatch and how to say a probe is wrong", () => {
    const p = one({ id: "empty_title", calls: [call("rename", { book_id: "B1", title: "" })], expect: "refused" });
    const text = mismatchFeedback(replayProbes(def, GOOD_STATE, [p]).mismatches);
    expect(text).toContain('- probe empty_title (rule: "a rule"):\n    1. rename({"book_id":"B1","title":""})\n  expected: the last call is refused\n  actual: it succeeded');
    expect(text).toContain("name it in a ```wrong-probes block, one line per probe, `probe_id: why the probe is wrong`");
  });
});

describe("fuzzBudget", () => {
  it("gives every tool at least 20 runs, and 0 stays off", () => {
    expect(fuzzBudget(100, env)).toBe(100); // 4 tools: 80
    expect(fuzzBudget(10, env)).toBe(80);
    expect(fuzzBudget(0, env)).toBe(0);
  });
});
