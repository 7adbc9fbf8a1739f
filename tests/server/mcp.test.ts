// MCP through the real `envc serve` process and the MCP SDK's own client: over stdio (the client
// spawns the CLI, as an MCP client config would) and over streamable HTTP (the CLI on port 0),
// listing the tools, calling them through to a reward of 1, resources and the task prompt, and an
// MCP session attached to a session created over the HTTP API.
import { describe, expect, it, afterEach } from "vitest";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { serveProcess } from "../helpers.js";
import * as path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const CLI = ["--import", "tsx", "cli/index.ts", "serve"];
const libraryTools = () => import(path.join(root, "generated/library/tools.json"), { with: { type: "json" } }).then((m) => m.default as { function: { name: string; parameters: unknown } }[]);

function text(result: unknown): string {
  const content = (result as { content: { type: string; text: string }[] }).content;
  expect(content[0]!.type).toBe("text");
  return content[0]!.text;
}

const procs: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

/** `envc serve ARGS --port 0` as a process, killed after the test; its URL once it listens. */
async function listeningServe(args: string[]): Promise<{ url: string; proc: ChildProcessWithoutNullStreams; stderr: () => string }> {
  const served = serveProcess(args);
  procs.push(served.proc);
  return { url: await served.url, proc: served.proc, stderr: served.stderr };
}

describe("MCP over stdio (the CLI spawned by the SDK's client)", () => {
  it("lists the env's tools, calls them through the scenario's solution, and reads reward 1", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, "specs/library", "--stdio", "--scenario", "marcus_settles_up"],
      cwd: root,
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d) => (stderr += d));
    const client = new Client({ name: "envc-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()?.name).toBe("envc-Library");
      expect(client.getInstructions()).toMatch(/^Library circulation desk\./);

      const { tools } = await client.listTools();
      const expected = await libraryTools();
      expect(tools.map((t) => t.name)).toEqual(expected.map((t) => t.function.name));
      expect(tools.find((t) => t.name === "pay_fines")!.inputSchema).toEqual(expected.find((t) => t.function.name === "pay_fines")!.function.parameters);

      const member = JSON.parse(text(await client.callTool({ name: "get_member", arguments: { member_id: "M002" } })));
      expect(member.value.member.name).toBe("Marcus Johnson");
      // a bad argument reaches Environment.call and comes back as the agent would see it
      const bad = await client.callTool({ name: "pay_fines", arguments: { member_id: "M002", amount: "all of it" } });
      expect(bad.isError).toBe(true);
      expect(JSON.parse(text(bad))).toMatchObject({ ok: false, kind: "invalid_args" });

      const prompt = await client.getPrompt({ name: "task" });
      expect((prompt.messages[0]!.content as { text: string }).text).toMatch(/^Marcus Johnson, card M002/);

      for (const [name, args] of [
        ["return_copy", { copy_id: "C1012" }],
        ["pay_fines", { member_id: "M002", amount: 11.5 }],
        ["checkout", { member_id: "M002", copy_id: "C1005" }],
      ] as const) {
        const r = await client.callTool({ name, arguments: args });
        expect(r.isError, text(r)).toBe(false);
      }
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(["envc://session", "envc://state", "envc://reward"]);
      const reward = JSON.parse(((await client.readResource({ uri: "envc://reward" })).contents[0] as { text: string }).text);
      expect(reward).toMatchObject({ scenario: "marcus_settles_up", reward: 1, passed: 4, total: 4, calls: 5, agentErrors: 1 });
      const state = JSON.parse(((await client.readResource({ uri: "envc://state" })).contents[0] as { text: string }).text);
      expect(state.copies.C1005.status).toBe("on_loan");
    } finally {
      await client.close();
    }
    expect(stderr).toContain("MCP on stdio, session");
  });
});

describe("MCP over streamable HTTP (the CLI on port 0)", () => {
  it("creates a session from the URL, lists and calls tools; attaches to an HTTP session; exits on SIGTERM", async () => {
    const { url, proc } = await listeningServe(["specs/library", "specs/banking"]);
    const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();
    const sessions = async () => (await json(fetch(`${url}/sessions`))).count as number;

    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp?env=Banking&scenario=laura_rent_before_batch`));
    const client = new Client({ name: "envc-test", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("deposit");
    const dep = JSON.parse(text(await client.callTool({ name: "deposit", arguments: { account_id: "CHK-1003", amount: 400 } })));
    expect(dep).toMatchObject({ ok: true, value: { account_id: "CHK-1003", amount: 400 } });
    expect(await sessions()).toBe(1);

    // a session made over HTTP, driven over MCP, scored over HTTP
    const created = await json(fetch(`${url}/sessions`, { method: "POST", body: JSON.stringify({ env: "Library", scenario: "marcus_settles_up" }) }));
    const attached = new StreamableHTTPClientTransport(new URL(`${url}/mcp?session=${created.session}`));
    const client2 = new Client({ name: "envc-test-2", version: "1.0.0" });
    await client2.connect(attached);
    const r = await client2.callTool({ name: "return_copy", arguments: { copy_id: "C1012" } });
    expect(r.isError).toBe(false);
    const state = await json(fetch(`${url}/sessions/${created.session}/state`));
    expect(state.state.loans.L006.returned_on).toBe("2024-05-01");
    const verify = await json(fetch(`${url}/sessions/${created.session}/verify`, { method: "POST" }));
    expect(verify).toMatchObject({ passed: 2, total: 4, calls: 1 });
    expect(await sessions()).toBe(2);

    // ending the attached MCP session leaves the HTTP session; ending the other closes its own
    await attached.terminateSession();
    await client2.close();
    expect(await sessions()).toBe(2);
    await transport.terminateSession();
    await client.close();
    expect(await sessions()).toBe(1);

    // an unknown environment in the URL fails the connection with the reason
    const wrong = new Client({ name: "envc-test-3", version: "1.0.0" });
    await expect(wrong.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp?env=Nowhere`)))).rejects.toThrow(/No environment named 'Nowhere'/);
    // a request with an unknown MCP session id is a JSON-RPC error, not a crash
    const stale = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": "nope" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(stale.status).toBe(404);
    expect((await json(stale)).error.code).toBe(-32001);

    const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
