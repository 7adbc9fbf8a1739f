// A scripted OpenAI-compatible server for tests: a real node:http server on 127.0.0.1 (port 0)
// speaking POST /v1/chat/completions and POST /v1/embeddings, so the real `openai` client is
// used end to end. Answers come from a queue (`enqueue`) and then from a function of the
// request (`respond`); each can be an assistant message (text, JSON or tool calls), an HTTP
// error (429, 500, ...), a body that is not JSON, or any of these after a delay (to run past a
// client timeout). Every request received is recorded, with its parsed body.
// Assumes tests close the server (`await stub.close()`); a request with no scripted answer
// gets a 400 naming the request, which the client does not retry, so a test fails loudly.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StubToolCall {
  name: string;
  /** an object (serialised for the wire) or the raw arguments text */
  arguments: unknown;
  id?: string;
}

export type StubReply =
  /** an assistant message with this text */
  | { content: string; finishReason?: string; delayMs?: number; usage?: { prompt: number; completion: number } | null }
  /** an assistant message whose text is this value as JSON */
  | { json: unknown; delayMs?: number }
  /** an assistant message calling tools (with optional text) */
  | { toolCalls: StubToolCall[]; content?: string | null; delayMs?: number }
  /** an HTTP error with an OpenAI-style error body */
  | { status: number; message?: string; headers?: Record<string, string>; delayMs?: number }
  /** a 200 whose body is this text as is (e.g. not JSON) */
  | { raw: string; delayMs?: number }
  /** embeddings, one vector per input (only for /v1/embeddings) */
  | { embeddings: number[][]; delayMs?: number };

export interface StubRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface StubOptions {
  /** chat answer when the queue is empty (embeddings come from `embed`) */
  respond?: (req: StubRequest) => StubReply | Promise<StubReply>;
  /** embeddings when no reply is scripted: default, a hashed bag of words (similar texts, similar vectors) */
  embed?: (text: string) => number[];
  /** answer 400 to requests whose response_format is json_schema (a server without structured outputs) */
  rejectJsonSchema?: boolean;
}

export interface OpenAiStub {
  /** base URL for the client, ending in /v1 */
  url: string;
  requests: StubRequest[];
  /** chat completion requests only */
  chats(): StubRequest[];
  enqueue(...replies: StubReply[]): void;
  /** replies still queued */
  pending(): number;
  close(): Promise<void>;
}

/** A deterministic embedding: words hashed into 64 buckets, counts. */
export function bagOfWords(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/).filter((x) => x.length > 2)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % 64]! += 1;
  }
  return v;
}

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

export async function startOpenAiStub(options: StubOptions = {}): Promise<OpenAiStub> {
  const queue: StubReply[] = [];
  const requests: StubRequest[] = [];
  let counter = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((err) => {
        if (!res.headersSent) send(res, 500, { error: { message: `openai-stub: ${(err as Error).message}`, type: "server_error" } });
      });
    });
  });

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string) {
    const path = (req.url ?? "").split("?")[0]!;
    let body: any;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      return send(res, 400, { error: { message: "openai-stub: the request body is not JSON", type: "invalid_request_error" } });
    }
    const request: StubRequest = { path, headers: req.headers, body };
    requests.push(request);
    if (req.method !== "POST" || (path !== "/v1/chat/completions" && path !== "/v1/embeddings"))
      return send(res, 404, { error: { message: `openai-stub: no route ${req.method} ${path}`, type: "invalid_request_error" } });
    if (options.rejectJsonSchema && body.response_format?.type === "json_schema")
      return send(res, 400, { error: { message: "response_format json_schema is not supported by this server", type: "invalid_request_error", param: "response_format" } });

    let reply: StubReply | undefined = queue.shift();
    if (!reply && path === "/v1/embeddings") {
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      reply = { embeddings: inputs.map((t) => (options.embed ?? bagOfWords)(t)) };
    }
    if (!reply && options.respond) reply = await options.respond(request);
    if (!reply) {
      const last = body.messages?.at?.(-1)?.content;
      return send(res, 400, { error: { message: `openai-stub: no scripted answer for request ${requests.length} (${path}; last message: ${String(last).slice(0, 120)})`, type: "invalid_request_error" } });
    }
    if (reply.delayMs) {
      await new Promise((r) => setTimeout(r, reply!.delayMs));
      // the client gave up (timeout); req.destroyed is already true once the body was read
      if (res.destroyed) return;
    }
    if ("status" in reply)
      return send(res, reply.status, { error: { message: reply.message ?? `scripted ${reply.status}`, type: reply.status === 429 ? "rate_limit_exceeded" : "server_error" } }, reply.headers);
    if ("raw" in reply) return send(res, 200, reply.raw);
    if ("embeddings" in reply)
      return send(res, 200, {
        object: "list",
        model: body.model,
        data: reply.embeddings.map((embedding, index) => ({ object: "embedding", index, embedding })),
        usage: { prompt_tokens: tokens(JSON.stringify(body.input)), total_tokens: tokens(JSON.stringify(body.input)) },
      });

    const message: Record<string, unknown> = { role: "assistant", content: null };
    let finish = "stop";
    if ("toolCalls" in reply) {
      message.content = reply.content ?? null;
      message.tool_calls = reply.toolCalls.map((c, i) => ({
        id: c.id ?? `call_${++counter}_${i}`,
        type: "function",
        function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments) },
      }));
      finish = "tool_calls";
    } else if ("json" in reply) message.content = JSON.stringify(reply.json);
    else {
      message.content = reply.content;
      finish = reply.finishReason ?? "stop";
    }
    const prompt = tokens(JSON.stringify(body.messages ?? []));
    const completion = tokens(JSON.stringify(message));
    const usage = "usage" in reply && reply.usage !== undefined
      ? reply.usage === null ? undefined : { prompt_tokens: reply.usage.prompt, completion_tokens: reply.usage.completion, total_tokens: reply.usage.prompt + reply.usage.completion }
      : { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    send(res, 200, {
      id: `chatcmpl-stub-${++counter}`,
      object: "chat.completion",
      created: 1_700_000_000,
      model: body.model ?? "stub",
      choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
      ...(usage ? { usage } : {}),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chats: () => requests.filter((r) => r.path === "/v1/chat/completions"),
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The text of a request's messages of one role, joined (for matching a stage in `respond`). */
export function messageText(req: StubRequest, role: "system" | "user" | "assistant" | "tool" = "user"): string {
  return (req.body.messages ?? [])
    .filter((m: { role: string }) => m.role === role)
    .map((m: { content: unknown }) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)))
    .join("\n");
}

/** The last user message of a chat request. */
export function lastUser(req: StubRequest): string {
  const users = (req.body.messages ?? []).filter((m: { role: string }) => m.role === "user");
  const m = users.at(-1);
  return m ? (typeof m.content === "string" ? m.content : JSON.stringify(m.content)) : "";
}
