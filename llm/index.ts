// The LLM layer's API, the one module synth/, agent/ and the CLI import from it: the
// OpenAI-compatible client (chat with tools, validated JSON answers, embeddings, retries,
// accounting) with its on-disk cache, its configuration from options and environment
// variables, the batch runner, the progress bar, and usage metrics for reports.
// llm/ imports nothing of envc but util/: any pipeline can use it, none is special.
export {
  LlmClient, LlmError, OutputError, extractJson, jsonSchemaOf, DEFAULTS,
  type LlmConfig, type LlmStats, type LlmErrorKind, type ChatMessage, type ChatRequest, type ChatAnswer,
  type AssistantMessage, type JsonRequest, type JsonAnswer, type StructuredMode,
} from "./client.js";
export { resolveLlmConfig, ConfigError, isLoopback, OPENAI_URL, DEFAULT_CACHE, type LlmOptionValues } from "./config.js";
export { DiskCache, cacheKey, canonicalJson } from "./cache.js";
export { runItems } from "./batch.js";
export { Progress } from "./progress.js";
export { usageMetrics, usageLine, sumStats, type UsageMetrics } from "./usage.js";
