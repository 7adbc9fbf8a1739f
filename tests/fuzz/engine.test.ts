// The fuzzer finds planted bugs of each kind, shrinks them, and writes counterexamples that
// `envc replay` reproduces; on sound specs it reports coverage and nothing else.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fuzzEnv, coverageReport } from "../../compiler/fuzz/engine.js";
import { loadDefinition } from "../../compiler/load.js";
import { Environment, runEpisode, type EnvDefinition } from "../../runtime/index.js";
import { mustCheck, runEnvc } from "../helpers.js";

const SPEC = `env Shelf "A shelf of books"

entity Book key book_id "A title" {
  book_id: string "e.g. B1"
  title: string
  copies: int
}

state {
  books: table Book
  moves: int = 0
}

invariant copies_not_negative "No book has fewer than zero copies": all b in books: b.copies >= 0

query get_book(book_id: string) -> Book "Read one book." {
  let b = books[book_id] else "Book not found"
  return b
}

query count_books() -> int "How many titles." {
  return len(books)
}

action add_copies(book_id: string, amount: int) -> Book "Add copies of a book." {
  let b = books[book_id] else "Book not found"
  require amount > 0 else "The amount must be positive"
  b.copies += amount
  moves += 1
  return b
}

action remove_copies(book_id: string, amount: int) -> Book "Remove copies of a book." {
  let b = books[book_id] else "Book not found"
  require amount > 0 else "The amount must be positive"
  require b.copies >= amount else "Not enough copies"
  b.copies -= amount
  moves += 1
  return b
}
`;
const STATE = { books: { B1: { book_id: "B1", title: "Dune", copies: 2 }, B2: { book_id: "B2", title: "Emma", copies: 0 } } };
const OPTIONS = { seed: 42, runs: 150, maxCalls: 12, generated: true };

function fuzz(source: string, patch?: (def: EnvDefinition) => void) {
  const env = mustCheck(source, "shelf.env");
  const def = loadDefinition(env);
  patch?.(def);
  return { report: fuzzEnv(env, def, [STATE], OPTIONS), def };
}

describe("envc fuzz engine", () => {
  it("passes a sound spec, with coverage of every tool and of every require", () => {
    const { report } = fuzz(SPEC);
    expect(report.finding).toBeUndefined();
    expect(report.calls).toBeGreaterThan(500);
    for (const c of report.coverage) expect(c.ok, c.tool).toBeGreaterThan(0);
    const remove = report.coverage.find((c) => c.tool === "remove_copies")!;
    expect(remove.requires.map((r) => r.failures > 0)).toEqual([true, true, true]);
    const { table } = coverageReport(report);
    expect(table[0]).toMatch(/^tool\s+kind\s+calls\s+ok/);
  });

  it("is deterministic: the same seed gives the same report", () => {
    const a = fuzz(SPEC).report;
    const b = fuzz(SPEC).report;
    expect({ ...a, ms: 0, setupMs: 0 }).toEqual({ ...b, ms: 0, setupMs: 0 });
  });

  it("catches an invariant broken by one action, shrunk to that action", () => {
    const { report, def } = fuzz(SPEC.replace('  require b.copies >= amount else "Not enough copies"\n', ""));
    const f = report.finding!;
    expect(f.property).toBe("env_fault");
    expect(f.message).toContain("copies_not_negative");
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.name).toBe("remove_copies");
    // the counterexample reproduces
    const start = Environment.createFrom(def, f.initial);
    const run = runEpisode(start, f.calls, "json");
    expect(run.results.at(-1)).toMatchObject({ ok: false, kind: "env_fault" });
  });

  it("catches a crash on a missing key", () => {
    const { report } = fuzz(SPEC.replace('let b = books[book_id] else "Book not found"\n  return b', "let b = books[book_id]\n  return b"));
    expect(report.finding).toMatchObject({ property: "env_fault", tool: "get_book" });
    expect(report.finding!.location).toMatch(/^shelf\.env:\d+:\d+$/);
    expect(report.finding!.calls).toHaveLength(1);
  });

  it("catches a failed call that leaves a partial change (a transaction broken from inside)", () => {
    const { report } = fuzz(SPEC, (def) => {
      const tool = def.tools.find((t) => t.name === "remove_copies")!;
      const run = tool.run;
      tool.run = (s, a) => {
        s.gw().moves = (s.g.moves as number) + 100; // a write...
        s.store.commit(); // ...made permanent mid-call, as a broken emitter might
        s.store.begin();
        return run(s, a);
      };
    });
    expect(report.finding).toMatchObject({ property: "failed_call_changed_state", tool: "remove_copies" });
  });

  it("catches a query that writes (as one calling a writing helper would, were the checker bypassed)", () => {
    const { report } = fuzz(SPEC, (def) => {
      const query = def.tools.find((t) => t.name === "count_books")!;
      query.run = (s) => {
        s.gw().moves = 7;
        return s.t.books.size;
      };
    });
    expect(report.finding).toMatchObject({ property: "query_changed_state", tool: "count_books" });
    expect(report.finding!.calls.at(-1)!.name).toBe("count_books");
  });

  it("catches a result that is not of the declared type", () => {
    const { report } = fuzz(SPEC, (def) => {
      const query = def.tools.find((t) => t.name === "count_books")!;
      query.run = () => "many";
    });
    expect(report.finding).toMatchObject({ property: "result_type", tool: "count_books" });
  });

  it("catches a tool whose result depends on something outside the state (a replay differs)", () => {
    let clock = 0; // a hidden counter, as a tool reading the wall clock or Math.random would have
    const { report } = fuzz(SPEC, (def) => {
      const action = def.tools.find((t) => t.name === "add_copies")!;
      const run = action.run;
      action.run = (s, a) => {
        s.gw().moves = ++clock;
        return run(s, a);
      };
    });
    expect(report.finding).toMatchObject({ property: "nondeterministic" });
    expect(report.finding!.calls.some((c) => c.name === "add_copies")).toBe(true);
  });
});

describe("envc fuzz command", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "envc-fuzz-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the coverage table and passes a sound spec", async () => {
    const folder = path.join(dir, "ok");
    mkdirSync(folder);
    writeFileSync(path.join(folder, "shelf.env"), SPEC);
    writeFileSync(path.join(folder, "state.json"), JSON.stringify(STATE));
    const r = await runEnvc(["fuzz", folder, "--runs", "60", "--seed", "3"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Shelf \(.*shelf\.env\): 60 runs, [\d,]+ calls/);
    expect(r.out).toMatch(/remove_copies\s+action\s+\d+/);
    expect(r.out).toContain("fuzz: 1 spec");
    expect(r.out).toContain("no finding");
  });

  it("on a finding: exit 1, the shrunk calls, files that envc replay reproduces", async () => {
    const folder = path.join(dir, "bad");
    mkdirSync(folder);
    writeFileSync(path.join(folder, "shelf.env"), SPEC.replace('  require b.copies >= amount else "Not enough copies"\n', ""));
    writeFileSync(path.join(folder, "state.json"), JSON.stringify(STATE));
    const out = path.join(dir, "failures");
    const r = await runEnvc(["fuzz", folder, "--runs", "100", "--seed", "5", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("FINDING in Shelf: environment fault in remove_copies");
    expect(r.err).toMatch(/\[1\] remove_copies\(/);
    const state = path.join(out, "Shelf-env_fault.state.json");
    const calls = path.join(out, "Shelf-env_fault.calls.jsonl");
    expect(existsSync(state) && existsSync(calls)).toBe(true);
    expect(r.err).toContain(`reproduce: envc replay ${path.join(folder, "shelf.env")} --init ${state} --calls ${calls}`.replace(/\\/g, "/"));
    const replay = await runEnvc(["replay", path.join(folder, "shelf.env"), "--init", state, "--calls", calls, "--format", "json"]);
    const doc = JSON.parse(replay.out);
    expect(doc.calls.at(-1).result).toMatchObject({ ok: false, kind: "env_fault" });
    expect(doc.calls.at(-1).result.error).toContain("copies_not_negative");
    expect(readFileSync(calls, "utf8").trim().split("\n")).toHaveLength(doc.calls.length);
  });
});
