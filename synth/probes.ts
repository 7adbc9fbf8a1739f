// Rule probes: EnvScaler's dual-LLM check made exact. Once a candidate spec compiles, has a
// valid sample state and survives fuzzing, the model is asked, in a separate conversation that
// never shows the spec, for short call sequences that the description's rules must allow or
// must refuse: it sees the description, the tools as an agent sees them (tools.json: names,
// parameters, descriptions) and the sample state. Each probe is replayed exactly on a fork of
// the sample state: every call but the last must succeed, and the last must succeed (`ok`,
// optionally with a result field of a given value) or be refused (`refused`: a precondition or
// invalid arguments; nothing changes). A probe that comes out otherwise is a diagnostic for the
// spec's repair round, where the model either fixes the spec or names the probe as wrong (a
// ```wrong-probes block), which drops it. Probes that pass are kept as examples.
import { z } from "zod";
import { Environment, deepEqual, renderResult, stringifyOrdered, type CallResult, type EnvDefinition } from "../runtime/index.js";
import type { FuzzCall } from "../compiler/fuzz/engine.js";
import { LlmError, OutputError, type LlmClient } from "../llm/index.js";
import { probeRequestPrompt, PROBE_SYSTEM } from "./prompts.js";
import type { EnvDescription } from "./topics.js";

export const ProbesSchema = z.object({
  probes: z.array(
    z.object({
      id: z.string(),
      rule: z.string(),
      calls: z.array(z.object({ name: z.string(), arguments_json: z.string() })).min(1),
      expect: z.enum(["ok", "refused"]),
      field: z.string().nullable(),
      equals_json: z.string().nullable(),
    }),
  ),
});
type ProbeAnswer = z.infer<typeof ProbesSchema>["probes"][number];

/** A probe ready to replay. */
export interface Probe {
  id: string;
  /** the rule of the description it tests, in the model's words */
  rule: string;
  calls: FuzzCall[];
  expect: "ok" | "refused";
  /** with expect ok: a path into the last call's value ("status", "items.0.price") and its value */
  field?: { path: string; equals: unknown };
}

/** What came of asking for probes: the usable ones, and what was wrong with the others. */
export interface ProbeSet {
  probes: Probe[];
  /** probes left out because they cannot be replayed (unknown tool, arguments not JSON, ...) */
  malformed: { id: string; problem: string }[];
  /** probes the model named as wrong in a repair round, with its reason */
  withdrawn: { id: string; reason: string }[];
  /** the answer could not be used at all (not JSON after repairs, a rejected request) */
  error?: string;
}

/** The outcome of replaying one probe that did not come out as expected. */
export interface ProbeMismatch {
  probe: Probe;
  expected: string;
  actual: string;
}

const MAX_CALLS = 6;

function sanitizeId(id: string, n: number): string {
  const s = id.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 48);
  return /^[a-z]/.test(s) ? s : `probe_${n}${s ? `_${s}` : ""}`;
}

/** Turn the model's answer into probes, setting aside those that cannot be replayed. */
export function probesFromAnswer(answer: readonly ProbeAnswer[], def: EnvDefinition): Pick<ProbeSet, "probes" | "malformed"> {
  const tools = new Set(def.tools.map((t) => t.name));
  const used = new Set<string>();
  const probes: Probe[] = [];
  const malformed: ProbeSet["malformed"] = [];
  answer.forEach((a, i) => {
    let id = sanitizeId(a.id, i + 1);
    for (let n = 2; used.has(id); n++) id = `${sanitizeId(a.id, i + 1)}_${n}`;
    used.add(id);
    const bad = (problem: string) => malformed.push({ id, problem });
    if (a.calls.length > MAX_CALLS) return bad(`${a.calls.length} calls (at most ${MAX_CALLS})`);
    const calls: FuzzCall[] = [];
    for (const [k, c] of a.calls.entries()) {
      if (!tools.has(c.name)) return bad(`calls[${k}]: there is no tool '${c.name}'`);
      let args: unknown;
      try {
        args = c.arguments_json.trim() ? JSON.parse(c.arguments_json) : {};
      } catch (err) {
        return bad(`calls[${k}].arguments_json is not JSON: ${(err as Error).message}`);
      }
      if (!args || typeof args !== "object" || Array.isArray(args)) return bad(`calls[${k}].arguments_json is not a JSON object`);
      calls.push({ name: c.name, arguments: args as Record<string, unknown> });
    }
    const probe: Probe = { id, rule: a.rule.trim(), calls, expect: a.expect };
    if (a.expect === "ok" && a.field?.trim()) {
      if (a.equals_json === null) return bad("field is given without equals_json");
      let equals: unknown;
      try {
        equals = JSON.parse(a.equals_json);
      } catch (err) {
        return bad(`equals_json is not JSON: ${(err as Error).message}`);
      }
      probe.field = { path: a.field.trim(), equals };
    }
    probes.push(probe);
  });
  return { probes, malformed };
}

/**
 * Ask for `n` probes of an environment from its description, its tools and its sample state
 * (never its spec). A malformed answer or a rejected request is the set's `error`, not a throw;
 * a fatal server failure rethrows (the run stops, as for every request).
 */
export async function askProbes(llm: LlmClient, d: EnvDescription, def: EnvDefinition, state: unknown, n: number): Promise<ProbeSet> {
  const messages = [
    { role: "system" as const, content: PROBE_SYSTEM },
    { role: "user" as const, content: probeRequestPrompt(d, stringifyOrdered(def.toolSchemas, 2), stateForPrompt(state), n) },
  ];
  try {
    const a = await llm.json({ messages, name: "rule_probes", schema: ProbesSchema });
    return { ...probesFromAnswer(a.value.probes.slice(0, n), def), withdrawn: [] };
  } catch (err) {
    if (err instanceof OutputError) return { probes: [], malformed: [], withdrawn: [], error: `the probe answer could not be used: ${err.message}` };
    if (err instanceof LlmError && !err.fatal) return { probes: [], malformed: [], withdrawn: [], error: `the probe request was rejected: ${err.message}` };
    throw err;
  }
}

function stateForPrompt(state: unknown): string {
  const text = stringifyOrdered(state, 2);
  return text.length > 20_000 ? `${text.slice(0, 20_000)}\n... (cut)` : text;
}

const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

function describeResult(r: CallResult): string {
  if (r.ok) return `it succeeded: ${short(renderResult(r, "json"))}`;
  if (r.kind === "precondition") return `it was refused (precondition): "${r.error}"`;
  if (r.kind === "invalid_args") return `it was refused (invalid arguments): ${short(r.error)}`;
  if (r.kind === "env_fault") return `it hit an environment fault (a bug in the spec): ${short(r.error)}${r.location ? ` at ${r.location}` : ""}`;
  return `it failed (${r.kind}): ${short(r.error)}`;
}

/** `value` at a dotted path ("items.0.status"), or undefined when the path leads nowhere. */
function at(value: unknown, dotted: string): { value: unknown } | undefined {
  let v = value;
  for (const part of dotted.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return { value: v };
}

/** `"$2.order_id"`: the value at a path of an earlier call's result (call numbers from 1). */
const REF = /^\$(\d+)(?:\.(.+))?$/;

/**
 * Arguments with every `"$N.path"` string replaced by that value of call N's result, or what
 * is wrong with a reference. A probe cannot know the ids that calls create; references let a
 * probe create a record and then act on it.
 */
function resolveRefs(args: Record<string, unknown>, results: readonly CallResult[]): { args: Record<string, unknown> } | { problem: string } {
  let problem: string | undefined;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const m = REF.exec(v);
      if (!m) return v;
      const n = Number(m[1]);
      const r = results[n - 1];
      if (!r || n < 1) {
        problem ??= `${v} names call ${n}, which is not an earlier call`;
        return v;
      }
      if (!r.ok) return v; // that call failed: the probe stops there
      const got = m[2] === undefined ? { value: r.value } : at(r.value, m[2]);
      if (!got) problem ??= `${v}: call ${n}'s result has no ${m[2]}: ${short(renderResult(r, "json"))}`;
      return got?.value;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(args) as Record<string, unknown>;
  return problem ? { problem } : { args: out };
}

/**
 * Replay one probe on a fork of `start`: its calls with every reference resolved (what an
 * example records) when it comes out as expected, else the mismatch.
 */
export function replayProbe(start: Environment, p: Probe): ProbeMismatch | { calls: FuzzCall[] } {
  const live = start.fork();
  const expected =
    p.expect === "refused"
      ? "the last call is refused"
      : `the last call succeeds${p.field ? ` with ${p.field.path} = ${stringifyOrdered(p.field.equals)}` : ""}`;
  const results: CallResult[] = [];
  const concrete: FuzzCall[] = [];
  for (const [i, c] of p.calls.entries()) {
    const resolved = resolveRefs(c.arguments, results);
    if ("problem" in resolved) return { probe: p, expected, actual: `call ${i + 1} (${c.name}) could not be made: ${resolved.problem}` };
    concrete.push({ name: c.name, arguments: resolved.args });
    const r = live.call(c.name, resolved.args);
    results.push(r);
    const last = i === p.calls.length - 1;
    if (!last) {
      if (!r.ok) return { probe: p, expected: `${expected}, after calls that all succeed`, actual: `call ${i + 1} (${c.name}) did not succeed: ${describeResult(r)}` };
      continue;
    }
    const refused = !r.ok && (r.kind === "precondition" || r.kind === "invalid_args");
    if (p.expect === "refused") return refused ? { calls: concrete } : { probe: p, expected, actual: describeResult(r) };
    if (!r.ok) return { probe: p, expected, actual: describeResult(r) };
    if (!p.field) return { calls: concrete };
    const got = at(r.value, p.field.path);
    if (!got) return { probe: p, expected, actual: `it succeeded, but its result has no ${p.field.path}: ${short(renderResult(r, "json"))}` };
    if (!deepEqual(got.value, p.field.equals)) return { probe: p, expected, actual: `it succeeded with ${p.field.path} = ${short(stringifyOrdered(got.value))}` };
  }
  return { calls: concrete };
}

/**
 * Replay every probe from the sample state: those that pass (with their calls as made, every
 * reference resolved: what examples record) and those that disagree.
 */
export function replayProbes(def: EnvDefinition, state: unknown, probes: readonly Probe[]): { passed: Probe[]; mismatches: ProbeMismatch[] } {
  const start = Environment.createFrom(def, state);
  const passed: Probe[] = [];
  const mismatches: ProbeMismatch[] = [];
  for (const p of probes) {
    const r = replayProbe(start, p);
    if ("calls" in r) passed.push({ ...p, calls: r.calls });
    else mismatches.push(r);
  }
  return { passed, mismatches };
}

/** What goes back to the model for the repair round. */
export function mismatchFeedback(ms: readonly ProbeMismatch[]): string {
  const lines = [
    "Rule probes disagree with the spec. A reviewer who saw only the description, the tools (as an agent sees them) and the sample state, not the spec, wrote short call sequences that the description's rules must allow or must refuse; each was replayed exactly on the sample state, and these came out otherwise:",
  ];
  for (const m of ms) {
    lines.push("", `- probe ${m.probe.id} (rule: ${JSON.stringify(m.probe.rule)}):`);
    m.probe.calls.forEach((c, i) => lines.push(`    ${i + 1}. ${c.name}(${stringifyOrdered(c.arguments)})`));
    lines.push(`  expected: ${m.expected}`, `  actual: ${m.actual}`);
  }
  lines.push(
    "",
    "For each probe: if the spec breaks the description, fix the spec (and the sample state if needed). If the probe is what is wrong (the description does not say this, or the probe misreads the tools or the sample state), do not bend the spec to it: name it in a ```wrong-probes block, one line per probe, `probe_id: why the probe is wrong`; it is then dropped.",
  );
  return lines.join("\n");
}

/** The closing line of a probe repair prompt. */
export const PROBE_REPAIR_CLOSING =
  "Answer again with the whole corrected spec and sample state, as two fenced blocks (```env, then ```json), and a ```wrong-probes block if a probe is wrong.";

/** The probes an answer names as wrong: `id: reason` lines of its ```wrong-probes block(s). */
export function parseWrongProbes(content: string): { id: string; reason: string }[] {
  const out: { id: string; reason: string }[] = [];
  const re = /```wrong-probes[^\n]*\n([\s\S]*?)```/gi;
  for (let m; (m = re.exec(content)); )
    for (const line of m[1]!.split("\n")) {
      const l = /^\s*[-*]?\s*`?([A-Za-z0-9_]+)`?\s*(?::\s*(.*))?$/.exec(line);
      if (l) out.push({ id: l[1]!.toLowerCase(), reason: (l[2] ?? "").trim() || "(no reason given)" });
    }
  return out;
}

/** A passing probe as an example: the episode `envc examples --check` replays. */
export function probeExampleId(p: Probe): string {
  return `probe.${p.id}`;
}
