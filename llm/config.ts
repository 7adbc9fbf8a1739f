// Turns command-line options and the environment (OPENAI_BASE_URL, OPENAI_API_KEY, ENVC_MODEL)
// into an LlmConfig, or a ConfigError whose message says what to set. A loopback server
// (Ollama, vLLM, llama.cpp on this machine) needs no key: such servers accept any, so a
// placeholder is sent.
import { DEFAULTS, type LlmConfig, type StructuredMode } from "./client.js";

export class ConfigError extends Error {}

export interface LlmOptionValues {
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  embeddingModel?: string;
  temperature?: number;
  maxTokens?: number;
  concurrency?: number;
  /** a folder, or false for --no-cache */
  cache?: string | false;
  /** seconds */
  timeout?: number;
  retries?: number;
  retryBaseMs?: number;
  structured?: StructuredMode;
  priceIn?: number;
  priceOut?: number;
}

export const OPENAI_URL = "https://api.openai.com/v1";
export const DEFAULT_CACHE = ".envc-cache";

export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || host === "0.0.0.0" || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function resolveLlmConfig(o: LlmOptionValues, env: NodeJS.ProcessEnv = process.env): LlmConfig {
  const baseURL = (o.baseUrl ?? env.OPENAI_BASE_URL ?? OPENAI_URL).replace(/\/+$/, "");
  try {
    const u = new URL(baseURL);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(`the base URL '${baseURL}' is not an http(s) URL; pass e.g. --base-url http://localhost:11434/v1`);
  }
  const apiKey = o.apiKey ?? env.OPENAI_API_KEY ?? (isLoopback(baseURL) ? "envc-local" : undefined);
  if (!apiKey)
    throw new ConfigError(`OPENAI_API_KEY is not set (needed for ${baseURL}): export it or pass --api-key; servers on localhost (Ollama, vLLM) need none`);
  const model = o.model ?? env.ENVC_MODEL;
  if (!model) throw new ConfigError("no model named: pass --model (e.g. --model gpt-4.1-mini, or qwen2.5-coder:14b on Ollama) or set ENVC_MODEL");
  if ((o.priceIn === undefined) !== (o.priceOut === undefined)) throw new ConfigError("give both --price-in and --price-out (USD per 1,000 tokens), or neither");
  return {
    baseURL,
    apiKey,
    model,
    ...(o.embeddingModel ? { embeddingModel: o.embeddingModel } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
    concurrency: o.concurrency ?? DEFAULTS.concurrency,
    ...(o.cache === false ? {} : { cacheDir: o.cache ?? DEFAULT_CACHE }),
    timeoutMs: o.timeout !== undefined ? Math.round(o.timeout * 1000) : DEFAULTS.timeoutMs,
    retries: o.retries ?? DEFAULTS.retries,
    retryBaseMs: o.retryBaseMs ?? DEFAULTS.retryBaseMs,
    retryMaxMs: Math.max(DEFAULTS.retryMaxMs, o.retryBaseMs ?? 0),
    structured: o.structured ?? DEFAULTS.structured,
    ...(o.priceIn !== undefined && o.priceOut !== undefined ? { pricing: { inputPer1k: o.priceIn, outputPer1k: o.priceOut } } : {}),
  };
}
