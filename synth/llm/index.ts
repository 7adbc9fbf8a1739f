// The LLM client layer in one import, for synth and for other verbs (rollouts): the client
// (chat with tools, validated JSON, embeddings, cache, retries, accounting), its configuration
// from options and environment variables, and the progress bar.
export {
  LlmClient, LlmError, OutputError, extractJson, jsonSchemaOf, DEFAULTS,
  type LlmConfig, type LlmStats, type LlmErrorKind, type ChatMessage, type ChatRequest, type ChatAnswer,
  type AssistantMessage, type JsonRequest, type JsonAnswer, type StructuredMode,
} from "./client.js";
export { resolveLlmConfig, ConfigError, isLoopback, OPENAI_URL, DEFAULT_CACHE, type LlmOptionValues } from "./config.js";
export { DiskCache, cacheKey, canonicalJson } from "./cache.js";
export { Progress } from "./progress.js";
