// The LLM client every pipeline shares (synth/ and agent/, through llm/index.ts): the `openai` package
// pointed at any OpenAI-compatible server, with an on-disk cache keyed by the whole request,
// a concurrency limit, our own retries with backoff, token/cost accounting, and structured
// JSON answers (JSON-schema response format, falling back to JSON mode and then to plain
// prompting when a server rejects it; the answer is always validated with zod and a bad one
// is sent back once or twice for repair).
//
// Why our retries and not the package's `maxRetries` (set to 0 here): every attempt is then
// counted in the accounting, the backoff is configurable (tests use milliseconds, the
// package's is fixed at 0.5 s to 8 s), a failure that survives the retries becomes one clear
// sentence naming the server and the attempts, and a run stops at the first such failure
// instead of every in-flight item rediscovering it.
import OpenAI from "openai";
import type {
  ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption, ChatCompletionMessageToolCall,
} from "openai/resources/chat/completions";
import pLimit, { type LimitFunction } from "p-limit";
import { z } from "zod";
import { DiskCache, cacheKey } from "./cache.js";

export type ChatMessage = ChatCompletionMessageParam;
export type StructuredMode = "auto" | "json_schema" | "json_object" | "prompt";

export interface LlmConfig {
  /** e.g. https://api.openai.com/v1, http://localhost:11434/v1 */
  baseURL: string;
  apiKey: string;
  model: string;
  /** model for /embeddings (default: `model`) */
  embeddingModel?: string;
  temperature?: number;
  maxTokens?: number;
  /** most requests in flight at once */
  concurrency: number;
  /** folder of the on-disk cache; undefined turns caching off */
  cacheDir?: string;
  /** per-attempt timeout */
  timeoutMs: number;
  /** attempts after the first, on 429, 5xx, timeouts and connection errors */
  retries: number;
  /**
   * at most this many of those retries after a timeout (default 1): a server that let two
   * attempts of timeoutMs pass unanswered hangs, and waiting retries × timeoutMs for it (ten
   * minutes by default) would only delay saying so
   */
  timeoutRetries?: number;
  /** while requests wait, a notice (through onWait) after this long, and again every 3 times it */
  waitNoticeMs?: number;
  /** first backoff; doubles on each retry, capped at retryMaxMs (a 429's Retry-After is honoured up to the cap) */
  retryBaseMs: number;
  retryMaxMs: number;
  /** how JSON answers are requested; auto starts with json_schema and steps down when the server rejects it */
  structured: StructuredMode;
  /** USD per 1,000 tokens, when known: the accounting then reports a cost */
  pricing?: { inputPer1k: number; outputPer1k: number };
}

export const DEFAULTS = {
  concurrency: 4,
  timeoutMs: 120_000,
  retries: 4,
  timeoutRetries: 1,
  waitNoticeMs: 10_000,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
  structured: "auto" as StructuredMode,
};

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ChatCompletionTool[];
  toolChoice?: ChatCompletionToolChoiceOption;
  temperature?: number;
  maxTokens?: number;
  /** sent as the request's `seed` (part of the cache key): rollouts number their samples with it */
  seed?: number;
}

export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
}

export interface ChatAnswer {
  message: AssistantMessage;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number };
  /** true when the answer came from the cache (no request was sent) */
  cached: boolean;
}

export interface LlmStats {
  /** HTTP requests sent, retries included */
  requests: number;
  /** of those, the ones that failed and were retried or ended the run */
  failedAttempts: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  /** answers without a usage block, whose tokens were estimated as characters / 4 */
  estimatedUsage: number;
  /** answers that were not valid JSON for their schema and were sent back for repair */
  jsonRepairs: number;
  /** null without pricing */
  costUsd: number | null;
  /** the response format in use at the end (auto may have stepped down) */
  structured: Exclude<StructuredMode, "auto">;
}

export type LlmErrorKind = "unreachable" | "timeout" | "rate_limited" | "server_error" | "auth" | "not_found" | "rejected";

/**
 * A request that failed for good. `fatal` errors (everything but `rejected`) mean the server
 * or the configuration is broken: the run stops. A `rejected` request (400/422: too long, a
 * parameter the server refuses) fails only the item that sent it.
 */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly kind: LlmErrorKind,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
  get fatal(): boolean {
    return this.kind !== "rejected";
  }
}

/** The model's answer never became valid JSON for the schema, even after repair turns. */
export class OutputError extends Error {
  constructor(
    message: string,
    readonly content: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface JsonRequest<T> {
  messages: ChatMessage[];
  /** a short identifier for the schema (OpenAI requires one: letters, digits, _ and -) */
  name: string;
  schema: z.ZodType<T>;
  temperature?: number;
  maxTokens?: number;
  /** times a malformed answer is sent back with what is wrong (default 2) */
  repairs?: number;
}

export interface JsonAnswer<T> {
  value: T;
  /** the conversation: the request's messages, any repair turns, then the accepted answer */
  messages: ChatMessage[];
  /** the accepted answer's text, as the model wrote it */
  content: string;
}

type Cached = Omit<ChatAnswer, "cached">;
type FormatFn = (wire: Record<string, unknown>, mode: Exclude<StructuredMode, "auto">) => Record<string, unknown>;
/** The response formats of `auto`, best first. */
const STEP_DOWN: Exclude<StructuredMode, "auto">[] = ["json_schema", "json_object", "prompt"];

/** Parse JSON from a model's text: the whole text, else a ```json fence, else the outermost {...}. */
export function extractJson(text: string): { value: unknown } | { error: string } {
  const attempts: string[] = [text.trim()];
  const fence = /```(?:json)?\s*\n([\s\S]*?)\n?```/.exec(text);
  if (fence) attempts.push(fence[1]!.trim());
  const first = text.indexOf("{");
  const last = text.lastIndexOf("}");
  if (first >= 0 && last > first) attempts.push(text.slice(first, last + 1));
  let error = "";
  for (const a of attempts) {
    try {
      return { value: JSON.parse(a) };
    } catch (err) {
      error ||= (err as Error).message;
    }
  }
  return { error: text.trim() ? `not valid JSON (${error})` : "the answer was empty" };
}

/** The JSON schema of a zod schema, in the subset OpenAI's strict mode accepts. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { target: "draft-7" }) as Record<string, unknown>;
  delete s.$schema;
  // strict mode refuses string lengths (a 400, which would cost the strict format); zod still
  // checks them on the answer
  const strip = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(strip);
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    delete o.minLength;
    delete o.maxLength;
    for (const x of Object.values(o)) strip(x);
  };
  strip(s);
  return s;
}

function zodProblems(err: z.ZodError): string {
  return err.issues
    .slice(0, 8)
    .map((i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`)
    .join("; ");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LlmClient {
  readonly stats: LlmStats;
  private openai: OpenAI;
  private limit: LimitFunction;
  private cache?: DiskCache;
  private inFlight = new Map<string, Promise<Cached>>();
  private failure?: LlmError;
  private structured: Exclude<StructuredMode, "auto">;

  /** when each request in flight started, by a counter; what the wait notices are about */
  private waiting = new Map<number, number>();
  private nextWait = 0;
  private watchdog?: ReturnType<typeof setInterval>;
  private lastNotice = 0;

  /** `onWait`: told, while requests go unanswered, what the client waits for (the CLI prints it) */
  constructor(
    readonly config: LlmConfig,
    private onWait?: (message: string) => void,
  ) {
    this.openai = new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey, maxRetries: 0, timeout: config.timeoutMs });
    this.limit = pLimit(config.concurrency);
    if (config.cacheDir) this.cache = new DiskCache(config.cacheDir);
    this.structured = config.structured === "auto" ? "json_schema" : config.structured;
    this.stats = {
      requests: 0, failedAttempts: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0, estimatedUsage: 0, jsonRepairs: 0,
      costUsd: config.pricing ? 0 : null, structured: this.structured,
    };
  }

  /** One chat completion (cached). Tools and tool calls pass through as in the OpenAI API. */
  async chat(req: ChatRequest): Promise<ChatAnswer> {
    const wire = this.wireRequest(req);
    return this.completion(wire, { kind: "chat", ...wire });
  }

  /**
   * A JSON answer validated by `schema`. The cache key is the logical request (messages and
   * schema), not the response format, so answers survive a step-down to another format.
   */
  async json<T>(req: JsonRequest<T>): Promise<JsonAnswer<T>> {
    const schema = jsonSchemaOf(req.schema);
    const messages = withSchemaInstruction(req.messages, schema);
    const repairs = req.repairs ?? 2;
    let content = "";
    for (let attempt = 0; ; attempt++) {
      const base = this.wireRequest({ messages, temperature: req.temperature, maxTokens: req.maxTokens });
      const answer = await this.completion(base, { kind: "json", ...base, schema: { name: req.name, schema } }, (wire, mode) => this.withResponseFormat(wire, mode, req.name, schema));
      content = answer.message.content ?? "";
      const parsed = extractJson(content);
      let problem: string;
      if ("value" in parsed) {
        const checked = req.schema.safeParse(parsed.value);
        if (checked.success) return { value: checked.data, messages: [...messages, { role: "assistant", content }], content };
        problem = `the JSON does not match the schema: ${zodProblems(checked.error)}`;
      } else problem = parsed.error;
      if (answer.finishReason === "length") problem += " (the answer was cut off at the token limit: be shorter)";
      if (attempt >= repairs) throw new OutputError(`no valid JSON after ${attempt + 1} answer${attempt ? "s" : ""}: ${problem}`, content, attempt + 1);
      this.stats.jsonRepairs++;
      messages.push({ role: "assistant", content }, {
        role: "user",
        content: `Your answer could not be used: ${problem}. Answer again with only the JSON object, matching the schema.`,
      });
    }
  }

  /** Embedding vectors of `texts` (cached per text, uncached ones sent in batches). */
  async embed(texts: string[]): Promise<number[][]> {
    this.throwIfFailed();
    const model = this.config.embeddingModel ?? this.config.model;
    const out: (number[] | undefined)[] = new Array(texts.length);
    const missing: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const hit = this.cache ? await this.cache.get<number[]>(cacheKey({ kind: "embedding", model, input: texts[i] })) : undefined;
      if (hit) {
        out[i] = hit;
        this.stats.cacheHits++;
      } else missing.push(i);
    }
    for (let at = 0; at < missing.length; at += 128) {
      const batch = missing.slice(at, at + 128);
      const res = await this.limit(() => this.send(() => this.openai.embeddings.create({ model, input: batch.map((i) => texts[i]!) })));
      if (res.data.length !== batch.length) throw this.fail(new LlmError(`the server at ${this.config.baseURL} returned ${res.data.length} embeddings for ${batch.length} texts`, "server_error", 1));
      this.count(res.usage?.prompt_tokens, 0, batch.map((i) => texts[i]!).join(" ").length, 0);
      for (const d of [...res.data].sort((a, b) => a.index - b.index)) {
        const i = batch[d.index]!;
        out[i] = d.embedding;
        if (this.cache) await this.cache.put(cacheKey({ kind: "embedding", model, input: texts[i] }), { kind: "embedding", model, input: texts[i] }, d.embedding);
      }
    }
    return out as number[][];
  }

  private wireRequest(req: ChatRequest): Record<string, unknown> {
    const temperature = req.temperature ?? this.config.temperature;
    const maxTokens = req.maxTokens ?? this.config.maxTokens;
    return {
      model: this.config.model,
      messages: req.messages,
      ...(req.tools?.length ? { tools: req.tools } : {}),
      ...(req.toolChoice ? { tool_choice: req.toolChoice } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
    };
  }

  private withResponseFormat(wire: Record<string, unknown>, mode: Exclude<StructuredMode, "auto">, name: string, schema: Record<string, unknown>): Record<string, unknown> {
    if (mode === "json_schema") return { ...wire, response_format: { type: "json_schema", json_schema: { name, schema, strict: true } } };
    if (mode === "json_object") return { ...wire, response_format: { type: "json_object" } };
    return wire;
  }

  /** The cached answer to `keyRequest`, or the server's (one in-flight request per key). */
  private async completion(wire: Record<string, unknown>, keyRequest: unknown, format?: FormatFn): Promise<ChatAnswer> {
    this.throwIfFailed();
    const key = cacheKey(keyRequest);
    const hit = this.cache ? await this.cache.get<Cached>(key) : undefined;
    if (hit) {
      this.stats.cacheHits++;
      return { ...hit, cached: true };
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchCompletion(wire, format).then(async (answer) => {
        if (this.cache) await this.cache.put(key, keyRequest, answer);
        return answer;
      });
      this.inFlight.set(key, pending);
      pending.finally(() => this.inFlight.delete(key)).catch(() => {});
    }
    return { ...(await pending), cached: false };
  }

  private async fetchCompletion(wire: Record<string, unknown>, format?: FormatFn): Promise<Cached> {
    let mode = this.structured;
    for (;;) {
      const sent = format ? format(wire, mode) : wire;
      try {
        const res = await this.limit(() => this.send(() => this.openai.chat.completions.create(sent as never) as Promise<OpenAI.Chat.Completions.ChatCompletion>));
        const choice = res.choices?.[0];
        if (!choice?.message) throw this.fail(new LlmError(`the server at ${this.config.baseURL} answered without a message (no choices)`, "server_error", 1));
        // a lower format worked where a higher one was refused: later requests start there
        if (format && STEP_DOWN.indexOf(mode) > STEP_DOWN.indexOf(this.structured)) this.stats.structured = this.structured = mode;
        const m = choice.message;
        const message: AssistantMessage = { role: "assistant", content: m.content ?? null, ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}) };
        const outChars = (m.content ?? "").length + JSON.stringify(m.tool_calls ?? []).length - 2;
        const usage = this.count(res.usage?.prompt_tokens, res.usage?.completion_tokens, JSON.stringify(sent).length, outChars);
        return { message, finishReason: choice.finish_reason ?? null, usage };
      } catch (err) {
        // a server that does not do JSON-schema output (or JSON mode) says so with a 400/422:
        // ask again one format lower (the cache key does not change). The step-down is kept
        // for later requests only once a lower format is accepted: a 400 for another reason
        // (a prompt over the context length) is refused in every format, and must not cost
        // the whole run its structured outputs.
        if (format && err instanceof LlmError && err.kind === "rejected" && mode !== "prompt" && this.config.structured === "auto") {
          mode = STEP_DOWN[STEP_DOWN.indexOf(mode) + 1]!;
          continue;
        }
        throw err;
      }
    }
  }

  /** Count tokens (the server's usage, else characters / 4) and cost. */
  private count(prompt: number | undefined, completion: number | undefined, promptChars: number, completionChars: number) {
    const estimated = prompt === undefined;
    const promptTokens = prompt ?? Math.ceil(promptChars / 4);
    const completionTokens = completion ?? (estimated ? Math.ceil(completionChars / 4) : 0);
    if (estimated) this.stats.estimatedUsage++;
    this.stats.promptTokens += promptTokens;
    this.stats.completionTokens += completionTokens;
    if (this.config.pricing && this.stats.costUsd !== null)
      this.stats.costUsd += (promptTokens * this.config.pricing.inputPer1k + completionTokens * this.config.pricing.outputPer1k) / 1000;
    return { promptTokens, completionTokens };
  }

  /** Send one request with retries; failures become LlmErrors (fatal ones stop the client). */
  private async send<T>(call: () => Promise<T>): Promise<T> {
    let timeouts = 0;
    for (let attempt = 1; ; attempt++) {
      this.throwIfFailed();
      this.stats.requests++;
      const done = this.startWaiting();
      let wait: number;
      try {
        return await call();
      } catch (err) {
        this.stats.failedAttempts++;
        const e = this.classify(err, attempt);
        const retryable = e.kind === "unreachable" || e.kind === "timeout" || e.kind === "rate_limited" || e.kind === "server_error";
        if (e.kind === "timeout") timeouts++;
        if (!retryable || attempt > this.config.retries || (e.kind === "timeout" && timeouts > this.timeoutRetries)) throw e.fatal ? this.fail(e) : e;
        wait = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** (attempt - 1));
        const after = retryAfterMs(err);
        if (after !== undefined) wait = Math.min(this.config.retryMaxMs, Math.max(wait, after));
      } finally {
        done(); // answered or failed: no longer waiting (the backoff below is ours)
      }
      await sleep(wait);
    }
  }

  private get timeoutRetries(): number {
    return Math.min(this.config.retries, this.config.timeoutRetries ?? DEFAULTS.timeoutRetries);
  }

  /** Count a request as waiting for its answer; the returned function ends the wait. */
  private startWaiting(): () => void {
    const id = this.nextWait++;
    this.waiting.set(id, Date.now());
    if (this.onWait && !this.watchdog) {
      const every = this.config.waitNoticeMs ?? DEFAULTS.waitNoticeMs;
      this.watchdog = setInterval(() => this.noticeWait(every), Math.max(10, Math.min(1000, every / 4)));
      this.watchdog.unref?.();
    }
    return () => {
      this.waiting.delete(id);
      if (this.waiting.size === 0 && this.watchdog) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
    };
  }

  /** Say what the client waits for, once a request waited `every` ms, then every 3 × `every`. */
  private noticeWait(every: number): void {
    if (!this.onWait || this.waiting.size === 0) return;
    const now = Date.now();
    const oldest = Math.min(...this.waiting.values());
    if (now - oldest < every || now - this.lastNotice < 3 * every) return;
    this.lastNotice = now;
    const n = this.waiting.size;
    const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;
    this.onWait(
      `waiting for ${this.config.model} at ${this.config.baseURL}: ${n} request${n === 1 ? "" : "s"} unanswered, the oldest for ${secs(now - oldest)}` +
        ` (an attempt gives up after ${secs(this.config.timeoutMs)}, --timeout; a request that times out ${this.timeoutRetries + 1 === 1 ? "once" : `${this.timeoutRetries + 1} times`} stops the run)`,
    );
  }

  private classify(err: unknown, attempts: number): LlmError {
    if (err instanceof LlmError) return err;
    const at = this.config.baseURL;
    const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
    if (err instanceof OpenAI.APIConnectionTimeoutError)
      return new LlmError(`the server at ${at} did not answer within ${this.config.timeoutMs / 1000} s (${tries}); raise --timeout or lower --concurrency`, "timeout", attempts);
    if (err instanceof OpenAI.APIConnectionError) {
      return new LlmError(`cannot reach the server at ${at}: ${connectionCause(err)} (${tries}); check --base-url (or OPENAI_BASE_URL) and that the server is running`, "unreachable", attempts);
    }
    if (err instanceof OpenAI.APIError) {
      const status = err.status ?? 0;
      const detail = oneLine(err.message);
      if (status === 429) return new LlmError(`the server at ${at} kept answering 429 (rate limited) (${tries}): ${detail}; lower --concurrency or raise --retries`, "rate_limited", attempts, status);
      if (status >= 500 || status === 408 || status === 409)
        return new LlmError(`the server at ${at} kept failing: ${detail} (${tries})`, "server_error", attempts, status);
      if (status === 401 || status === 403)
        return new LlmError(`the server at ${at} refused the API key: ${detail}; set OPENAI_API_KEY or pass --api-key`, "auth", attempts, status);
      if (status === 404)
        return new LlmError(`the server at ${at} answered 404: ${detail}; check --model and that the base URL ends in /v1`, "not_found", attempts, status);
      return new LlmError(`the server at ${at} rejected the request: ${detail}`, "rejected", attempts, status);
    }
    if (err instanceof SyntaxError) // a 200 whose body is not JSON: a proxy's error page, a crashed worker
      return new LlmError(`the server at ${at} kept sending answers that are not JSON (${tries}): ${oneLine(err.message)}`, "server_error", attempts);
    return new LlmError(`request to ${at} failed: ${oneLine((err as Error)?.message ?? String(err))} (${tries})`, "unreachable", attempts);
  }

  private fail(e: LlmError): LlmError {
    this.failure ??= e;
    return e;
  }

  private throwIfFailed() {
    if (this.failure) throw this.failure;
  }
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function connectionCause(err: Error): string {
  // fetch wraps the socket error: APIConnectionError -> TypeError "fetch failed" -> Error with a code
  let c: unknown = (err as { cause?: unknown }).cause;
  let deepest = err.message;
  for (let i = 0; i < 5 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if (c instanceof Error && c.message) deepest = c.message;
    c = (c as { cause?: unknown }).cause;
  }
  return oneLine(deepest);
}

function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof OpenAI.APIError) || !err.headers) return undefined;
  const ms = err.headers.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const s = err.headers.get("retry-after");
  if (s && Number.isFinite(Number(s))) return Number(s) * 1000;
  return undefined;
}

/**
 * The messages with the JSON schema spelled out in the system message. Sent in every format:
 * JSON mode needs the word JSON in the prompt, plain prompting needs the schema, and some
 * servers accept `response_format` and silently ignore it.
 */
function withSchemaInstruction(messages: ChatMessage[], schema: Record<string, unknown>): ChatMessage[] {
  const note = `\n\nAnswer with only a JSON object (no prose, no code fence) that matches this JSON schema:\n${JSON.stringify(schema)}`;
  const out = [...messages];
  const i = out.findIndex((m) => m.role === "system");
  if (i >= 0 && typeof out[i]!.content === "string") out[i] = { role: "system", content: out[i]!.content + note };
  else out.unshift({ role: "system", content: note.trim() });
  return out;
}
