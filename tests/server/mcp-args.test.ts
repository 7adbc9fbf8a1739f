// MCP tool calls whose arguments are not a JSON object (a string, a list, a number, null) come
// back as the tool's error result, as a bad argument value does (isError, `invalid_args`, and
// counted as the agent's error), not as an internal error with a raw validation dump. In
// process: the SDK's client and the server linked by its in-memory transport.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { loadServedEnvs, SessionManager, mcpServerFor, type Session } from "../../server/index.js";

let manager: SessionManager;
let session: Session;
let client: Client;

beforeAll(async () => {
  const loaded = await loadServedEnvs(["specs/library"]);
  manager = new SessionManager(loaded.envs);
  session = manager.create({ env: "Library" });
  const server = mcpServerFor(manager, session);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: "envc-test", version: "1.0.0" });
  await client.connect(b);
});
afterAll(async () => {
  await client?.close();
  manager?.shutdown();
});

/** A raw tools/call, bypassing the client's own checks of what it sends. */
const call = (params: Record<string, unknown>) => client.request({ method: "tools/call", params } as never, CallToolResultSchema);
const textOf = (r: { content: unknown }) => (r.content as { text: string }[])[0]!.text;

describe("MCP tools/call with arguments of the wrong type", () => {
  it.each([
    ["a string that is not JSON", "M002"],
    ["a list", ["M002"]],
    ["a number", 42],
  ])("%s: a clean invalid_args tool error", async (_what, args) => {
    const r = await call({ name: "get_member", arguments: args });
    expect(r.isError).toBe(true);
    const body = JSON.parse(textOf(r));
    expect(body).toMatchObject({ ok: false, kind: "invalid_args" });
    expect(body.error).toMatch(/^Invalid arguments for get_member: /);
    expect(body.error).not.toMatch(/"code":|ZodError|expected":/);
  });

  it("null or no arguments are {} (as the MCP schema allows)", async () => {
    const r = await call({ name: "get_member", arguments: null });
    expect(JSON.parse(textOf(r))).toMatchObject({ ok: false, kind: "invalid_args", error: "Invalid arguments for get_member: member_id: missing (required string)" });
  });

  it("JSON text that holds an object is taken, as OpenAI tool calls send it", async () => {
    const r = await call({ name: "get_member", arguments: '{"member_id": "M002"}' });
    expect(r.isError).toBe(false);
    expect(JSON.parse(textOf(r)).value.member.member_id).toBe("M002");
  });

  it("a missing or non-string tool name is a clear protocol error", async () => {
    await expect(call({ arguments: {} })).rejects.toThrow(/^MCP error -32602: tools\/call needs "name", the tool's name \(a string\)$/);
    await expect(call({ name: 7 })).rejects.toThrow(/^MCP error -32602: tools\/call needs "name"/);
  });

  it("each such call counts as the agent's error in the session", () => {
    expect(session.results.filter((r) => !r.ok).length).toBeGreaterThanOrEqual(4);
  });
});
