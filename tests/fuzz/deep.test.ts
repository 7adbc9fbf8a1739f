// The fuzzer's precondition-directed generation: guards read off the IR (compiler/fuzz/guards.ts),
// arguments steered by them, the planner that runs the actions a guard needs first, and the
// report of a tool that was never reached. The claims spec is the issue's shape: the key action
// (pay) needs a three-step setup (file, submit, approve) that random draws over a state full of
// finished claims do not find.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkSource } from "../../compiler/pipeline.js";
import { Planner } from "../../compiler/fuzz/planner.js";
import { fuzzEnv, coverageReport } from "../../compiler/fuzz/engine.js";
import { actionEffects, toolGuide } from "../../compiler/fuzz/guards.js";
import { loadDefinition } from "../../compiler/load.js";
import { Environment } from "../../runtime/index.js";
import { mustCheck } from "../helpers.js";

const CLAIMS = `env Claims "Insurance claims: a claim is filed, submitted, approved, then paid."

entity Policy key policy_id {
  policy_id: string
  holder: string
  active: bool
}

entity Claim key claim_id {
  claim_id: string
  policy_id: ref Policy
  amount: number
  status: "draft" | "submitted" | "approved" | "paid" | "disputed" = "draft"
}

state {
  policies: table Policy
  claims: table Claim
}

action file_claim(policy_id: string, amount: number) -> Claim "File a draft claim on an active policy."
{
  let p = policies[policy_id] else "Policy \${policy_id} not found"
  require p.active else "Policy \${policy_id} is not active"
  require amount > 0 and amount <= 10000 else "Amounts run from 0.01 to 10000"
  let c = insert claims { claim_id: new_id("C"), policy_id, amount }
  return c
}

action submit_claim(claim_id: string) -> Claim "Submit a draft claim for review."
{
  let c = claims[claim_id] else "Claim \${claim_id} not found"
  require c.status == "draft" else "Claim \${claim_id} is \${c.status}, not a draft"
  c.status = "submitted"
  return c
}

action approve_claim(claim_id: string) -> Claim "Approve a submitted claim."
{
  let c = claims[claim_id] else "Claim \${claim_id} not found"
  require c.status == "submitted" else "Claim \${claim_id} is \${c.status}, not submitted"
  c.status = "approved"
  return c
}

action pay_claim(claim_id: string) -> Claim "Pay an approved claim."
{
  let c = claims[claim_id] else "Claim \${claim_id} not found"
  require c.status == "approved" else "Claim \${claim_id} is \${c.status}, not approved"
  c.status = "paid"
  return c
}

query list_claims(policy_id: string) -> list<Claim> "The claims of a policy."
{
  require policy_id in policies else "Policy \${policy_id} not found"
  return claims.filter(c => c.policy_id == policy_id)
}
`;

/** Twenty policies (every third inactive) and sixty claims, all paid already. */
function finishedState() {
  const policies: Record<string, unknown> = {};
  const claims: Record<string, unknown> = {};
  for (let i = 1; i <= 20; i++) {
    const id = `POL-${String(i).padStart(3, "0")}`;
    policies[id] = { policy_id: id, holder: `Holder ${i}`, active: i % 3 !== 0 };
  }
  for (let i = 1; i <= 60; i++) {
    const id = `CLM-${String(i).padStart(3, "0")}`;
    claims[id] = { claim_id: id, policy_id: `POL-${String((i % 20) + 1).padStart(3, "0")}`, amount: 100 + i, status: "paid" };
  }
  return { policies, claims };
}

/** `generated: false` starts only from the finished state: generated states hold claims of every status. */
function fuzzClaims(source: string, seed = 1, generated = true) {
  const env = mustCheck(source, "claims.env");
  const def = loadDefinition(env);
  return fuzzEnv(env, def, [finishedState()], { seed, runs: 200, generated });
}

describe("guards read off the IR", () => {
  const env = mustCheck(CLAIMS, "claims.env");
  const tool = (name: string) => env.tools.find((t) => t.name === name)!;

  it("a key parameter takes the conditions stated on its record", () => {
    const pay = toolGuide(env, tool("pay_claim")).params.get("claim_id")!;
    expect(pay.role).toMatchObject({ kind: "key", table: "claims", preds: [{ path: ["status"], op: "==", value: { lit: "approved" } }] });
    const file = toolGuide(env, tool("file_claim")).params;
    expect(file.get("policy_id")!.role).toMatchObject({ kind: "key", table: "policies", preds: [{ path: ["active"], op: "==", value: { lit: true } }] });
    expect(file.get("amount")!.literals).toEqual([0, 10000]);
    expect(toolGuide(env, tool("list_claims")).params.get("policy_id")!.role).toMatchObject({ kind: "key", table: "policies", preds: [] });
  });

  it("joins, record fields, map keys, list elements, helpers and `if ... fail`", () => {
    const src = `env Shop "s"
entity User key user_id { user_id: string  methods: map<string, { kind: string }>  blocked: bool = false }
entity Item key item_id { item_id: string  product: string }
entity Order key order_id { order_id: string  user_id: ref User  items: list<Item>  status: "open" | "shipped" | "lost" = "open"  note: string? }
state { users: table User  orders: table Order }
fn usable(u: User) {
  require not u.blocked else "blocked"
}
action pay(order_id: string, method_id: string, item_ids: list<string>, user_id: string, reason: string) -> string "p" {
  let o = orders[order_id] else "no order"
  if o.status == "lost" { fail "lost" }
  let u = users[o.user_id]
  usable(u)
  require method_id in u.methods else "no method"
  require o.user_id == user_id else "not yours"
  require reason == "late" or reason == "broken" else "bad reason"
  for item_id in item_ids {
    let it = o.items.find(i => i.item_id == item_id) else "no item"
  }
  return "ok"
}
action ship(order_id: string) -> Order "s" {
  let o = orders[order_id] else "no order"
  o.status = "shipped"
  return o
}
query by_user(user_id: string) -> Order "b" {
  let o = orders.find(x => x.user_id == user_id and x.status == "open") else "none"
  return o
}
`;
    const shop = mustCheck(src, "shop.env");
    const pay = toolGuide(shop, shop.tools.find((t) => t.name === "pay")!).params;
    const order = pay.get("order_id")!.role as { preds: { path: string[]; op: string; via?: string }[] };
    expect(order.preds.map((p) => `${p.path.join(".")}${p.via ? `@${p.via}` : ""} ${p.op}`)).toEqual(["status !=", "user_id.blocked@users ==", "user_id =="]);
    expect(pay.get("method_id")!.role).toMatchObject({ kind: "in", param: "order_id", path: ["user_id", "methods"], via: "users" });
    expect(pay.get("user_id")!.role).toMatchObject({ kind: "same", param: "order_id", path: ["user_id"] });
    expect(pay.get("item_ids")!.role).toMatchObject({ kind: "in", param: "order_id", path: ["items"], elemField: "item_id" });
    expect(pay.get("reason")!.literals).toEqual(["late", "broken"]);
    const byUser = toolGuide(shop, shop.tools.find((t) => t.name === "by_user")!).params.get("user_id")!;
    expect(byUser.role).toMatchObject({ kind: "field", table: "orders", field: "user_id", preds: [{ path: ["status"], op: "==", value: { lit: "open" } }] });
    expect(actionEffects(shop, shop.tools.find((t) => t.name === "ship")!)).toEqual([{ table: "orders", field: "status", value: { lit: "shipped" }, insert: false }]);
  });

  it("an insert's effects are its literal fields, its defaults and its parameters", () => {
    const effects = actionEffects(env, tool("file_claim"));
    expect(effects).toContainEqual({ table: "claims", field: "status", value: { lit: "draft" }, insert: true });
    expect(effects).toContainEqual({ table: "claims", field: "policy_id", value: { param: "policy_id" }, insert: true });
  });
});

describe("precondition-directed fuzzing", () => {
  it("reaches an action that needs a three-step setup (file, submit, approve, then pay) in the default budget", () => {
    const report = fuzzClaims(CLAIMS);
    expect(report.finding).toBeUndefined();
    const ok = Object.fromEntries(report.coverage.map((c) => [c.tool, c.ok]));
    expect(ok.submit_claim).toBeGreaterThan(0);
    expect(ok.approve_claim).toBeGreaterThan(0);
    expect(ok.pay_claim).toBeGreaterThan(0);
    expect(coverageReport(report).table.at(-1)).toMatch(/^reached 5\/5 tools; 10\/10 requires failed at least once \(100%\)$/);
    // and still sees every require fail
    for (const c of report.coverage) for (const r of c.requires) expect(r.failures, `${c.tool} ${r.message}`).toBeGreaterThan(0);
  });

  it("is deterministic: the same seed gives the same coverage", () => {
    const strip = (r: ReturnType<typeof fuzzClaims>) => JSON.stringify(r.coverage);
    expect(strip(fuzzClaims(CLAIMS, 7))).toBe(strip(fuzzClaims(CLAIMS, 7)));
  });

  it("says why a tool was never reached: the require, what it asks, and that no action makes it true", () => {
    const src = CLAIMS.replace(
      "query list_claims",
      `action settle_dispute(claim_id: string) -> Claim "Settle a disputed claim."
{
  let c = claims[claim_id] else "Claim \${claim_id} not found"
  require c.status == "disputed" else "Claim \${claim_id} is not disputed"
  c.status = "paid"
  return c
}

query list_claims`,
    );
    const report = fuzzClaims(src, 1, false);
    const settle = report.coverage.find((c) => c.tool === "settle_dispute")!;
    expect(settle.ok).toBe(0);
    expect(settle.blocked).toMatchObject({ kind: "require", message: "Claim ${...} is not disputed" });
    expect(settle.blocked!.why).toContain('claim_id: a record of claims with status == "disputed"');
    expect(settle.blocked!.why).toContain("no action makes such a record");
    const gap = coverageReport(report).gaps.find((g) => g.startsWith("settle_dispute never succeeded"));
    expect(gap).toContain('most often refused by require "Claim ${...} is not disputed"');
  });

  it("names the actions that could make a blocked guard true, with their successes", () => {
    // approving needs a reviewer that never exists: pay_claim is blocked behind it
    const src = CLAIMS.replace('require c.status == "submitted" else', 'require c.amount < 0 else "Claims need a reviewer"\n  require c.status == "submitted" else');
    const report = fuzzClaims(src, 1, false);
    const pay = report.coverage.find((c) => c.tool === "pay_claim")!;
    expect(pay.ok).toBe(0);
    expect(pay.blocked!.why).toMatch(/actions that can make one: approve_claim \(0 successes\)/);
  });

  it("a fault in a planned call is reported at that call, and the recorded calls reproduce it", () => {
    // submitting a large claim faults (an ensure that does not hold): only planned chains submit claims filed in the run
    const src = CLAIMS.replace('  c.status = "submitted"\n', '  c.status = "submitted"\n  ensure c.amount < 5000\n');
    const env = mustCheck(src, "claims.env");
    const def = loadDefinition(env);
    const report = fuzzEnv(env, def, [finishedState()], { seed: 1, runs: 200 });
    const f = report.finding!;
    expect(f.property).toBe("env_fault");
    expect(f.tool).toBe("submit_claim");
    expect(f.calls.at(-1)!.name).toBe("submit_claim");
    const live = Environment.createFrom(def, f.initial);
    const results = f.calls.map((c) => live.call(c.name, c.arguments));
    expect(results.at(-1)).toMatchObject({ ok: false, kind: "env_fault" });
    expect(results.slice(0, -1).every((r) => r.ok || r.kind !== "env_fault")).toBe(true);
  });
});

describe("every shape of the language", () => {
  // the guard reader, the planner and the steered fuzzer on every spec in docs/language.md (the
  // complete examples, and the fragments joined as the docs test joins them): whatever a body
  // holds, they read what they understand and skip the rest, never throwing
  const md = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
  const blocks = [...md.matchAll(/```(env|env-fragment)\n([\s\S]*?)```/g)];
  const sources = [...blocks.filter((b) => b[1] === "env").map((b) => b[2]!), blocks.filter((b) => b[1] === "env-fragment").map((b) => b[2]!).join("\n")];

  sources.forEach((src, i) =>
    it(`docs example ${i + 1}: guards, effects, enablers and a short fuzz run`, () => {
      const env = checkSource(src, `docs-${i + 1}.env`).env!;
      const tools = env.tools.filter((t) => t.kind !== "fn");
      const planner = new Planner(env, tools);
      for (const t of tools) {
        const guide = toolGuide(env, t);
        if (t.kind === "action") expect(Array.isArray(actionEffects(env, t))).toBe(true);
        for (const [param, g] of guide.params) {
          expect(t.params.some((p) => p.name === param)).toBe(true);
          const role = g.role;
          if (role && (role.kind === "key" || role.kind === "field")) {
            expect(env.state.some((f) => f.name === role.table && f.table)).toBe(true);
            for (const en of planner.enablersFor({ tool: t.name, param, table: role.table, preds: role.preds })) expect(tools[en.tool]!.kind).toBe("action");
          }
        }
      }
      const report = fuzzEnv(env, loadDefinition(env), [], { seed: 3, runs: 60 });
      expect(report.calls).toBeGreaterThan(0);
    }),
  );
});

