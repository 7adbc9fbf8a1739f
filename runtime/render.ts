// Result renderers: how a tool call's result is shown to an agent. Plain JSON, EnvScaler's
// {"success": ...} objects, and tau-bench's text ("Error: ..." or a JSON string).
import type { CallResult } from "./env.js";
import { stringifyOrdered } from "./values.js";

export type RendererName = "json" | "envscaler" | "taubench";
export const RENDERERS: readonly RendererName[] = ["json", "envscaler", "taubench"];

export function renderResult(result: CallResult, renderer: RendererName): string {
  switch (renderer) {
    case "json":
      return stringifyOrdered(result.ok ? { ok: true, value: result.value } : result);
    case "envscaler":
      return stringifyOrdered(result.ok ? { success: true, data: result.value } : { success: false, error: result.error });
    case "taubench":
      if (!result.ok) return `Error: ${result.error}`;
      return typeof result.value === "string" ? result.value : stringifyOrdered(result.value);
  }
}
