// Property: the runtime's incremental checks after an action (only the invariants whose reads,
// helpers followed, include a changed table or global; per-record invariants only on the
// changed records) judge every action exactly as a full check of the state after it would.
// Random action sequences (arguments from the fuzzer's generator) on the bundled specs and on
// sampled mutants of them (whose actions do break invariants, across joins and through helpers):
// each action runs twice from the same state, with checks (incremental) and without (then the
// full reference and invariant check of the state it leaves). Assumes the bundled specs in specs/.
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { checkInputs } from "../../compiler/project.js";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { seedStates } from "../../compiler/fuzz/seeds.js";
import { generatedPool, validSeedStates } from "../../compiler/fuzz/engine.js";
import { ArgMaker, prng } from "../../compiler/fuzz/args.js";
import { applyMutant, generateMutants, sampleMutants } from "../../compiler/fuzz/mutate.js";
import type { IEnv } from "../../compiler/ir.js";
import { Environment, type EnvDefinition } from "../../runtime/index.js";
import { mustCheck } from "../helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Tally {
  actions: number;
  ok: number;
  broken: number;
}

/**
 * Run `steps` random calls from each start; for every action compare the incremental verdict
 * with the full one. Returns how many actions were compared, succeeded, and were refused for a
 * broken invariant or reference.
 */
function compare(env: IEnv, def: EnvDefinition, starts: Environment[], seed: number, steps: number, tally: Tally) {
  const tools = env.tools.filter((t) => t.kind !== "fn");
  const maker = new ArgMaker(env);
  const rand = prng(seed);
  for (const start of starts) {
    let live = start.fork();
    maker.beginRun();
    for (let n = 0; n < steps; n++) {
      const tool = tools[Math.floor(rand() * tools.length)]!;
      const args = maker.make(tool, live, rand, start);
      if (tool.kind !== "action") {
        live.call(tool.name, args);
        continue;
      }
      const checked = live.fork();
      const unchecked = live.fork({ checks: false });
      const inc = checked.call(tool.name, args);
      const raw = unchecked.call(tool.name, args);
      if (!raw.ok) continue; // refused or faulted before any check after the action could run
      tally.actions++;
      const refs = unchecked.referenceProblems();
      const invs = unchecked.invariantProblems();
      if (inc.ok) {
        // nothing the incremental check skipped may be broken
        expect({ tool: tool.name, args, refs, invs }).toEqual({ tool: tool.name, args, refs: [], invs: [] });
        tally.ok++;
        live = checked;
        maker.noteSuccess(tool, args, inc.value);
        continue;
      }
      expect(inc.kind).toBe("env_fault");
      const m = /^Invariant (\S+) is broken/.exec(inc.error);
      if (m) {
        // the first broken invariant, in the spec's order, is the one the incremental check named
        expect(refs).toEqual([]);
        expect(invs.length, `${tool.name} ${JSON.stringify(args)}: ${inc.error}`).toBeGreaterThan(0);
        expect(invs[0]!.message).toMatch(new RegExp(`breaks invariant ${m[1]}\\b`));
        tally.broken++;
      } else if (/^Record .* (refers to|still refers to deleted)/.test(inc.error)) {
        expect(refs.length).toBeGreaterThan(0);
        tally.broken++;
      }
      // any other fault is an `ensure` (skipped without checks): nothing to compare
    }
  }
}

// Actions that break invariants every way the incremental check must notice: through the other
// table of a join, through a table only a helper reads, through a global, by deleting a record
const JOINS = `env Joins "Members and their loans"

entity Member key member_id {
  member_id: string "e.g. M1"
  cap: int
}
entity Loan key loan_id {
  loan_id: string "e.g. L1"
  member_id: ref Member
  open: bool
}

state {
  members: table Member
  loans: table Loan
  max_cap: int = 3
}

fn open_loans(member_id: string) -> int {
  return loans.count(l => l.member_id == member_id and l.open)
}

invariant within_cap "Open loans within the member's cap": all m in members: open_loans(m.member_id) <= m.cap
invariant cap_below_max "Caps within the maximum": all m in members: m.cap <= max_cap
invariant borrower_has_room "A borrower's cap is positive": all l in loans where l.open: members[l.member_id].cap > 0
invariant few_members "At most four members": len(members) <= 4
invariant big_caps_used "Members with a cap of three have a loan": all m in members where m.cap >= 3: loans.any(l => l.member_id == m.member_id)
invariant someone_can_lend "While a member has no room, another has room for two": all m in members where m.cap == 0: members.any(o => o.cap >= 2)

action set_cap(member_id: string, cap: int) -> Member "Set a cap, unchecked." {
  let m = members[member_id] else "Member not found"
  m.cap = cap
  return m
}
action set_max(n: int) -> int "Set the maximum, unchecked." {
  max_cap = n
  return n
}
action lend(member_id: string) -> Loan "Open a loan, unchecked." {
  require member_id in members else "Member not found"
  let l = insert loans { loan_id: new_id("L"), member_id, open: true }
  return l
}
action close(loan_id: string) -> Loan "Close a loan." {
  let l = loans[loan_id] else "Loan not found"
  l.open = false
  return l
}
action reopen(loan_id: string) -> Loan "Reopen a loan, unchecked." {
  let l = loans[loan_id] else "Loan not found"
  l.open = true
  return l
}
action join(member_id: string, cap: int) -> Member "Add a member, unchecked." {
  require not (member_id in members) else "Member exists"
  let m = insert members { member_id, cap }
  return m
}
action move_loan(loan_id: string, member_id: string) -> Loan "Move a loan to another member, unchecked." {
  let l = loans[loan_id] else "Loan not found"
  require member_id in members else "Member not found"
  l.member_id = member_id
  return l
}
action drop_loan(loan_id: string) "Delete a loan." {
  require loan_id in loans else "Loan not found"
  delete loans[loan_id]
}
`;
const JOINS_STATE = {
  members: { M1: { member_id: "M1", cap: 2 }, M2: { member_id: "M2", cap: 1 }, M3: { member_id: "M3", cap: 0 }, M4: { member_id: "M4", cap: 3 } },
  loans: {
    L1: { loan_id: "L1", member_id: "M1", open: true }, L2: { loan_id: "L2", member_id: "M2", open: false },
    L3: { loan_id: "L3", member_id: "M4", open: true },
  },
  max_cap: 3,
};

describe("incremental invariant checks agree with full checks", async () => {
  const { specs } = await checkInputs([path.join(ROOT, "specs")]);
  const bundled = specs.filter((c) => c.env && !c.scenariosFor);

  it("on random action sequences of the bundled specs", () => {
    const tally: Tally = { actions: 0, ok: 0, broken: 0 };
    for (const c of bundled) {
      const def = loadDefinition(c.env!);
      const seeds = validSeedStates(def, seedStates(c.file, c.env!).states).slice(0, 4);
      // generated states too: fuller tables, so that joins meet more records
      const starts = [...seeds, ...generatedPool(c.env!, def, 1, 4, undefined, seeds)];
      compare(c.env!, def, starts, 7, 150, tally);
    }
    expect(tally.ok).toBeGreaterThan(500);
  }, 120_000);

  it("on a spec whose unchecked actions break joins, helpers' reads and globals", () => {
    const env = mustCheck(JOINS, "joins.env");
    const def = loadDefinition(env);
    const start = Environment.createFrom(def, JOINS_STATE);
    const tally: Tally = { actions: 0, ok: 0, broken: 0 };
    for (let seed = 1; seed <= 40; seed++) compare(env, def, [start], seed, 40, tally);
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.broken).toBeGreaterThan(100);
  }, 60_000);

  it("on mutants that break invariants, across tables and through helpers", () => {
    const tally: Tally = { actions: 0, ok: 0, broken: 0 };
    for (const c of bundled) {
      const starts0 = seedStates(c.file, c.env!).states;
      const mutants = sampleMutants(generateMutants(c.source, c.file, c.env!).filter((m) => !m.equivalent), 20, 3);
      for (const m of mutants) {
        const checked = checkSource(applyMutant(c.source, m), c.file);
        if (!checked.env || checked.diagnostics.some((d) => d.severity === "error")) continue;
        const def = loadDefinition(checked.env);
        const starts = validSeedStates(def, starts0).slice(0, 3);
        compare(checked.env, def, starts, m.index, 80, tally);
      }
    }
    // the comparison must have seen invariants broken, or it proved little
    expect(tally.broken).toBeGreaterThan(8);
  }, 240_000);
});
