// The state fields an invariant reads, with the helpers it calls followed: what the runtime
// needs to re-check an invariant only after an action that changed something it reads
// (runtime/env.ts, checkAfterAction). Assumes a checked IR, where state is read only through
// `state` nodes and helpers only through `call` nodes naming a tool of the spec.
import type { IEnv, IInvariant } from "./ir.js";

/**
 * The checker's `inv.reads` marks a call with "*" (anything may be read), which made every
 * invariant that calls a helper a full re-check after every action. Here each "*" is replaced
 * by what the called tools read, transitively; a call of a name the spec has no tool of keeps
 * the "*". The order is the checker's, then the fields found through calls in the order met.
 */
export function invariantReads(env: IEnv, inv: IInvariant): string[] {
  if (!inv.reads.includes("*")) return inv.reads;
  const byName = new Map(env.tools.map((t) => [t.name, t]));
  const out = new Set<string>(inv.reads.filter((r) => r !== "*"));
  let unknown = false;
  const seenTools = new Set<string>();
  const stack: unknown[] = [inv.expr, inv.perRecord];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    const node = n as Record<string, unknown>;
    if (node.e === "state" && typeof node.field === "string") out.add(node.field);
    if (node.e === "call" && typeof node.callee === "string" && !seenTools.has(node.callee)) {
      seenTools.add(node.callee);
      const tool = byName.get(node.callee);
      if (tool) stack.push(tool.body);
      else unknown = true;
    }
    for (const k in node) {
      if (k === "t" || k === "span" || k === "type") continue;
      const v = node[k];
      if (v !== null && typeof v === "object") stack.push(v);
    }
  }
  return unknown ? [...out, "*"] : [...out];
}
