// Random input against a live `envc serve` (the HTTP API and the MCP endpoint on 127.0.0.1, port
// 0): fast-check draws methods, paths (the real routes with random segments), random bytes and
// random JSON bodies, and JSON-RPC messages with random methods and parameters, inside and
// outside an initialized MCP session, plus tool calls with random arguments. Whatever arrives,
// the server answers: never a 5xx other than the documented 503 of a full server, always a
// JSON body on the API, and after every batch it is still up (`/health` answers) and still
// serves a well-formed episode. Seeds are fixed, so a failure reproduces.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { loadServedEnvs, SessionManager, EnvcHttpServer, type ServedEnv } from "../../server/index.js";

let envs: ServedEnv[];
let manager: SessionManager;
let server: EnvcHttpServer;
let url: string;
const logged: string[] = [];

beforeAll(async () => {
  const loaded = await loadServedEnvs(["specs/library", "specs/taubench-retail"]);
  expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  envs = loaded.envs;
  manager = new SessionManager(envs, { maxSessions: 200 });
  server = new EnvcHttpServer(manager, { maxBodyBytes: 64 * 1024, log: (line) => logged.push(line) });
  url = (await server.listen(0)).url;
});
afterAll(async () => {
  await server?.close();
  manager?.shutdown();
});

interface Reply {
  status: number;
  text: string;
  type: string | null;
}

async function send(method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url + path, { method, body: method === "GET" || method === "HEAD" ? undefined : body, headers });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

/** The server is up and still runs an episode correctly. */
async function stillServing() {
  const health = await send("GET", "/health");
  expect(health.status).toBe(200);
  const created = await send("POST", "/sessions", JSON.stringify({ env: "Library" }), { "content-type": "application/json" });
  expect(created.status).toBe(201);
  const id = JSON.parse(created.text).session as string;
  const call = await send("POST", `/sessions/${id}/call`, JSON.stringify({ name: "search_catalog", arguments: { text: "the" } }), { "content-type": "application/json" });
  expect(call.status).toBe(200);
  expect(JSON.parse(call.text).ok).toBe(true);
  expect((await send("DELETE", `/sessions/${id}`)).status).toBe(200);
}

/** No 5xx but the documented "server full" 503; the API always answers JSON. */
function acceptable(r: Reply, where: string) {
  const documented = r.status === 503 && /"code":"(server_full|too_many_sessions|session_limit)/.test(r.text);
  if (r.status >= 500 && !documented) throw new Error(`${where}: ${r.status} ${r.text.slice(0, 300)}`);
}

const segmentArb = fc.oneof(
  fc.constantFrom("Library", "Retail", "nope", "..", "%2e%2e", "%", "%zz", "__proto__", "constructor", "", "tools", "call", "state", "verify"),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const pathArb = fc.oneof(
  fc.constantFrom("/health", "/envs", "/sessions", "/mcp", "/", "/envs/Library", "/envs/Retail"),
  fc.tuple(fc.constantFrom("envs", "sessions"), segmentArb).map(([a, b]) => `/${a}/${b}`),
  fc.tuple(segmentArb, fc.constantFrom("call", "tools", "state", "verify", "")).map(([id, verb]) => `/sessions/${id}/${verb}`),
  fc.tuple(fc.constantFrom("/sessions", "/mcp", "/envs"), fc.string({ maxLength: 20 })).map(([p, q]) => `${p}?${encodeURI(q)}`),
);
const bodyArb: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
  fc.record({ env: fc.oneof(fc.constantFrom("Library", "Retail"), fc.jsonValue({ maxDepth: 2 })), scenario: fc.option(fc.jsonValue({ maxDepth: 2 })), seed: fc.option(fc.jsonValue({ maxDepth: 1 })), state: fc.option(fc.jsonValue({ maxDepth: 3 })) }, { requiredKeys: ["env"] }).map((v) => JSON.stringify(v)),
  fc.record({ name: fc.oneof(fc.constantFrom("search_catalog", "borrow", "get_order_details", "__proto__"), fc.string()), arguments: fc.jsonValue({ maxDepth: 3 }) }).map((v) => JSON.stringify(v)),
);

describe("the HTTP API under random input", () => {
  it("answers every random request without a 5xx and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"), pathArb, fc.option(bodyArb), fc.boolean(), async (method, path, body, json) => {
        const r = await send(method, path, body ?? undefined, json ? { "content-type": "application/json" } : {});
        acceptable(r, `${method} ${path}`);
        if (!path.startsWith("/mcp")) expect(r.type ?? "", `${method} ${path}`).toMatch(/^application\/json/);
      }),
      { seed: 16, numRuns: 400 },
    );
    await stillServing();
  }, 120_000);

  it("answers random tool calls in live sessions (random names and arguments) as observations", async () => {
    const ids: string[] = [];
    for (const env of ["Library", "Retail"]) {
      const r = await send("POST", "/sessions", JSON.stringify({ env }), { "content-type": "application/json" });
      ids.push(JSON.parse(r.text).session);
    }
    const toolNames = envs.flatMap((e) => e.def.tools.map((t) => t.name));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ids), fc.oneof(fc.constantFrom(...toolNames), fc.string()), fc.jsonValue({ maxDepth: 4 }), async (id, name, args) => {
        const r = await send("POST", `/sessions/${id}/call`, JSON.stringify({ name, arguments: args }), { "content-type": "application/json" });
        acceptable(r, `call ${name}`);
        // a bad call is the agent's observation (200, ok false) or the client's mistake (4xx)
        expect(r.status === 200 || (r.status >= 400 && r.status < 500), `${r.status} ${r.text.slice(0, 200)}`).toBe(true);
        if (r.status === 200) expect(JSON.parse(r.text).ok === true || JSON.parse(r.text).ok === false).toBe(true);
      }),
      { seed: 17, numRuns: 400 },
    );
    await stillServing();
  }, 120_000);
});

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function mcpInit(): Promise<string> {
  const r = await fetch(`${url}/mcp?env=Library`, {
    method: "POST",
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "random", version: "0" } } }),
  });
  expect(r.status).toBe(200);
  await r.text();
  const sid = r.headers.get("mcp-session-id");
  expect(sid).toBeTruthy();
  await fetch(`${url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, "mcp-session-id": sid! }, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) }).then((x) => x.text());
  return sid!;
}

const rpcArb = fc.oneof(
  fc.record({
    jsonrpc: fc.constantFrom("2.0", "1.0", 2),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)),
    method: fc.oneof(fc.constantFrom("initialize", "tools/list", "tools/call", "resources/list", "resources/read", "resources/templates/list", "prompts/list", "prompts/get", "ping", "__proto__"), fc.string({ maxLength: 12 })),
    params: fc.option(fc.jsonValue({ maxDepth: 3 })),
  }, { requiredKeys: ["method"] }).map((v) => JSON.stringify(v)),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 120 }),
);

describe("the MCP endpoint under random input", () => {
  it("answers random JSON-RPC messages, in and out of a session, without a 5xx", async () => {
    const sid = await mcpInit();
    await fc.assert(
      fc.asyncProperty(rpcArb, fc.constantFrom("none", "live", "bogus"), async (body, which) => {
        const headers: Record<string, string> = { ...MCP_HEADERS };
        if (which === "live") headers["mcp-session-id"] = sid;
        if (which === "bogus") headers["mcp-session-id"] = "not-a-session";
        const r = await send("POST", "/mcp", body, headers);
        acceptable(r, `mcp ${typeof body === "string" ? body.slice(0, 80) : "bytes"}`);
      }),
      { seed: 18, numRuns: 300 },
    );
    await stillServing();
  }, 120_000);

  it("answers tools/call with random names and arguments with a result or a JSON-RPC error, never an HTTP 5xx", async () => {
    const sid = await mcpInit();
    const toolNames = envs.find((e) => e.def.name === "Library")!.def.tools.map((t) => t.name);
    let id = 10;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...toolNames), fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 3 }), async (name, args) => {
        const body = JSON.stringify({ jsonrpc: "2.0", id: id++, method: "tools/call", params: { name, arguments: args } });
        const r = await send("POST", "/mcp", body, { ...MCP_HEADERS, "mcp-session-id": sid });
        acceptable(r, `tools/call ${name}`);
        expect(r.status, r.text.slice(0, 200)).toBeLessThan(500);
        // the SDK answers over SSE or JSON; either way the reply carries a result or an error, and
        // never an internal error (-32603) for a client's bad arguments
        expect(r.text, r.text.slice(0, 300)).toMatch(/"result"|"error"/);
        expect(r.text).not.toContain("-32603");
      }),
      { seed: 19, numRuns: 300 },
    );
    await stillServing();
  }, 120_000);
});

describe("nothing unexpected was logged", () => {
  it("logged no internal error while answering random input", () => {
    expect(logged.filter((l) => /internal error/i.test(l))).toEqual([]);
  });
});
