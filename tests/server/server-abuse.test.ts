// The hostile-client share of the bad-input corpus, against a live server on 127.0.0.1 (port 0):
// prototype-pollution payloads in every body a client sends, path traversal in routes, session
// requests and MCP URLs, a 50 MB body, two hundred slow clients holding half-sent requests,
// and hundreds of sessions created at once. What must hold: 4xx answers with JSON errors, no
// file outside the served specs ever read, Object.prototype untouched (the server runs in this
// process, so the test can look), and the server still serving an episode afterwards.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import * as net from "node:net";
import { loadServedEnvs, SessionManager, EnvcHttpServer } from "../../server/index.js";

let manager: SessionManager;
let server: EnvcHttpServer;
let url: string;
let port: number;
const logged: string[] = [];

beforeAll(async () => {
  const loaded = await loadServedEnvs(["specs/library"]);
  manager = new SessionManager(loaded.envs, { maxSessions: 2000 });
  server = new EnvcHttpServer(manager, { maxBodyBytes: 1024 * 1024, log: (l) => logged.push(l) });
  url = (await server.listen(0)).url;
  port = Number(new URL(url).port);
});
afterAll(async () => {
  await server?.close();
  manager?.shutdown();
});

async function req(method: string, path: string, body?: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const res = await fetch(url + path, { method, body, headers });
  return { status: res.status, text: await res.text() };
}

async function episodeStillWorks() {
  const created = await req("POST", "/sessions", JSON.stringify({ env: "Library", scenario: "marcus_settles_up" }));
  expect(created.status).toBe(201);
  const id = JSON.parse(created.text).session;
  const call = await req("POST", `/sessions/${id}/call`, JSON.stringify({ name: "search_catalog", arguments: { text: "dune" } }));
  expect(JSON.parse(call.text).ok).toBe(true);
  expect((await req("DELETE", `/sessions/${id}`)).status).toBe(200);
}

const notPolluted = () => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
};

describe("prototype pollution", () => {
  const payloads = [
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"a": {"__proto__": {"polluted": true}}}',
  ];
  it("in session bodies, states and tool arguments, changes nothing and is answered as a client's mistake", async () => {
    for (const p of payloads) {
      const asBody = await req("POST", "/sessions", p);
      expect(asBody.status).toBeGreaterThanOrEqual(400);
      expect(asBody.status).toBeLessThan(500);
      const asState = await req("POST", "/sessions", `{"env": "Library", "state": ${p}}`);
      expect(asState.status).toBe(400);
      const s = await req("POST", "/sessions", JSON.stringify({ env: "Library" }));
      const id = JSON.parse(s.text).session;
      const asArgs = await req("POST", `/sessions/${id}/call`, `{"name": "search_catalog", "arguments": ${p}}`);
      expect(asArgs.status).toBe(200);
      expect(JSON.parse(asArgs.text)).toMatchObject({ ok: false, kind: "invalid_args" });
      const asCall = await req("POST", `/sessions/${id}/call`, p);
      expect(asCall.status).toBe(400);
      notPolluted();
    }
    await episodeStillWorks();
  });
});

describe("path traversal", () => {
  it("never reads outside the served specs, through routes, session requests or MCP URLs", async () => {
    const attempts: [string, string, string?][] = [
      ["GET", "/envs/..%2F..%2F..%2Fetc%2Fpasswd"],
      ["GET", "/envs/../../etc/passwd"],
      ["GET", "/sessions/..%2F..%2Fetc%2Fpasswd/state"],
      ["POST", "/sessions", JSON.stringify({ env: "../../../../etc/passwd" })],
      ["POST", "/sessions", JSON.stringify({ env: "Library", scenario: "../../../../etc/passwd" })],
      ["POST", "/sessions", JSON.stringify({ env: "Library", state: "/etc/passwd" })],
      ["POST", "/mcp?env=..%2F..%2Fetc%2Fpasswd", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} })],
    ];
    for (const [method, path, body] of attempts) {
      const r = await req(method, path, body, { "content-type": "application/json", accept: "application/json, text/event-stream" });
      expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${path}`).toBeLessThan(500);
      expect(r.text).not.toMatch(/root:.*:0:0:/);
    }
    await episodeStillWorks();
  });
});

describe("huge bodies and slow clients", () => {
  it("answers a 50 MB body with 413 without reading it all, and keeps serving", async () => {
    const body = "x".repeat(50 * 1024 * 1024);
    const r = await fetch(`${url}/sessions`, { method: "POST", body, headers: { "content-type": "application/json" } }).then(
      async (res) => ({ status: res.status, text: await res.text() }),
      // the server may close the connection once it has said 413; fetch then fails mid-upload
      (err: Error) => ({ status: 413, text: String(err) }),
    );
    expect(r.status).toBe(413);
    await episodeStillWorks();
  }, 60_000);

  it("two hundred slow clients holding half-sent requests do not stop others being served", async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => undefined);
        s.write(`POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n`);
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 200));
      for (const s of sockets) s.write("X-Slow: 1\r\n");
      const health = await req("GET", "/health");
      expect(health.status).toBe(200);
      await episodeStillWorks();
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 30_000);

  it("creates five hundred sessions fifty at a time, every one answered, ids all distinct", async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const created = await Promise.all(Array.from({ length: 50 }, () => req("POST", "/sessions", JSON.stringify({ env: "Library" }))));
      for (const c of created) {
        expect(c.status).toBe(201);
        ids.push(JSON.parse(c.text).session);
      }
    }
    expect(new Set(ids).size).toBe(500);
    await Promise.all(ids.map((id) => req("DELETE", `/sessions/${id}`)));
    await episodeStillWorks();
  }, 60_000);
});

describe("nothing unexpected was logged", () => {
  it("no internal error", () => {
    expect(logged.filter((l) => /internal error/i.test(l))).toEqual([]);
  });
});
