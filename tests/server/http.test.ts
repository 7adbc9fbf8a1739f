// The HTTP API of `envc serve` on a real server on 127.0.0.1 (port 0), driven with fetch and raw
// sockets: whole episodes of the bundled scenarios to reward 1, bad requests answered with 4xx
// JSON (and the server still up), the session limit, idle expiry, seeds, and sessions being
// forks that do not see each other's changes; MCP at /mcp in process with the SDK's client (URL
// options, errors, idle expiry).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import * as net from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadServedEnvs, SessionManager, EnvcHttpServer, type ServedEnv } from "../../server/index.js";
import { parseJsonOrdered, stringifyOrdered } from "../../runtime/index.js";

let envs: ServedEnv[];
let manager: SessionManager;
let server: EnvcHttpServer;
let url: string;

beforeAll(async () => {
  const loaded = await loadServedEnvs(["specs"]);
  expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  envs = loaded.envs;
  manager = new SessionManager(envs);
  server = new EnvcHttpServer(manager, { maxBodyBytes: 64 * 1024, log: () => undefined });
  url = (await server.listen(0)).url;
});
afterAll(async () => {
  await server?.close();
  manager?.shutdown();
});

async function req(method: string, path: string, body?: unknown, base = url): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await res.text();
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: res.status, json: JSON.parse(text), headers: res.headers };
}

/** Raw bytes to the server; the reply as text (the connection is closed by either side). */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), "127.0.0.1");
    let out = "";
    sock.on("data", (d) => (out += d.toString()));
    sock.on("end", () => resolve(out));
    sock.on("close", () => resolve(out));
    sock.on("error", reject);
    sock.write(bytes);
    setTimeout(() => sock.end(), 300);
  });
}

describe("an episode over HTTP", () => {
  it("lists the environments and one in detail", async () => {
    const r = await req("GET", "/envs");
    expect(r.status).toBe(200);
    expect(r.json.envs.map((e: { name: string }) => e.name)).toEqual(envs.map((e) => e.def.name));
    const lib = r.json.envs.find((e: { name: string }) => e.name === "Library");
    expect(lib.scenarios).toContain("marcus_settles_up");
    const d = await req("GET", "/envs/library"); // names match case-insensitively
    expect(d.json.name).toBe("Library");
    expect(d.json.tools).toEqual(envs.find((e) => e.def.name === "Library")!.def.toolSchemas);
    expect(d.json.scenarios.find((s: { id: string }) => s.id === "marcus_settles_up").checks).toHaveLength(4);
  });

  it("plays marcus_settles_up's reference solution step by step to reward 1", async () => {
    const c = await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" });
    expect(c.status).toBe(201);
    expect(c.headers.get("location")).toBe(`/sessions/${c.json.session}`);
    expect(c.json).toMatchObject({ env: "Library", scenario: "marcus_settles_up", renderer: "json", checks: true });
    expect(c.json.task).toMatch(/^Marcus Johnson, card M002/);
    expect(c.json.system).toMatch(/^Library circulation desk\.\n\n.*\n\nRules:\n- /s);
    expect(c.json.tools.map((t: any) => t.function.name)).toContain("checkout");
    const id = c.json.session;
    expect((await req("GET", `/sessions/${id}/tools`)).json.tools).toEqual(c.json.tools);

    const before = await req("POST", `/sessions/${id}/verify`);
    expect(before.json).toMatchObject({ session: id, scenario: "marcus_settles_up", reward: 0, passed: 0, total: 4, calls: 0 });

    // arguments as an object, and as JSON text the way OpenAI tool calls carry them
    let r = await req("POST", `/sessions/${id}/call`, { name: "get_member", arguments: { member_id: "M002" } });
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(true);
    expect(r.json.step).toBe(1);
    expect(r.json.value.member.name).toBe("Marcus Johnson");
    expect(r.json.observation).toBe(stringifyOrdered({ ok: true, value: r.json.value }));
    r = await req("POST", `/sessions/${id}/call`, { name: "return_copy", arguments: '{"copy_id": "C1012"}' });
    expect(r.json.value.fines[0]).toMatchObject({ loan_id: "L006", kind: "overdue", amount: 4 });
    // an agent mistake is an observation (200, ok: false), counted in the reward as an agent error
    r = await req("POST", `/sessions/${id}/call`, { name: "pay_fines", arguments: { member_id: "M002", amount: "lots" } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: false, kind: "invalid_args", step: 3 });
    expect(r.json.observation).toContain("Invalid arguments for pay_fines");
    r = await req("POST", `/sessions/${id}/call`, { name: "pay_fines", arguments: { member_id: "M002", amount: 11.5 } });
    expect(r.json.value.balance).toBe(0);
    r = await req("POST", `/sessions/${id}/call`, { name: "checkout", arguments: { member_id: "M002", copy_id: "C1005" } });
    expect(r.json.ok).toBe(true);

    const state = await req("GET", `/sessions/${id}/state?diff=1`);
    expect(state.json.calls).toBe(5);
    expect(state.json.state.loans.L006.returned_on).toBe("2024-05-01");
    expect(Object.keys(state.json.diff.tables)).toEqual(expect.arrayContaining(["loans", "fines", "copies"]));

    const v = await req("POST", `/sessions/${id}/verify`);
    expect(v.json).toMatchObject({ reward: 1, passed: 4, total: 4, calls: 5, agentErrors: 1, envFaults: 0, faults: [] });
    expect(v.json.checks.map((x: { check: string; passed: boolean }) => [x.check, x.passed])).toEqual([
      ["Is the Educated loan L006 returned today?", true],
      ["Was a late fee charged for L006?", true],
      ["Does Marcus owe nothing now?", true],
      ["Does Marcus have Sapiens (C1005) on loan?", true],
    ]);
    expect((await req("DELETE", `/sessions/${id}`)).json).toEqual({ session: id, closed: true });
    expect((await req("POST", `/sessions/${id}/call`, { name: "get_member", arguments: {} })).status).toBe(404);
  });

  it("every bundled scenario's reference solution, played over HTTP, earns reward 1", async () => {
    let played = 0;
    for (const e of envs) {
      for (const sc of e.scenarios) {
        const c = await req("POST", "/sessions", { env: e.def.name, scenario: sc.def.id });
        expect(c.status).toBe(201);
        for (const step of sc.def.solution) {
          const r = await req("POST", `/sessions/${c.json.session}/call`, { name: step.name, arguments: JSON.stringify(step.arguments) });
          expect(r.json.ok, `${e.def.name}/${sc.def.id} ${step.name}: ${r.json.error}`).toBe(true);
        }
        const v = await req("POST", `/sessions/${c.json.session}/verify`);
        expect(v.json.reward, `${e.def.name}/${sc.def.id}`).toBe(1);
        await req("DELETE", `/sessions/${c.json.session}`);
        played++;
      }
    }
    expect(played).toBe(envs.reduce((n, e) => n + e.scenarios.length, 0));
    expect(played).toBeGreaterThanOrEqual(70);
  });

  it("sessions are forks: one session's writes are not seen by another or by the scenario", async () => {
    const a = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" })).json.session;
    const b = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" })).json.session;
    await req("POST", `/sessions/${a}/call`, { name: "return_copy", arguments: { copy_id: "C1012" } });
    expect((await req("GET", `/sessions/${a}/state`)).json.state.loans.L006.returned_on).toBe("2024-05-01");
    expect((await req("GET", `/sessions/${b}/state`)).json.state.loans.L006.returned_on).toBeNull();
    const lib = envs.find((e) => e.def.name === "Library")!;
    expect(lib.scenarios.find((s) => s.def.id === "marcus_settles_up")!.initial.table("loans")!.get("L006").returned_on).toBeNull();
    await req("DELETE", `/sessions/${a}`);
    await req("DELETE", `/sessions/${b}`);
  });

  it("a seed decides new ids: the same seed gives the same ids, another seed others", async () => {
    const idsWith = async (seed?: number) => {
      const s = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up", ...(seed !== undefined ? { seed } : {}) })).json.session;
      const r = await req("POST", `/sessions/${s}/call`, { name: "return_copy", arguments: { copy_id: "C1012" } });
      await req("DELETE", `/sessions/${s}`);
      return r.json.value.fines[0].fine_id;
    };
    expect(await idsWith(7)).toBe(await idsWith(7));
    expect(await idsWith(7)).not.toBe(await idsWith(8));
    expect(await idsWith()).toBe("F_1");
  });

  it("a session from a given state or the default state; a state session has nothing to verify", async () => {
    const lib = envs.find((e) => e.def.name === "Library")!;
    const state = lib.defaultState!.toJSON();
    const s = await req("POST", "/sessions", { env: "Library", state, renderer: "taubench" });
    expect(s.status).toBe(201);
    expect(s.json).toMatchObject({ scenario: null, task: null, renderer: "taubench" });
    const r = await req("POST", `/sessions/${s.json.session}/call`, { name: "get_member", arguments: { member_id: "NOPE" } });
    expect(r.json.observation).toMatch(/^Error: /);
    const v = await req("POST", `/sessions/${s.json.session}/verify`);
    expect(v.status).toBe(409);
    expect(v.json.error.code).toBe("no_scenario");
    const d = await req("POST", "/sessions", { env: "Library" });
    expect(d.status).toBe(201);
    const retail = await req("POST", "/sessions", { env: "Retail" });
    expect(retail.status).toBe(400);
    expect(retail.json.error.message).toContain('Retail has no default state: give "scenario"');
    await req("DELETE", `/sessions/${s.json.session}`);
    await req("DELETE", `/sessions/${d.json.session}`);
  });
});

describe("bad requests get 4xx JSON, and the server stays up", () => {
  const cases: [string, string, unknown, number, string][] = [
    ["POST", "/sessions", "{not json", 400, "bad_json"],
    ["POST", "/sessions", "[1, 2]", 400, "bad_json"],
    ["POST", "/sessions", "", 400, "bad_json"],
    ["POST", "/sessions", { env: "Nowhere" }, 404, "unknown_env"],
    ["POST", "/sessions", { env: 42 }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", scenario: "no_such" }, 404, "unknown_scenario"],
    ["POST", "/sessions", { env: "Library", scenario: "marcus_settles_up", state: {} }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", seed: -1 }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", seed: "x" }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", renderer: "xml" }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", sceanrio: "typo" }, 400, "bad_request"],
    ["POST", "/sessions", { env: "Library", state: { loans: { L1: { loan_id: 5 } } } }, 400, "invalid_state"],
    ["POST", "/sessions", { env: "Library", state: "nope" }, 400, "invalid_state"],
    ["GET", "/sessions/00000000-0000-0000-0000-000000000000", undefined, 404, "unknown_session"],
    ["POST", "/sessions/abc/call", { name: "x" }, 404, "unknown_session"],
    ["POST", "/sessions/%E0%A4%A/call", { name: "x" }, 400, "bad_request"],
    ["GET", "/envs/Nowhere", undefined, 404, "unknown_env"],
    ["GET", "/nowhere", undefined, 404, "unknown_route"],
    ["PUT", "/sessions", { env: "Library" }, 405, "method_not_allowed"],
    ["DELETE", "/envs", undefined, 405, "method_not_allowed"],
  ];
  it.each(cases)("%s %s %j → %i %s", async (method, path, body, status, code) => {
    const r = await req(method, path, body);
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    expect(typeof r.json.error.message).toBe("string");
  });

  it("invalid states list their problems with JSON paths", async () => {
    const r = await req("POST", "/sessions", { env: "Library", state: { loans: { L1: { loan_id: 5 } } } });
    expect(r.json.error.problems[0].path).toMatch(/^\$\.loans\.L1/);
  });

  it("a call without a tool name or with a bad body is 400; with a bad session 404", async () => {
    const s = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" })).json.session;
    expect((await req("POST", `/sessions/${s}/call`, {})).json.error.code).toBe("bad_request");
    expect((await req("POST", `/sessions/${s}/call`, { name: 5 })).status).toBe(400);
    expect((await req("POST", `/sessions/${s}/call`, "nul")).json.error.code).toBe("bad_json");
    // an unknown tool and unparseable argument text are the agent's mistakes: observations
    const u = await req("POST", `/sessions/${s}/call`, { name: "fly", arguments: "{" });
    expect(u.json).toMatchObject({ ok: false, kind: "unknown_tool" });
    const j = await req("POST", `/sessions/${s}/call`, { name: "get_member", arguments: "{" });
    expect(j.json).toMatchObject({ ok: false, kind: "invalid_args" });
    expect(j.json.error).toContain("not valid JSON");
    expect((await req("POST", `/sessions/${s}/verify`)).json.agentErrors).toBe(2);
    await req("DELETE", `/sessions/${s}`);
  });

  it("a body over the limit is 413", async () => {
    const big = { env: "Library", state: { pad: "x".repeat(100 * 1024) } };
    const r = await req("POST", "/sessions", big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("body_too_large");
    // chunked, without a content-length
    const reply = await raw(`POST /sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(70 * 1024).toString(16)}\r\n${"y".repeat(70 * 1024)}\r\n0\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply).toContain('"body_too_large"');
  });

  it("garbage on the socket gets a 400, binary bodies get JSON errors, and the server still answers", async () => {
    expect(await raw("\x00\x01\x02 garbage\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    const bin = await req("POST", "/sessions", "\u0000\u00ff\ud800garbage");
    expect(bin.status).toBe(400);
    for (let i = 0; i < 20; i++) {
      const junk = Array.from({ length: 40 }, (_, k) => String.fromCharCode((i * 131 + k * 17) % 256)).join("");
      const r = await req("POST", i % 2 ? "/sessions" : "/sessions/x/call", junk);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect((await req("GET", "/health")).json.ok).toBe(true);
  });

  it("bodies keep the order of numeric-string keys (parsed like state files)", async () => {
    const lib = envs.find((e) => e.def.name === "Library")!;
    const text = stringifyOrdered(lib.defaultState!.toJSON());
    const r = await req("POST", "/sessions", `{"env": "Library", "state": ${text}}`);
    expect(r.status).toBe(201);
    const state = await fetch(`${url}/sessions/${r.json.session}/state`).then((x) => x.text());
    expect(stringifyOrdered((parseJsonOrdered(state) as { state: unknown }).state)).toBe(text);
    await req("DELETE", `/sessions/${r.json.session}`);
  });
});

describe("limits", () => {
  it("refuses a session past the limit with 503 and Retry-After, and accepts one after a close", async () => {
    const m = new SessionManager(envs, { maxSessions: 3 });
    const h = new EnvcHttpServer(m, { log: () => undefined });
    const base = (await h.listen(0)).url;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await req("POST", "/sessions", { env: "Banking", scenario: "laura_rent_before_batch" }, base)).json.session);
      const r = await req("POST", "/sessions", { env: "Banking", scenario: "laura_rent_before_batch" }, base);
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe("too_many_sessions");
      expect(r.headers.get("retry-after")).toBe("1");
      expect((await req("GET", "/sessions", undefined, base)).json.count).toBe(3);
      await req("DELETE", `/sessions/${ids[0]}`, undefined, base);
      expect((await req("POST", "/sessions", { env: "Banking", scenario: "laura_rent_before_batch" }, base)).status).toBe(201);
    } finally {
      await h.close();
      m.shutdown();
    }
  });

  it("expires idle sessions (injected clock): 404 session_expired, and they no longer count", async () => {
    let now = 1_000_000;
    const m = new SessionManager(envs, { maxSessions: 2, idleTimeoutMs: 60_000, now: () => now });
    const h = new EnvcHttpServer(m, { log: () => undefined });
    const base = (await h.listen(0)).url;
    try {
      const a = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" }, base)).json.session;
      const b = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" }, base)).json.session;
      now += 59_000;
      expect((await req("POST", `/sessions/${a}/call`, { name: "get_member", arguments: { member_id: "M002" } }, base)).status).toBe(200);
      now += 2_000; // b idle 61 s, a idle 2 s
      const gone = await req("GET", `/sessions/${b}`, undefined, base);
      expect(gone.status).toBe(404);
      expect(gone.json.error.code).toBe("session_expired");
      expect(gone.json.error.message).toContain("expired after 60 s");
      expect(m.size).toBe(1);
      // a full server sweeps before refusing
      const c = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" }, base)).json.session;
      now += 60_000;
      expect((await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" }, base)).status).toBe(201);
      expect(m.size).toBe(1);
      expect((await req("GET", `/sessions/${c}/state`, undefined, base)).json.error.code).toBe("session_expired");
    } finally {
      await h.close();
      m.shutdown();
    }
  });

  it("the sweep timer closes idle sessions without any request", async () => {
    const m = new SessionManager(envs, { idleTimeoutMs: 40, sweepIntervalMs: 10 });
    try {
      const s = m.create({ env: "Library", scenario: "marcus_settles_up" });
      let closed = false;
      s.onClose(() => (closed = true));
      expect(m.size).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(m.size).toBe(0);
      expect(closed).toBe(true);
    } finally {
      m.shutdown();
    }
  });
});

describe("edges of the routes", () => {
  it("HEAD is GET without a body; an unknown method on /mcp is 405; a seed past 2^53 is refused", async () => {
    const head = await fetch(`${url}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const put = await fetch(`${url}/mcp`, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST, GET, DELETE");
    expect(((await put.json()) as { error: { message: string } }).error.message).toBe("PUT is not allowed on /mcp (use POST, GET or DELETE)");
    const big = await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up", seed: 1e300 });
    expect(big.status).toBe(400);
    expect(big.json.error.message).toContain('"seed" must be an integer >= 0');
    const route = await req("GET", "/nowhere");
    expect(route.json.error.message).toContain("GET /health");
  });

  it("a server started without MCP says so at /mcp", async () => {
    const m = new SessionManager(envs);
    const h = new EnvcHttpServer(m, { mcp: false, log: () => undefined });
    const base = (await h.listen(0)).url;
    try {
      const r = await req("POST", "/mcp", { jsonrpc: "2.0", id: 1, method: "initialize" }, base);
      expect(r.status).toBe(404);
      expect(r.json.error.message).toContain("--no-mcp");
      expect((await req("GET", "/nowhere", undefined, base)).json.error.message).not.toContain("/mcp");
    } finally {
      await h.close();
      m.shutdown();
    }
  });
});

describe("MCP over streamable HTTP, in process with the SDK's client", () => {
  const connect = async (base: string, query: string) => {
    const client = new Client({ name: "envc-test", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp?${query}`));
    await client.connect(transport);
    return { client, transport };
  };

  it("renderer= and seed= in the URL reach the session; errors read once, without a doubled prefix", async () => {
    const { client, transport } = await connect(url, "env=Library&renderer=taubench&seed=7");
    try {
      const r = await client.callTool({ name: "get_member", arguments: { member_id: "NOPE" } });
      expect(r.isError).toBe(true);
      expect((r.content as { text: string }[])[0]!.text).toMatch(/^Error: /);
      const ret = await client.callTool({ name: "return_copy", arguments: { copy_id: "C1012" } });
      const fines = JSON.parse((ret.content as { text: string }[])[0]!.text).fines;
      expect(fines[0].fine_id).not.toBe("F_1"); // seed 7 moved the id counter
      expect((await client.listResources()).resources.map((x) => x.uri)).toEqual(["envc://session", "envc://state"]);
      // a session from the default state has no reward and no task
      const err = await client.readResource({ uri: "envc://reward" }).catch((e: Error) => e);
      expect((err as Error).message).toMatch(/^MCP error -32600: Session \S+ was created from a state, not a scenario, so it has no checks to verify$/);
      const none = await client.readResource({ uri: "envc://nope" }).catch((e: Error) => e);
      expect((none as Error).message).toBe("MCP error -32602: No resource envc://nope (there are: envc://session, envc://state)");
      const p = await client.getPrompt({ name: "task" }).catch((e: Error) => e);
      expect((p as Error).message).toBe("MCP error -32602: No prompt task (this session has no scenario)");
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it("a bad seed or renderer in the URL fails the connection with the reason", async () => {
    await expect(connect(url, "env=Library&seed=abc")).rejects.toThrow(/seed in the MCP URL must be an integer >= 0, got 'abc'/);
    await expect(connect(url, "env=Library&renderer=xml")).rejects.toThrow(/renderer must be one of json, envscaler, taubench/);
  });

  it("idle expiry of the envc session ends its MCP session; a refused attach leaves the session as it was", async () => {
    let now = 5_000_000;
    const m = new SessionManager(envs, { idleTimeoutMs: 60_000, now: () => now });
    const h = new EnvcHttpServer(m, { log: () => undefined });
    const base = (await h.listen(0)).url;
    try {
      const { client } = await connect(base, "env=Library&scenario=marcus_settles_up");
      expect(m.size).toBe(1);
      expect(h.mcp!.size).toBe(1);
      now += 61_000;
      expect(m.sweep()).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
      expect(h.mcp!.size).toBe(0);
      await expect(client.listTools()).rejects.toThrow(/No MCP session/);
      await client.close();

      // attaching without the Accept header the transport wants is refused: the HTTP session lives on, unchanged
      const s = (await req("POST", "/sessions", { env: "Library", scenario: "marcus_settles_up" }, base)).json.session;
      const refused = await fetch(`${base}/mcp?session=${s}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
      });
      expect(refused.status).toBe(406);
      expect(h.mcp!.size).toBe(0);
      expect((await req("GET", `/sessions/${s}`, undefined, base)).status).toBe(200);
    } finally {
      await h.close();
      m.shutdown();
    }
  });
});
