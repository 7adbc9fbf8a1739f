// The HTTP JSON API of `envc serve` on node:http (no framework: a dozen routes, and the tool-call
// route is the hot path of RL training, so it stays a few function calls deep), with the MCP
// streamable HTTP endpoint mounted at /mcp. Client mistakes get 4xx JSON
// ({"error": {"code", "message"}}); an agent's failed tool call is not an HTTP error but an
// observation (200, ok: false), as the agent must see it. Nothing a client sends crashes it.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parseJsonOrdered, stringifyOrdered } from "../runtime/index.js";
import { ServeError, SessionManager, systemPrompt, todayOf, type Session, type ServedEnv } from "./sessions.js";
import { McpHttpEndpoint } from "./mcp.js";

export interface HttpOptions {
  /** largest request body in bytes (default 8 MiB: a session may bring its own initial state) */
  maxBodyBytes?: number;
  /** where unexpected errors are logged (default: stderr) */
  log?: (line: string) => void;
  /** serve MCP (streamable HTTP) at /mcp (default true) */
  mcp?: boolean;
}

// a body with a numeric-string key ("17": ...) needs the order-keeping parser; JSON.parse would
// move such keys first. The check is a cheap scan; the hot path stays on JSON.parse.
const NUMERIC_KEY = /"(?:0|[1-9]\d*)"\s*:/;

function parseBody(text: string): unknown {
  if (NUMERIC_KEY.test(text)) return parseJsonOrdered(text);
  try {
    return JSON.parse(text);
  } catch {
    return parseJsonOrdered(text); // throws a JsonSyntaxError with line and column
  }
}

/** A path segment, %-decoded; a malformed escape is the client's error, not ours. */
function segment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ServeError(400, "bad_request", `Malformed %-escape in the path segment '${s}'`);
  }
}

function send(res: http.ServerResponse, status: number, body: string, headers?: Record<string, string>) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendError(res: http.ServerResponse, err: ServeError) {
  const headers: Record<string, string> = {};
  if (err.status === 503) headers["retry-after"] = "1";
  if (err.status === 413) headers["connection"] = "close";
  if (err.details?.allow) headers["allow"] = String(err.details.allow);
  send(res, err.status, JSON.stringify({ error: { code: err.code, message: err.message, ...err.details } }), headers);
}

/** The session as a client sees it on creation (tools spliced in as pre-serialized JSON). */
function sessionInfo(s: Session, toolsJson: string): string {
  const head = stringifyOrdered({
    session: s.id,
    env: s.envName,
    scenario: s.scenario?.def.id ?? null,
    task: s.task ?? null,
    ...(s.scenario?.def.persona !== undefined ? { persona: s.scenario.def.persona } : {}),
    system: systemPrompt(s.served.def, { today: todayOf(s.env) }),
    renderer: s.renderer,
    checks: s.env.checks,
  });
  return `${head.slice(0, -1)},"tools":${toolsJson}}`;
}

function envSummary(e: ServedEnv) {
  return {
    name: e.def.name,
    title: e.def.title ?? "",
    tools: e.def.tools.map((t) => t.name),
    scenarios: e.scenarios.map((s) => s.def.id),
    defaultState: e.defaultState !== undefined,
  };
}

function envDetail(e: ServedEnv) {
  return {
    name: e.def.name,
    title: e.def.title ?? "",
    description: e.def.description ?? "",
    rules: e.def.rules,
    system: systemPrompt(e.def),
    defaultState: e.defaultState !== undefined,
    tools: e.def.toolSchemas,
    scenarios: e.scenarios.map((s) => ({
      id: s.def.id,
      ...(s.def.description !== undefined ? { description: s.def.description } : {}),
      task: s.def.task,
      ...(s.def.persona !== undefined ? { persona: s.def.persona } : {}),
      checks: s.def.checks.map((c) => c.text),
    })),
  };
}

export class EnvcHttpServer {
  readonly server: http.Server;
  readonly mcp: McpHttpEndpoint | undefined;
  private maxBody: number;
  private log: (line: string) => void;
  private toolsJson = new Map<ServedEnv, string>();

  constructor(
    readonly manager: SessionManager,
    options: HttpOptions = {},
  ) {
    this.maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.log = options.log ?? ((line) => process.stderr.write(line + "\n"));
    for (const e of manager.envs.values()) this.toolsJson.set(e, JSON.stringify(e.def.toolSchemas));
    this.mcp = options.mcp === false ? undefined : new McpHttpEndpoint(manager);
    this.server = http.createServer((req, res) => this.handle(req, res));
    // RL clients keep a connection per worker for the whole run; node's 5 s default would
    // close it between slow model calls and race the client's next request
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.on("clientError", (err, socket) => {
      if (!socket.writable) return socket.destroy();
      const body = JSON.stringify({ error: { code: "bad_request", message: `Malformed HTTP request: ${(err as Error).message}` } });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
  }

  listen(port: number, host = "127.0.0.1"): Promise<{ port: number; host: string; url: string }> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const a = this.server.address() as AddressInfo;
        const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
        resolve({ port: a.port, host: a.address, url: `http://${shown}:${a.port}` });
      });
    });
  }

  async close(): Promise<void> {
    await this.mcp?.closeAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.route(req, res).catch((err) => {
      if (err instanceof ServeError) {
        if (!res.headersSent) sendError(res, err);
        else res.destroy();
        return;
      }
      this.log(`envc serve: internal error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendError(res, new ServeError(500, "internal", `Internal error in envc serve: ${(err as Error)?.message ?? String(err)} (a bug in envc; please report it)`));
      else res.destroy();
    });
  }

  /** The request body as text, refused with 413 past the limit (without reading the rest). */
  private readBody(req: http.IncomingMessage): Promise<string> {
    const declared = Number(req.headers["content-length"]);
    if (declared > this.maxBody) {
      req.resume();
      return Promise.reject(new ServeError(413, "body_too_large", `The request body has ${declared} bytes; the limit is ${this.maxBody} (start envc serve with a larger --max-body)`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on("data", (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > this.maxBody) {
          failed = true;
          chunks.length = 0;
          reject(new ServeError(413, "body_too_large", `The request body is over the limit of ${this.maxBody} bytes (start envc serve with a larger --max-body)`));
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => {
        if (!failed) resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));
      });
      req.on("error", (err) => {
        if (!failed) reject(new ServeError(400, "bad_request", `Reading the request failed: ${err.message}`));
      });
    });
  }

  private async json(req: http.IncomingMessage, required: boolean): Promise<Record<string, unknown>> {
    const text = await this.readBody(req);
    if (text.trim() === "") {
      if (required) throw new ServeError(400, "bad_json", "The request needs a JSON object body");
      return {};
    }
    let value: unknown;
    try {
      value = parseBody(text);
    } catch (err) {
      throw new ServeError(400, "bad_json", `The body is not valid JSON: ${(err as Error).message}`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ServeError(400, "bad_json", "The body must be a JSON object");
    return value as Record<string, unknown>;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
    const parts = pathname.split("/").filter(Boolean);
    // HEAD is GET without the body (node drops it): health checks and proxies probe with it
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const m = this.manager;
    const only = (...allowed: string[]) => {
      if (!allowed.includes(method)) {
        req.resume();
        throw new ServeError(405, "method_not_allowed", `${method} is not allowed on ${pathname} (use ${allowed.join(" or ")})`, { allow: allowed.join(", ") });
      }
    };

    if (parts[0] === "sessions" && parts.length === 3 && parts[2] === "call") {
      only("POST");
      const session = m.get(segment(parts[1]!));
      const body = await this.json(req, true);
      if (typeof body.name !== "string" || body.name === "")
        throw new ServeError(400, "bad_request", 'A call needs "name" (a tool name) and "arguments" (a JSON object, or JSON text as OpenAI tool calls give it)');
      const { result, observation, step } = session.call(body.name, body.arguments ?? {});
      let text: string;
      if (result.ok) text = `{"ok":true,"value":${stringifyOrdered(result.value)},"observation":${JSON.stringify(observation)},"step":${step}}`;
      else text = JSON.stringify({ ok: false, kind: result.kind, error: result.error, ...(result.location ? { location: result.location } : {}), observation, step });
      return send(res, 200, text);
    }

    if (parts[0] === "mcp" && parts.length === 1 && !this.mcp) {
      req.resume();
      throw new ServeError(404, "unknown_route", "This server does not serve MCP (it was started with --no-mcp)");
    }
    if (parts[0] === "mcp" && parts.length === 1 && this.mcp) {
      const body = method === "POST" ? await this.json(req, true).catch((err) => {
        if (err instanceof ServeError && err.code === "bad_json") return { __invalid: err.message } as Record<string, unknown>;
        throw err;
      }) : undefined;
      return this.mcp.handle(req, res, query, body);
    }

    if (parts.length === 0 || (parts.length === 1 && parts[0] === "health")) {
      only("GET");
      return send(res, 200, JSON.stringify({ ok: true, envs: m.envs.size, sessions: m.size, maxSessions: m.maxSessions }));
    }

    if (parts[0] === "envs") {
      only("GET");
      if (parts.length === 1) return send(res, 200, stringifyOrdered({ envs: [...m.envs.values()].map(envSummary) }));
      if (parts.length === 2) return send(res, 200, stringifyOrdered(envDetail(m.env(segment(parts[1]!)))));
    }

    if (parts[0] === "sessions") {
      if (parts.length === 1) {
        only("GET", "POST");
        if (method === "GET") {
          const sessions = m.list().map((s) => ({ session: s.id, env: s.envName, scenario: s.scenario?.def.id ?? null, calls: s.results.length }));
          return send(res, 200, JSON.stringify({ sessions, count: sessions.length, maxSessions: m.maxSessions }));
        }
        const body = await this.json(req, true);
        const known = new Set(["env", "scenario", "state", "seed", "renderer", "checks"]);
        const unknown = Object.keys(body).filter((k) => !known.has(k));
        if (unknown.length) throw new ServeError(400, "bad_request", `Unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (a session takes ${[...known].map((k) => `"${k}"`).join(", ")})`);
        const s = m.create(body as never);
        return send(res, 201, sessionInfo(s, this.toolsJson.get(s.served)!), { location: `/sessions/${s.id}` });
      }
      const id = segment(parts[1]!);
      if (parts.length === 2) {
        only("GET", "DELETE");
        if (method === "DELETE") {
          m.get(id); // 404 (unknown or expired) before closing
          m.close(id);
          return send(res, 200, JSON.stringify({ session: id, closed: true }));
        }
        const s = m.get(id);
        const info = JSON.parse(sessionInfo(s, "null"));
        delete info.tools;
        return send(res, 200, JSON.stringify({ ...info, calls: s.results.length }));
      }
      if (parts.length === 3) {
        const what = parts[2];
        if (what === "tools") {
          only("GET");
          const s = m.get(id);
          return send(res, 200, `{"tools":${this.toolsJson.get(s.served)!}}`);
        }
        if (what === "state") {
          only("GET");
          const s = m.get(id);
          const withDiff = query.get("diff") === "1" || query.get("diff") === "true";
          return send(res, 200, stringifyOrdered({ session: s.id, calls: s.results.length, state: s.env.toJSON(), ...(withDiff ? { diff: s.initial.diff(s.env) } : {}) }));
        }
        if (what === "verify") {
          only("POST", "GET");
          // POST may carry {"reply": "..."}: what the agent told the user, for answer checks
          const body = method === "POST" ? await this.json(req, false) : (req.resume(), {});
          if (body.reply !== undefined && typeof body.reply !== "string")
            throw new ServeError(400, "bad_request", `"reply" must be a string: what the agent told the user, for the scenario's answer checks`);
          const s = m.get(id);
          return send(res, 200, stringifyOrdered({ session: s.id, ...s.verify((body.reply as string | undefined) ?? "") }));
        }
      }
    }
    req.resume();
    throw new ServeError(404, "unknown_route", `No route ${method} ${pathname} (routes: GET /health, GET /envs, GET /envs/NAME, GET or POST /sessions, GET /sessions/ID, GET /sessions/ID/tools, POST /sessions/ID/call, GET /sessions/ID/state, POST /sessions/ID/verify, DELETE /sessions/ID${this.mcp ? ", /mcp" : ""})`);
  }
}
