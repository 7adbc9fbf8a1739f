// The emitter computes `param.lower()` (upper, trim and chains of them) once per call when it
// appears inside a loop or lambda, instead of once per element. These pin where it does (a
// required or defaulted string parameter, inside a loop, a lambda or a quantifier) and where it
// must not (an optional parameter, which may be null; a local that can change; outside loops),
// and that results are the same, also when the loop never runs.
import { describe, expect, it } from "vitest";
import { JsEmitter } from "../../compiler/emit-js.js";
import { envFrom, mustCheck } from "../helpers.js";

const SPEC = `env Finder "Case-insensitive lookups"

entity User key user_id "A user" {
  user_id: string
  email: string
}

state { users: table User }

query by_email(email: string) -> string "The id of the user with this e-mail, any case." {
  for k, u in users {
    if u.email.lower() == email.lower() { return k }
  }
  fail "no user \${email.lower()}"
}

query count_like(text: string = " A ", hint: string? = null) -> int "Users whose e-mail holds text, and hint when given." {
  let n = 0
  for u in users.values() {
    let probe = u.email.lower()
    if probe.contains(text.trim().lower()) and (hint == null or probe.contains(hint.lower())) and probe.contains(probe.lower()) {
      n += 1
    }
  }
  return n
}

query any_upper(email: string) -> bool "Whether some e-mail equals this one in upper case." {
  return any u in users: u.email.upper() == email.upper()
}
`;

const STATE = { users: { u1: { user_id: "u1", email: "Ann@X.org" }, u2: { user_id: "u2", email: "bob@y.org" } } };

function bodyOf(name: string): string {
  const env = mustCheck(SPEC);
  return new JsEmitter(env).toolBody(env.tools.find((t) => t.name === name)!);
}

describe("loop-invariant string calls on parameters", () => {
  it("are computed once at the top of the body when used inside a loop or quantifier", () => {
    const byEmail = bodyOf("by_email");
    expect(byEmail).toContain("const email$lower = email.toLowerCase();");
    expect(byEmail).toContain("=== email$lower");
    // outside the loop (the failure message) it stays where it is
    expect(byEmail).toContain("${email.toLowerCase()}");
    expect(bodyOf("any_upper")).toContain("const email$upper = email.toUpperCase();");
  });

  it("chain through trim and lower, and leave optional parameters and locals alone", () => {
    const body = bodyOf("count_like");
    expect(body).toContain("const text$trim = text.trim();");
    expect(body).toContain("const text$trim$lower = text$trim.toLowerCase();");
    expect(body).toContain("hint.toLowerCase()");
    expect(body).toContain("probe.toLowerCase()");
    expect(body).not.toMatch(/hint\$|probe\$/);
  });

  it("give the same results, also when the loop never runs", () => {
    const env = envFrom(SPEC, STATE);
    expect(env.call("by_email", { email: "ANN@x.ORG" })).toEqual({ ok: true, value: "u1" });
    expect(env.call("by_email", { email: "Zed@Q" })).toEqual({ ok: false, kind: "precondition", error: "no user zed@q" });
    expect(env.call("count_like", { text: " .ORG " })).toEqual({ ok: true, value: 2 });
    expect(env.call("count_like", { text: "org", hint: "BOB" })).toEqual({ ok: true, value: 1 });
    expect(env.call("any_upper", { email: "bob@Y.org" })).toEqual({ ok: true, value: true });
    const empty = envFrom(SPEC, { users: {} });
    expect(empty.call("by_email", { email: "a@b" })).toEqual({ ok: false, kind: "precondition", error: "no user a@b" });
    expect(empty.call("count_like", {})).toEqual({ ok: true, value: 0 });
  });
});
