// envc examples beyond the random search: the probes' twin of a definition behaves as the
// definition and reports each ordering comparison's sides; comparisons get examples on and
// next to their boundary; and the local search reaches a precondition that only a state no
// action makes can trip (a closed desk) and a boundary that only a changed record can sit on (a
// supervisor whose limit is exactly the 50000 a require compares it with), and a count cap that
// only copies of a record reach (a fourth open ticket for an agent). Without the local
// search neither is recorded and envc mutate's mutants there survive; with it, the examples
// kill them. Deterministic like the rest of the recorder.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkFile } from "../../compiler/project.js";
import { attachScenarioFiles } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { seedStateSources, seedStates } from "../../compiler/fuzz/seeds.js";
import { Environment, KEY_ORDER, changedState, parseJsonOrdered, stateChangesOf } from "../../runtime/index.js";
import { runEnvc } from "../helpers.js";
import {
  findExamples, examplesToJsonl, loadExamples, expectationsFileOf, exampleKind, firstExampleMismatch, type ExampleOptions,
} from "../../compiler/fuzz/examples.js";
import { Probes, stepsApart } from "../../compiler/fuzz/probes.js";
import { mutateSpec, type MutationSubject } from "../../compiler/fuzz/mutate.js";

const SPEC = `env Approvals "Claims approved at a desk by staff within their limit"

entity Staff key staff_id "A member of staff" {
  staff_id: string
  limit: int
}

entity Desk key desk_id "A desk claims are approved at" {
  desk_id: string
  open: bool = true
}

entity Claim key claim_id "A claim" {
  claim_id: string
  amount: int
  flagged: bool = false
  status: "open" | "approved" = "open"
}

state {
  staff: table Staff
  desks: table Desk
  claims: table Claim
}

query claims_over(amount: int) -> list<Claim> "Open claims above an amount." {
  return claims.filter(c => c.status == "open" and c.amount > amount)
}

action approve(claim_id: string, staff_id: string, desk_id: string) -> Claim "Approve an open claim." {
  let c = claims[claim_id] else "No claim \${claim_id}"
  let s = staff[staff_id] else "No staff member \${staff_id}"
  let d = desks[desk_id] else "No desk \${desk_id}"
  require c.status == "open" else "Claim \${claim_id} is not open"
  require d.open else "Desk \${desk_id} is closed"
  require c.amount <= s.limit else "Over \${s.staff_id}'s limit"
  require not c.flagged or s.limit >= 50000 else "Flagged claims need a senior approver"
  c.status = "approved"
  return c
}
`;

const STATE = {
  staff: { S1: { staff_id: "S1", limit: 20000 }, S2: { staff_id: "S2", limit: 100000 } },
  desks: { D1: { desk_id: "D1", open: true } },
  claims: { C1: { claim_id: "C1", amount: 500, flagged: true }, C2: { claim_id: "C2", amount: 300 } },
};

// no generated states: nothing but the local search can close a desk or set a limit
const OPTIONS: ExampleOptions = { seed: 5, runs: 400, maxCalls: 3, perTool: 3, generated: false };

let dir: string;
let specFile: string;
const lineOf = (text: string) => SPEC.split("\n").findIndex((l) => l.includes(text)) + 1;
const colOf = (text: string, part: string) => SPEC.split("\n")[lineOf(text) - 1]!.indexOf(part) + 1;

async function load() {
  const spec = await checkFile(specFile);
  attachScenarioFiles([spec]);
  return { spec, env: spec.env!, def: loadDefinition(spec.env!) };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "envc-deepen-"));
  specFile = path.join(dir, "approvals.env");
  writeFileSync(specFile, SPEC);
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(STATE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("boundary probes", () => {
  it("behave as the definition and report each comparison's sides", async () => {
    const { env, def } = await load();
    const probes = new Probes(env, def);
    const plain = Environment.createFrom(def, STATE);
    const probed = Environment.createFrom(probes.def, STATE);
    probes.reset();
    const r = probed.call("claims_over", { amount: 499 });
    expect(r).toEqual(plain.call("claims_over", { amount: 499 }));
    const site = probes.sites.findIndex((s) => s.line === lineOf("c.amount > amount"));
    // C1 (500) is one above 499, C2 (300) far below
    expect(probes.hits().get(site)).toEqual({ mask: 4, samples: [[500, 499], [300, 499]] });
    probes.reset();
    probed.call("approve", { claim_id: "C1", staff_id: "S2", desk_id: "D1" });
    const atLimit = probes.sites.findIndex((s) => s.line === lineOf("s.limit >= 50000"));
    expect(probes.hits().get(atLimit)?.samples).toEqual([[100000, 50000]]);
  });

  it("count dates by the day and datetimes by the minute", () => {
    expect(stepsApart("2024-03-01", "2024-02-29")).toBe(1);
    expect(stepsApart("2024-03-01T09:00", "2024-03-01T09:01")).toBe(-1);
    expect(stepsApart("b", "a")).toBeUndefined();
    expect(stepsApart("a", "a")).toBe(0);
  });
});

describe("an episode's set: changes made to its initial state", () => {
  it("changes a copy, keeps the key order of tables, and names a path that is not there", () => {
    const state = parseJsonOrdered('{"t": {"2": {"n": 1}, "1": {"n": 2}}, "g": 3}') as Record<string, Record<string, unknown>>;
    const changed = changedState(state, [{ path: ["t", "1", "n"], value: 9 }, { path: ["g"], value: 4 }]) as typeof state;
    expect(changed.t!["1"]).toEqual({ n: 9 });
    expect(changed.g).toBe(4);
    expect((changed.t as Record<symbol, unknown>)[KEY_ORDER]).toEqual(["2", "1"]);
    expect(state.t!["1"]).toEqual({ n: 2 });
    expect(() => changedState(state, [{ path: ["t", "3", "n"], value: 1 }])).toThrow(/nothing at \["t","3","n"\]/);
    expect(stateChangesOf([{ path: [], value: 1 }])).toMatch(/"set"\[0\] must be/);
    expect(stateChangesOf({})).toMatch(/must be a list/);
  });
});

describe("envc examples' local search", () => {
  it("trips a precondition only a changed state can trip, and sits on a boundary only a changed record reaches", async () => {
    const { spec, env, def } = await load();
    const { seeds } = seedStateSources(spec.file, env);
    const closed = `approve.fails.L${lineOf("require d.open")}`;
    const senior = `approve.edge.L${lineOf("s.limit >= 50000")}:${colOf("s.limit >= 50000", "s.limit >= 50000")}.at`;

    const without = findExamples(env, def, seeds, { ...OPTIONS, deepen: false }).examples.map((e) => e.id);
    expect(without).not.toContain(closed);
    expect(without).not.toContain(senior);

    const set = findExamples(env, def, seeds, OPTIONS);
    const ids = set.examples.map((e) => e.id);
    expect(ids).toContain(closed);
    expect(ids).toContain(senior);
    // the senior boundary: a state where someone's limit is exactly 50000, written inline
    const ex = set.examples.find((e) => e.id === senior)!;
    expect(ex.goal).toBe(`at ${spec.file}:${lineOf("s.limit >= 50000")}:${colOf("s.limit >= 50000", "s.limit >= 50000")}`);
    const limits = Object.values(set.starts[ex.start]!.env.toJSON().staff as Record<string, { limit: number }>).map((s) => s.limit);
    expect(limits).toContain(50000);
    expect(set.starts[ex.start]!.seed).toBeUndefined();
    // one step below and above the boundary too
    for (const side of ["below", "above"]) expect(ids).toContain(senior.replace(/\.at$/, `.${side}`));
    expect(set.examples.filter((e) => exampleKind(e) === "edge").length).toBeGreaterThan(3);

    // deterministic, and the file replays clean
    const file = path.join(dir, "examples.jsonl");
    const a = examplesToJsonl(set, file);
    expect(examplesToJsonl(findExamples(env, def, seeds, OPTIONS), file)).toEqual(a);
    expect(a.episodes).toContain(`"goal":"at approvals.env:${lineOf("s.limit >= 50000")}:`);
    // a changed copy of the state file is written as the file and the change
    const line = a.episodes.split("\n").find((l) => l.includes(`"id":"${senior}"`))!;
    expect(line).toMatch(/"initial":"state\.json","set":\[\{"path":\["staff","S\d","limit"\],"value":50000\}\]/);
    writeFileSync(file, a.episodes);
    writeFileSync(expectationsFileOf(file), a.expectations);
    const replay = await runEnvc(["replay", specFile, "--episodes", file, "--expect", expectationsFileOf(file)]);
    expect(replay.code, replay.out + replay.err).toBe(0);
    expect(replay.out).toMatch(/replay: (\d+)\/\1 identical/);
    expect(firstExampleMismatch(def, loadExamples(file))).toBeUndefined();
  });

  it("kills in envc mutate the mutants that only those examples tell apart", async () => {
    const { spec, env, def } = await load();
    const { seeds } = seedStateSources(spec.file, env);
    const base: MutationSubject = { file: spec.file, source: spec.source, env, scenarioFiles: [], seedStates: seedStates(spec.file, env).states };
    const scored = (deepen: boolean) => {
      const file = path.join(dir, `examples-${deepen}.jsonl`);
      const { episodes, expectations } = examplesToJsonl(findExamples(env, def, seeds, { ...OPTIONS, deepen }), file);
      writeFileSync(file, episodes);
      writeFileSync(expectationsFileOf(file), expectations);
      const report = mutateSpec({ ...base, examples: loadExamples(file), examplesFile: file }, { seed: 1, runs: 30, maxCalls: 6, generated: false });
      const status = (text: string) => report.results.filter((r) => r.description.includes(text)).map((r) => r.status);
      return { drop: status("drop `require d.open`"), flip: status("`>=` -> `>` in `s.limit >= 50000`"), limit: status("`50000` -> `50001`"), below: status("`50000` -> `49999`") };
    };
    expect(scored(false)).toEqual({ drop: ["survived"], flip: ["survived"], limit: ["survived"], below: ["survived"] });
    expect(scored(true)).toEqual({ drop: ["killed"], flip: ["killed"], limit: ["killed"], below: ["killed"] });
  });

  it("raises a count to a cap with copies of a record that refers to the one the call names", async () => {
    // no action opens a ticket: only a state with three open tickets for an agent trips the cap
    const queue = `env Queue "Tickets assigned to agents"

entity Agent key agent_id "An agent" {
  agent_id: string
}

entity Ticket key ticket_id "A ticket" {
  ticket_id: string
  agent_id: ref Agent?
  open: bool = true
}

state {
  agents: table Agent
  tickets: table Ticket
}

action take(ticket_id: string, agent_id: string) -> Ticket "An agent takes an unassigned ticket." {
  let t = tickets[ticket_id] else "No ticket \${ticket_id}"
  require agent_id in agents else "No agent \${agent_id}"
  require t.agent_id == null else "Ticket \${ticket_id} is taken"
  require tickets.count(x => x.agent_id == agent_id and x.open) < 3 else "Agent \${agent_id} has three open tickets"
  t.agent_id = agent_id
  return t
}
`;
    const sub = path.join(dir, "queue");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(sub, { recursive: true });
    const file = path.join(sub, "queue.env");
    writeFileSync(file, queue);
    writeFileSync(path.join(sub, "state.json"), JSON.stringify({
      agents: { A1: { agent_id: "A1" } },
      tickets: { T1: { ticket_id: "T1", agent_id: "A1" }, T2: { ticket_id: "T2" } },
    }));
    const spec = await checkFile(file);
    attachScenarioFiles([spec]);
    const env = spec.env!;
    const capLine = queue.split("\n").findIndex((l) => l.includes("< 3 else")) + 1;
    const set = findExamples(env, loadDefinition(env), seedStateSources(spec.file, env).seeds, OPTIONS);
    const capped = set.examples.find((e) => e.id === `take.fails.L${capLine}`);
    expect(capped, set.examples.map((e) => e.id).join(" ")).toBeDefined();
    const line = examplesToJsonl(set, path.join(sub, "examples.jsonl")).episodes.split("\n").find((l) => l.includes(`"id":"take.fails.L${capLine}"`))!;
    // two copies of A1's open ticket: three open, the cap
    expect(line).toContain('"set":[{"path":["tickets","T1-copy1"],"value":{"ticket_id":"T1-copy1","agent_id":"A1","open":true}},{"path":["tickets","T1-copy2"],');
  });
});
