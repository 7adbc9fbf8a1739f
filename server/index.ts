// server/'s public surface: the session manager, the HTTP API (with MCP at /mcp), MCP over
// stdio, and loading specs to serve. Only load.ts imports the compiler.
export { SessionManager, Session, ServeError, systemPrompt } from "./sessions.js";
export type { ServedEnv, ServedScenario, SessionOptions, CreateRequest, CallOutcome } from "./sessions.js";
export { EnvcHttpServer, type HttpOptions } from "./http.js";
export { McpHttpEndpoint, mcpServerFor, serveStdio, ENVC_VERSION } from "./mcp.js";
export { loadServedEnvs, type LoadResult } from "./load.js";
