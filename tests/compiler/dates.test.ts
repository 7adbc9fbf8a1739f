// Dates that cannot fault, end to end: a calendar-invalid date in a tool argument is an
// invalid_args result naming the parameter and the value (through Environment.call, the fast
// argument path and zod alike, and through `envc call`), never an environment fault; in a state
// file a load error naming its JSON path; in a default, a literal or a scenario's solution a
// check error. The rules themselves are runtime/dates.ts, tested in tests/runtime/dates.test.ts.
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkSource } from "../../compiler/pipeline.js";
import { loadDefinition } from "../../compiler/load.js";
import { loadDataset } from "../../compiler/dataset.js";
import { verifyAll } from "../../compiler/verify.js";
import { typeProblem } from "../../compiler/fuzz/types.js";
import { Environment, StateError, EDGE_DATES, EDGE_DATETIMES, isDate, isDatetime } from "../../runtime/index.js";
import { fastArgsFor } from "../../runtime/fast-args.js";
import { mustCheck, runEnvc } from "../helpers.js";

const CLAIMS = `env Claims "Insurance claims"

entity Claim key claim_id "A claim on a policy" {
  claim_id: string
  incident_date: date
  filed_on: date
  review_by: date
  reported_at: datetime?
}

state {
  claims: table Claim
  today: date = "2024-03-01"
  holidays: map<date, string> = {}
}

action file_claim(incident_date: date, reported_at: datetime? = null) -> Claim "File a claim for an incident; it is reviewed within 30 days."
{
  require incident_date <= today else "The incident cannot be in the future"
  require days_between(incident_date, today) <= 365 else "Claims are filed within a year"
  let c = insert claims { claim_id: new_id("C"), incident_date, filed_on: today, review_by: date_add(incident_date, 30), reported_at }
  return c
}

query claims_since(day: date) -> list<Claim> "Claims for incidents on or after a day."
{
  return claims.filter(c => c.incident_date >= day)
}
`;

const EMPTY = { claims: {}, today: "2024-03-01" };

function claimsEnv(state: unknown = EMPTY): Environment {
  return Environment.createFrom(loadDefinition(mustCheck(CLAIMS, "claims.env")), state);
}

function errorsOf(source: string): { code: string; message: string; line: number }[] {
  return checkSource(source, "t.env").diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, message: d.message, line: d.span.start.line }));
}

describe("a calendar-invalid date argument", () => {
  it("is invalid_args naming the parameter and the value, never an env_fault", () => {
    const env = claimsEnv();
    // valid calls take the fast argument path; the rest go to zod, which words the reason
    for (const t of env.def.tools) expect(fastArgsFor(t.args), t.name).not.toBeNull();
    const before = JSON.stringify(env.toJSON());
    for (const [day, why] of [
      ["2024-02-30", '"2024-02-30" is not a calendar date (2024-02 has 29 days)'],
      ["2023-02-29", '"2023-02-29" is not a calendar date (2023-02 has 28 days)'],
      ["2024-06-31", '"2024-06-31" is not a calendar date (2024-06 has 30 days)'],
      ["2024-13-01", '"2024-13-01" is not a calendar date (there is no month 13)'],
      ["tomorrow", '"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)'],
    ]) {
      expect(env.call("file_claim", { incident_date: day })).toEqual({
        ok: false,
        kind: "invalid_args",
        error: `Invalid arguments for file_claim: incident_date: ${why}`,
      });
      expect(env.call("claims_since", { day })).toMatchObject({ ok: false, kind: "invalid_args" });
    }
    expect(env.call("file_claim", { incident_date: "2024-02-01", reported_at: "2024-02-01T24:00" })).toEqual({
      ok: false,
      kind: "invalid_args",
      error: 'Invalid arguments for file_claim: reported_at: "2024-02-01T24:00" is not a calendar datetime (there is no hour 24)',
    });
    expect(JSON.stringify(env.toJSON())).toBe(before);
    // a leap day is a date, and goes through
    expect(env.call("file_claim", { incident_date: "2024-02-29" })).toMatchObject({ ok: true, value: { review_by: "2024-03-30" } });
  });

  it("every edge date the fuzzer tries gives a result, and only real dates get past argument checking", () => {
    const env = claimsEnv();
    for (const d of EDGE_DATES) {
      const r = env.call("file_claim", { incident_date: d });
      expect(r.ok === false && r.kind === "env_fault", `${d}: ${JSON.stringify(r)}`).toBe(false);
      expect(r.ok === false && r.kind === "invalid_args", d).toBe(!isDate(d));
    }
    for (const dt of EDGE_DATETIMES) {
      const r = env.call("file_claim", { incident_date: "2024-02-01", reported_at: dt });
      expect(r.ok === false && r.kind === "invalid_args", dt).toBe(!isDatetime(dt));
    }
  });

  it("is refused by `envc call` as invalid arguments, and the state is unchanged", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "envc-dates-"));
    try {
      const spec = path.join(dir, "claims.env");
      writeFileSync(spec, CLAIMS);
      writeFileSync(path.join(dir, "state.json"), JSON.stringify(EMPTY));
      const r = await runEnvc(["call", spec, "file_claim", '{"incident_date": "2024-02-30"}']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('"kind":"invalid_args"');
      expect(r.out).toContain('incident_date: \\"2024-02-30\\" is not a calendar date');
      expect(r.out).not.toContain("env_fault");
      expect(r.out).toMatch(/state: unchanged/);
      const ok = await runEnvc(["call", spec, "file_claim", '{"incident_date": "2024-02-29"}']);
      expect(ok.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a calendar-invalid date in a state", () => {
  it("is a load error naming its JSON path", () => {
    const bad = {
      claims: { C_0: { claim_id: "C_0", incident_date: "2024-06-31", filed_on: "2024-01-01", review_by: "2024-01-31", reported_at: "2024-01-01T10:00:60" } },
      today: "2023-02-29",
      holidays: { "2024-02-30": "Leap-ish day" },
    };
    let err: unknown;
    try {
      claimsEnv(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).problems).toEqual([
      { path: "$.today", message: '"2023-02-29" is not a calendar date (2023-02 has 28 days)' },
      { path: '$.holidays["2024-02-30"]', message: 'key "2024-02-30" is not a calendar date (2024-02 has 29 days)' },
      { path: "$.claims.C_0.incident_date", message: '"2024-06-31" is not a calendar date (2024-06 has 30 days)' },
      { path: "$.claims.C_0.reported_at", message: '"2024-01-01T10:00:60" is not a calendar datetime (there is no second 60)' },
    ]);
  });

  it("is what the fuzzer's result type check reports too", () => {
    const env = mustCheck(CLAIMS, "claims.env");
    const claim = env.entities.find((e) => e.name === "Claim")!.type;
    const good = { claim_id: "C", incident_date: "2024-02-29", filed_on: "2024-03-01", review_by: "2024-03-30" };
    expect(typeProblem(claim, good, env)).toBeUndefined();
    expect(typeProblem(claim, { ...good, review_by: "2024-02-30" }, env)).toBe('$.review_by: "2024-02-30" is not a calendar date (2024-02 has 29 days)');
  });
});

describe("the checker", () => {
  const spec = (state: string, body = "") => `env T "Dates"
state {
${state}
}
action tick() "Move the clock."
{
  ${body || 'today = date_add(today, 1)'}
}
`;

  it("refuses date and datetime defaults off the calendar (ENV3010)", () => {
    expect(errorsOf(spec('  today: date = "tomorrow"'))).toEqual([{ code: "ENV3010", line: 3, message: '"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)' }]);
    expect(errorsOf(spec('  today: date = "2024-02-31"'))).toEqual([{ code: "ENV3010", line: 3, message: '"2024-02-31" is not a calendar date (2024-02 has 29 days)' }]);
    expect(errorsOf(spec('  today: date = "2024-01-01"\n  now: datetime = "2024-01-01T10:00oops"'))).toEqual([
      { code: "ENV3010", line: 4, message: '"2024-01-01T10:00oops" is not a datetime (YYYY-MM-DDTHH:MM[:SS], like 2024-05-01T09:30:00)' },
    ]);
    expect(errorsOf(spec('  today: date = "2024-01-01"\n  days: list<date> = ["2024-01-01", "2024-04-31"]'))).toEqual([
      { code: "ENV3010", line: 4, message: '"2024-04-31" is not a calendar date (2024-04 has 30 days)' },
    ]);
    expect(errorsOf(spec('  today: date = "2024-02-29"\n  now: datetime = "2024-02-29T23:59:59.5Z"'))).toEqual([]);
  });

  it("is what `envc check` runs: off-calendar defaults and an assignment of \"tomorrow\" fail the check", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "envc-dates-check-"));
    try {
      const file = path.join(dir, "t.env");
      writeFileSync(file, spec('  today: date = "2024-02-31"\n  now: datetime = "2024-01-01T10:00oops"', 'today = "tomorrow"'));
      const r = await runEnvc(["check", file, "--format", "json"]);
      expect(r.code).toBe(1);
      const found = (JSON.parse(r.out) as { diagnostics: { code: string; message: string }[] }).diagnostics.map((d) => [d.code, d.message]);
      expect(found).toEqual([
        ["ENV3010", '"2024-02-31" is not a calendar date (2024-02 has 29 days)'],
        ["ENV3010", '"2024-01-01T10:00oops" is not a datetime (YYYY-MM-DDTHH:MM[:SS], like 2024-05-01T09:30:00)'],
        ["ENV3001", '"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a literal where a date is expected unless it is on the calendar (ENV3001)", () => {
    const state = '  today: date = "2024-01-01"';
    expect(errorsOf(spec(state, 'today = "tomorrow"'))).toEqual([{ code: "ENV3001", line: 7, message: '"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)' }]);
    expect(errorsOf(spec(state, 'require today != "2024-02-30" else "never"'))).toEqual([
      { code: "ENV3001", line: 7, message: '"2024-02-30" is not a calendar date (2024-02 has 29 days)' },
    ]);
    expect(errorsOf(spec(state, 'require days_between("2024-02-30", today) > 0 else "never"'))).toEqual([
      { code: "ENV3001", line: 7, message: '"2024-02-30" is not a date or datetime (like 2024-05-01 or 2024-05-01T09:30:00)' },
    ]);
    expect(errorsOf(spec(state, 'today = "2024-02-29"'))).toEqual([]);
  });

  it("refuses a solution argument off the calendar", () => {
    const withScenario = `${CLAIMS}
scenario late_claim "File a claim" {
  init { claims: {}, today: "2024-03-01" }
  task "File a claim for an incident on the 30th of February."
  check "Was a claim filed?": len(claims) == 1
  solution {
    file_claim(incident_date: "2024-02-30")
  }
}
`;
    expect(errorsOf(withScenario)).toEqual([{ code: "ENV3001", line: 35, message: '"2024-02-30" is not a calendar date (2024-02 has 29 days)' }]);
  });
});

describe("a scenario dataset line (JSONL)", () => {
  const spec = checkSource(CLAIMS, "claims.env");
  const good = {
    env: "Claims",
    id: "file",
    initial: EMPTY,
    task: "File a claim for an incident on the 29th of February.",
    checks: [{ text: "Was a claim filed?", expr: "len(claims) == 1" }],
    solution: [{ name: "file_claim", arguments: { incident_date: "2024-02-29" } }],
  };
  const verdictOf = (o: unknown) => {
    const d = loadDataset(JSON.stringify(o), "data.jsonl", [spec]);
    expect(d.diagnostics).toEqual([]);
    return verifyAll([spec], [d])[0]!.verdicts[0]!;
  };

  it("with a bad date in its initial state is not kept, the problem named by its path (ENV5007)", () => {
    expect(verdictOf(good).kept).toBe(true);
    const v = verdictOf({ ...good, initial: { ...EMPTY, today: "2024-02-30" } });
    expect(v.kept).toBe(false);
    expect(v.diagnostics.map((d) => d.code)).toEqual(["ENV5007"]);
    expect(v.diagnostics[0]!.message).toContain('$.today: "2024-02-30" is not a calendar date');
  });

  it("with a bad date in a solution argument is refused when checked (ENV3001), as in a spec, and at verify fails that step as invalid arguments (ENV5009), not a fault", () => {
    // checked with the line, as the same argument in a .env scenario is (see "refuses a solution argument off the calendar")
    const d = loadDataset(JSON.stringify({ ...good, solution: [{ name: "file_claim", arguments: { incident_date: "2023-02-29" } }] }), "data.jsonl", [spec]);
    expect(d.diagnostics.map((x) => [x.code, x.span.start.line, x.message])).toEqual([["ENV3001", 1, '"2023-02-29" is not a calendar date (2023-02 has 28 days)']]);
    expect(d.scenarios).toEqual([]);
    // verify validates the arguments again (a scenario made in memory skips the check): still not a fault
    const loaded = loadDataset(JSON.stringify(good), "data.jsonl", [spec]);
    loaded.scenarios[0]!.scenario.solution[0]!.args = { incident_date: "2023-02-29" };
    const v = verifyAll([spec], [loaded])[0]!.verdicts[0]!;
    expect(v.diagnostics.map((x) => x.code)).toEqual(["ENV5009"]);
    expect(v.diagnostics[0]!.message).toContain('incident_date: "2023-02-29" is not a calendar date');
  });
});
