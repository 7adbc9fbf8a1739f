// Bugs that fuzzing with more seeds (1000-1039, 1,000 runs each) found in the bundled specs stay
// fixed. Each case starts from the spec's own sample state with the one change the shrunk
// counterexample needed, and asserts what the fixed spec now does with it.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkInputs } from "../../compiler/project.js";
import { loadDefinition } from "../../compiler/load.js";
import { Environment, StateError, type EnvDefinition } from "../../runtime/index.js";

type State = Record<string, Record<string, Record<string, unknown>>>;

async function bundled(dir: string): Promise<{ def: EnvDefinition; sample: State }> {
  const { specs } = await checkInputs([`specs/${dir}`]);
  const spec = specs.find((s) => s.env && !s.scenariosFor)!;
  return { def: loadDefinition(spec.env!), sample: JSON.parse(readFileSync(`specs/${dir}/state.json`, "utf8")) as State };
}

function rejection(def: EnvDefinition, state: unknown): string {
  try {
    Environment.createFrom(def, state);
  } catch (err) {
    if (err instanceof StateError) return err.message;
    throw err;
  }
  return "accepted";
}

describe("findings of fuzzing in the bundled specs", () => {
  it("clinical trials: a consent form numbered 0 is not a valid state (record_consent then broke consent_versions_exist)", async () => {
    const { def, sample } = await bundled("clinical-trials");
    expect(rejection(def, sample)).toBe("accepted");
    const trial = Object.keys(sample.trials!)[0]!;
    sample.trials![trial]!.consent_version = 0;
    expect(rejection(def, sample)).toMatch(/consent_forms_numbered/);
  });

  it("e-commerce: a negative price is not a valid state (pay_order then recorded a negative payment)", async () => {
    const { def, sample } = await bundled("ecommerce");
    const sku = Object.keys(sample.products!)[0]!;
    sample.products![sku]!.price = -56.07;
    expect(rejection(def, sample)).toMatch(/prices_not_negative/);
  });

  it("messaging: a user needs a display name, and a group may be named with a leading #", async () => {
    const { def, sample } = await bundled("messaging");
    const blank = structuredClone(sample);
    blank.users![Object.keys(blank.users!)[0]!]!.display_name = " ";
    expect(rejection(def, blank)).toMatch(/users_have_names/);

    // list_conversations' ensure once said only channels are titled "#...": a group can be
    const group = Object.values(sample.conversations!).find((c) => c.kind === "group")!;
    group.name = "#ops-crew";
    const member = Object.values(sample.memberships!).find((m) => m.conversation_id === group.conversation_id)!;
    const env = Environment.createFrom(def, sample);
    const result = env.call("list_conversations", { user_id: member.user_id });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    const titles = (result as { value: { conversation_id: string; title: string }[] }).value;
    expect(titles.find((c) => c.conversation_id === group.conversation_id)?.title).toBe("#ops-crew");
  });
  it("library: overdue fines need a positive daily fine and cap (a zero cap let return_copy write a fine of 0, breaking fines_sane)", async () => {
    const { def, sample } = await bundled("library");
    expect(rejection(def, sample)).toBe("accepted");
    const globals = sample as unknown as Record<string, unknown>;
    expect(rejection(def, { ...globals, max_overdue_fine: 0 })).toMatch(/overdue_fines_positive/);
    expect(rejection(def, { ...globals, daily_fine: 0 })).toMatch(/overdue_fines_positive/);
  });
  it("banking: a fee line adds no money (a positive fee broke monthly_summary's ensure that in - out - fees is the net change)", async () => {
    const { def, sample } = await bundled("banking");
    const fee = Object.values(sample.transactions!).find((t) => t.kind === "fee")!;
    fee.amount = -(fee.amount as number);
    expect(rejection(def, sample)).toMatch(/line_signs/);
  });

  it("library: no loan starts after today (returning it then ended it before it began)", async () => {
    const { def, sample } = await bundled("library");
    const loan = Object.values(sample.loans!)[0]!;
    loan.borrowed_on = "2099-01-01";
    loan.due_on = "2099-02-01";
    expect(rejection(def, sample)).toMatch(/loans_not_in_future/);
  });

  it("messaging: an archived conversation has no members, and no message is from the future (leave_conversation's and mark_read's ensures)", async () => {
    const { def, sample } = await bundled("messaging");
    const archived = structuredClone(sample);
    const seat = Object.values(archived.memberships!)[0]!;
    archived.conversations![seat.conversation_id as string]!.archived = true;
    expect(rejection(def, archived)).toMatch(/archived_are_empty/);
    const future = structuredClone(sample);
    Object.values(future.messages!)[0]!.sent_at = "2099-01-01T00:00:00";
    expect(rejection(def, future)).toMatch(/messages_in_the_past/);
  });
  it("e-commerce: an order that comes to nothing is not placed (paying it recorded a payment of 0, breaking amounts_positive)", async () => {
    const { def, sample } = await bundled("ecommerce");
    const customer = Object.values(sample.customers!)[0]!;
    const sku = "SKU-FREE";
    sample.products![sku] = { ...Object.values(sample.products!)[0]!, sku, price: 0, stock: 5, active: true };
    customer.cart = [{ sku, qty: 1 }];
    const live = Environment.createFrom(def, { ...sample, orders: {}, payments: {}, refunds: {}, shipments: {}, flat_shipping: 0 });
    const placed = live.call("place_order", { customer_id: customer.customer_id });
    expect(placed).toMatchObject({ ok: false, kind: "precondition" });
    expect((placed as { error: string }).error).toContain("nothing to pay");
  });
});
