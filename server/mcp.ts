// MCP serving with @modelcontextprotocol/sdk: one MCP server per session, exposing the session's
// tools (tools.json schemas as input schemas), its state and reward as resources, its task as a
// prompt and the environment's description and rules as the server's instructions. Over stdio
// (one session chosen by the command line) and over streamable HTTP at /mcp (a session chosen
// by the initialize request's URL: ?env=&scenario=&seed=, or ?session=ID to drive a session
// created over the HTTP API). Every tool call goes through Session.call, i.e. Environment.call,
// exactly as over HTTP.
// We use the SDK's low-level Server, not McpServer: McpServer wants zod input schemas and
// validates arguments itself, but the schemas we publish are tools.json's, and invalid arguments
// must reach Environment.call so the agent sees the same invalid_args observation as over HTTP.
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
import type { Readable, Writable } from "node:stream";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { Protocol } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { z } from "zod";
import {
  ListToolsRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema,
  ListPromptsRequestSchema, GetPromptRequestSchema, isInitializeRequest, ErrorCode,
} from "@modelcontextprotocol/sdk/types.js";
import { stringifyOrdered, RENDERERS, type RendererName } from "../runtime/index.js";
import { ServeError, systemPrompt, type Session, type SessionManager } from "./sessions.js";
import { ENVC_VERSION } from "../compiler/version.js";

/** tools/call with its params unchecked: the handler checks the name and passes the arguments on. */
const LooseCallToolRequestSchema = z.object({ method: z.literal("tools/call"), params: z.record(z.string(), z.unknown()) });


export { ENVC_VERSION };

/**
 * A JSON-RPC error for the client. Not the SDK's McpError: its message already starts with
 * "MCP error CODE:", and the client's McpError adds that prefix again, so the agent would read
 * "MCP error -32600: MCP error -32600: ...". The SDK sends any thrown error's `code` and `message`.
 */
class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Run fn; a ServeError (an expired session, a state session's reward) becomes an invalid-request error. */
function asRpc<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ServeError) throw new RpcError(ErrorCode.InvalidRequest, err.message);
    throw err;
  }
}

interface ToolSchema {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** An MCP server bound to one session. */
export function mcpServerFor(manager: SessionManager, session: Session): Server {
  const def = session.served.def;
  const server = new Server(
    { name: `envc-${def.name}`, version: ENVC_VERSION },
    { capabilities: { tools: {}, resources: {}, prompts: {} }, instructions: systemPrompt(def) },
  );
  const tools = (def.toolSchemas as ToolSchema[]).map((t) => ({
    name: t.function.name,
    description: t.function.description ?? "",
    inputSchema: (t.function.parameters ?? { type: "object", properties: {} }) as { type: "object"; [k: string]: unknown },
  }));
  // an expired or closed session is an error of the request, not a crash of the server
  const live = (): Session => asRpc(() => manager.get(session.id));
  server.setRequestHandler(ListToolsRequestSchema, () => {
    live();
    return { tools };
  });
  // tools/call under a schema that takes any arguments: the SDK's own wants an object and
  // answers anything else with an internal error carrying zod's raw issues. Arguments of the
  // wrong type are the agent's mistake, so they go to Environment.call, which answers with the
  // tool's invalid_args error, as for a bad argument value. (Protocol's setRequestHandler: the
  // Server's would check the request against the SDK's schema first.)
  Protocol.prototype.setRequestHandler.call(server, LooseCallToolRequestSchema as never, ((req: { params: Record<string, unknown> }) => {
    const s = live();
    const { name, arguments: args } = req.params;
    if (typeof name !== "string") throw new RpcError(ErrorCode.InvalidParams, 'tools/call needs "name", the tool\'s name (a string)');
    const { result, observation } = s.call(name, args ?? {});
    return { content: [{ type: "text" as const, text: observation }], isError: !result.ok };
  }) as never);
  const resources = [
    { uri: "envc://session", name: "session", description: "This session: id, environment, scenario, task, calls so far", mimeType: "application/json" },
    { uri: "envc://state", name: "state", description: "The environment's current state as JSON", mimeType: "application/json" },
    ...(session.scenario
      ? [{ uri: "envc://reward", name: "reward", description: "The reward now: the scenario's checks, each named, with agent errors and environment faults", mimeType: "application/json" }]
      : []),
  ];
  server.setRequestHandler(ListResourcesRequestSchema, () => {
    live();
    return { resources };
  });
  server.setRequestHandler(ReadResourceRequestSchema, (req) => {
    const s = live();
    const uri = req.params.uri;
    let value: unknown;
    if (uri === "envc://session") value = { session: s.id, env: s.envName, scenario: s.scenario?.def.id ?? null, task: s.task ?? null, calls: s.results.length };
    else if (uri === "envc://state") value = s.env.toJSON();
    else if (uri === "envc://reward") value = asRpc(() => s.verify());
    else throw new RpcError(ErrorCode.InvalidParams, `No resource ${uri} (there are: ${resources.map((r) => r.uri).join(", ")})`);
    return { contents: [{ uri, mimeType: "application/json", text: stringifyOrdered(value) }] };
  });
  const prompts = session.scenario ? [{ name: "task", description: `The task of scenario ${session.scenario.def.id}, as the user states it` }] : [];
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts }));
  server.setRequestHandler(GetPromptRequestSchema, (req) => {
    const s = live();
    if (req.params.name !== "task" || !s.scenario) throw new RpcError(ErrorCode.InvalidParams, `No prompt ${req.params.name}${prompts.length ? " (there is: task)" : " (this session has no scenario)"}`);
    return {
      description: systemPrompt(def),
      messages: [{ role: "user" as const, content: { type: "text" as const, text: s.scenario.def.task } }],
    };
  });
  return server;
}

/** Serve one session over stdio until stdin ends; the session is closed then. */
export async function serveStdio(manager: SessionManager, session: Session, streams: { stdin?: Readable; stdout?: Writable } = {}): Promise<void> {
  const stdin = streams.stdin ?? process.stdin;
  const server = mcpServerFor(manager, session);
  const transport = new StdioServerTransport(stdin, streams.stdout ?? process.stdout);
  await server.connect(transport);
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    stdin.once("end", finish);
    stdin.once("close", finish);
    transport.onclose = finish;
  });
  await server.close().catch(() => undefined);
  manager.close(session.id);
}

interface Entry {
  transport: StreamableHTTPServerTransport;
  server: Server;
}

function rpcError(res: http.ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** /mcp on the HTTP server: streamable HTTP, one MCP session (and transport) per envc session. */
export class McpHttpEndpoint {
  private entries = new Map<string, Entry>();

  constructor(private manager: SessionManager) {}

  get size(): number {
    return this.entries.size;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams, body: Record<string, unknown> | undefined): Promise<void> {
    if (body && "__invalid" in body) return rpcError(res, 400, -32700, `Parse error: ${String(body.__invalid)}`);
    // streamable HTTP has POST (messages), GET (the server's event stream) and DELETE (end the session)
    if (req.method !== "POST" && req.method !== "GET" && req.method !== "DELETE") {
      req.resume();
      return rpcError(res, 405, -32000, `${req.method} is not allowed on /mcp (use POST, GET or DELETE)`, { allow: "POST, GET, DELETE" });
    }
    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const entry = this.entries.get(sid);
      if (!entry) return rpcError(res, 404, -32001, `No MCP session ${sid} (it was closed or its envc session expired); initialize a new one`);
      return entry.transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST" || !isInitializeRequest(body))
      return rpcError(res, 400, -32000, "No Mcp-Session-Id header: start with an initialize request (POST /mcp?env=NAME&scenario=ID, or /mcp?session=ID)");

    const m = this.manager;
    let session: Session;
    let owned: boolean;
    const attach = query.get("session");
    if (attach) {
      session = m.get(attach);
      owned = false;
    } else {
      let env = query.get("env") ?? undefined;
      if (env === undefined && m.envs.size === 1) env = [...m.envs.keys()][0]!;
      if (env === undefined)
        throw new ServeError(400, "bad_request", `Name the environment in the MCP URL: /mcp?env=NAME[&scenario=ID][&seed=N], or /mcp?session=ID for a session created with POST /sessions (environments: ${[...m.envs.keys()].join(", ")})`);
      const seedText = query.get("seed");
      if (seedText !== null && !/^\d{1,15}$/.test(seedText))
        throw new ServeError(400, "bad_request", `seed in the MCP URL must be an integer >= 0, got '${seedText}'`);
      const seed = seedText === null ? undefined : Number(seedText);
      const renderer = query.get("renderer") ?? undefined;
      if (renderer !== undefined && !RENDERERS.includes(renderer as RendererName))
        throw new ServeError(400, "bad_request", `renderer must be one of ${RENDERERS.join(", ")}`);
      session = m.create({
        env,
        ...(query.get("scenario") !== null ? { scenario: query.get("scenario")! } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(renderer !== undefined ? { renderer: renderer as RendererName } : {}),
      });
      owned = true;
    }
    const server = mcpServerFor(m, session);
    let stopListening: (() => void) | undefined;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true, // one JSON reply per request: no event stream to hold open per call
      onsessioninitialized: (id) => {
        this.entries.set(id, { transport, server });
        // only an initialized MCP session listens: a refused initialize must leave nothing
        // behind on a session it tried to attach to
        stopListening = session.onClose(() => {
          void transport.close().catch(() => undefined);
        });
      },
    });
    let closed = false;
    transport.onclose = () => {
      if (closed) return;
      closed = true;
      stopListening?.(); // an attached session outlives many MCP sessions: do not pile up listeners
      if (transport.sessionId) this.entries.delete(transport.sessionId);
      // a session this MCP session created ends with it; one it attached to lives on
      if (owned) m.close(session.id);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    if (!transport.sessionId && owned) m.close(session.id); // the initialize was refused (bad headers)
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => e.transport.close().catch(() => undefined)));
  }
}
