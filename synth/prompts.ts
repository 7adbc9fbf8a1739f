// Every prompt the synth pipelines send, in one place. The spec and scenario prompts embed
// docs/language.md, read at run time from the package root, so the model learns the language
// from the same file people read (one source; a test compiles every example in it), plus one
// bundled spec as a worked example. Stage headings ("## Step 1 of 3: ...") open each user
// message so that a reader of the cache, or a scripted test server, can tell stages apart.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../compiler/project.js";

export const DEFAULT_EXAMPLES = ["specs/banking/banking.env"];

/**
 * docs/language.md, whole, or only its opening and the `## ` sections named (with their
 * subsections), in the document's order: scenario writers read the spec itself and need the
 * expression and scenario parts, not how to declare entities or tools (a third of the size).
 */
export function languageReference(sections?: readonly string[]): string {
  const text = readFileSync(path.join(packageRoot(), "docs", "language.md"), "utf8");
  if (!sections) return text;
  const parts = text.split(/^(?=## )/m);
  const wanted = new Set(sections);
  const missing = sections.filter((s) => !parts.some((p) => p.startsWith(`## ${s}\n`)));
  if (missing.length) throw new Error(`docs/language.md has no section ${missing.map((m) => `"## ${m}"`).join(", ")}`);
  return parts.filter((p, i) => i === 0 || wanted.has(p.slice(3, p.indexOf("\n")))).join("");
}

/** The parts of the language reference a scenario writer needs. */
export const SCENARIO_SECTIONS = ["Expressions", "Scenarios"] as const;

/** Example specs by path (relative to the package root unless absolute), as prompt sections. */
export function exampleSection(files: readonly string[]): string {
  return files
    .map((f) => {
      const abs = path.isAbsolute(f) ? f : path.join(packageRoot(), f);
      const text = readFileSync(abs, "utf8");
      return `## Example: ${path.isAbsolute(f) ? path.basename(f) : f}\n\n\`\`\`env\n${text.trimEnd()}\n\`\`\``;
    })
    .join("\n\n");
}

// ---------------------------------------------------------------- topics

export const TOPIC_SYSTEM = `# Finding environments for agent tasks

You help build training environments for tool-using LLM agents. Each environment is a
stateful domain (records in tables, like a small database) with tools that read and change
that state, so that an agent's work can be checked by looking at the final state.

A task needs such an environment when doing it means reading or changing records of a
domain: bookings, orders, accounts, tickets, files, inventories, schedules. It does not when
it is answered from knowledge, by writing or translating text, by a calculation on given
numbers, or by chatting.`;

export function topicClassifyPrompt(task: string): string {
  return `## Step 1 of 2: does this task need a stateful environment?

Task:
"""
${task}
"""

Answer whether an agent doing this task would read and change the records of a domain
(stateful: true) or not (stateful: false), with your reasons in one or two sentences.`;
}

export function topicDescribePrompt(task: string): string {
  return `## Step 2 of 2: describe the environment

Task:
"""
${task}
"""

Describe the environment this task would run in, generalised beyond this one task so that
many tasks could run in it:
- name: 1 to 4 lowercase words joined by hyphens (e.g. "hotel-booking");
- summary: one sentence naming the records and what agents do with them;
- introduction: a paragraph for the people who will write it: the main entities and their
  fields, the tools (queries and actions), the business rules an action must enforce;
- usefulness: 1 to 5, how many realistic agent tasks this environment supports;
- modelability: 1 to 5, how well it fits records, tools with preconditions and invariants
  (5: a clean database-backed domain; 1: needs the real world, free text or media).`;
}

// ---------------------------------------------------------------- specs

export function specSystemPrompt(examples: readonly string[]): string {
  return `# Writing an environment spec in the .env language

You write specs in the \`.env\` language of envc: a spec declares a stateful tool environment
for LLM agents (enums, records and entities, the state with its tables, queries that read,
actions that change, invariants, prose rules). Your spec is compiled; compiler diagnostics,
problems with your sample state, and bugs that fuzzing every tool finds are sent back to you
to fix.

Write a spec that:
- starts with exactly the \`env Name "Title"\` header you are given, then a \`"""\` description;
- has 3 to 6 entities, each stored in a table of the state, with \`ref\` fields between them;
- has the tools the description's operations need, queries and actions (usually 12 to 20; at
  most 20), covering every operation the description lists, each with a description string,
  and a description on parameters whose format is not obvious ("Order id, e.g. O001");
- looks records up with \`let x = table[k] else "... not found"\` (a bare \`table[k]\` on a
  missing key is an environment fault, a bug in the spec), and checks every business rule with
  \`require ... else "message"\` before changing anything;
- states what must always hold as invariants (no negative balances, references consistent);
- has no scenarios (they are written later).

Then write a sample state: one JSON object with every state field that has no default; each
table a JSON object keyed by the key field, with 2 to 6 realistic records that satisfy every
reference and invariant.

Answer with exactly two fenced blocks and nothing else: \`\`\`env with the spec, then \`\`\`json
with the sample state.

# The language reference

${languageReference().trimEnd()}

# A bundled spec to learn the style from

${exampleSection(examples)}`;
}

export function specRequestPrompt(d: { name: string; summary: string; introduction: string }, envName: string): string {
  return `## Write the spec

Header: \`env ${envName} "..."\` (keep the name ${envName}; choose the title)

Environment: ${d.name}
Summary: ${d.summary}

${d.introduction}`;
}

export function specRepairPrompt(kind: string, details: string, round: number, rounds: number, closing?: string): string {
  // the round is named so that each round is a new request (a new sample), not a cache hit
  return `## Repair: ${kind} (round ${round} of ${rounds})

${details}

${closing ?? "Answer again with the whole corrected spec and sample state, as two fenced blocks (\`\`\`env, then \`\`\`json)."}`;
}

// ---------------------------------------------------------------- rule probes

export const PROBE_SYSTEM = `# Probing an environment against its description

You review training environments for tool-using LLM agents. An environment was implemented
from a description; you see the description, the tools an agent sees (names, parameters,
descriptions) and a sample state, but not the implementation. Write probes: short sequences
of tool calls from the sample state, each with the outcome the description demands, so that
an implementation that breaks a rule of the description is caught.

- A probe is 1 to 4 calls. Every call but the last must succeed (use them to set up what the
  last call needs); the last call is what the probe is about.
- expect "refused": a rule of the description forbids the last call (the tool must answer
  with an error and change nothing). expect "ok": the rules allow it, and it must succeed.
- Write both kinds, about half each. Each probe tests one rule that the description states or
  clearly implies, named in \`rule\` in one sentence; no guesses about formats, messages or ids.
- Use ids, names and values from the sample state. arguments_json is the call's arguments as
  a JSON object in text, with the parameter names of the tool's schema. To use a value that an
  earlier call of the probe returned (the id of a record it created), write the string
  "$N.path": N numbers the calls from 1, path is a dotted path into its result ("$1.order_id").
- field and equals_json: for expect "ok", optionally a field of the last call's result (a key,
  or a dotted path such as "items.0.status") and its expected value as JSON text, when the
  description fixes that value; otherwise null for both.
- id: a short snake_case name, unique among your probes.`;

export function probeRequestPrompt(d: { name: string; summary: string; introduction: string }, toolsJson: string, stateJson: string, n: number): string {
  return `## Rule probes: write ${n}

Environment: ${d.name}
Summary: ${d.summary}

${d.introduction}

The tools, as agents see them (OpenAI function schemas):

\`\`\`json
${toolsJson}
\`\`\`

The sample state every probe starts from:

\`\`\`json
${stateJson}
\`\`\``;
}

// ---------------------------------------------------------------- scenarios

export function scenarioSystemPrompt(envName: string, specSource: string, sampleState: string | undefined): string {
  return `# Writing scenarios for the environment ${envName}

A scenario is a task for a tool-using agent in this environment: an initial state, the task
text, checks over the final state (natural-language questions, each with a boolean
expression in the .env language; \`initial.<field>\` reads the initial state), and a
reference solution (tool calls with constant arguments). Scenarios are verified: the initial
state must be valid, every check false at the start and true after the solution, and no
check may hold when a solution step is dropped. What fails is sent back to you to fix.

# The language reference (expressions and scenarios; the spec below shows the rest)

${languageReference(SCENARIO_SECTIONS).trimEnd()}

# The spec of ${envName}

\`\`\`env
${specSource.trimEnd()}
\`\`\`
${sampleState ? `\n# Its sample state\n\n\`\`\`json\n${sampleState.trimEnd()}\n\`\`\`\n` : ""}`;
}

export function scenarioStatePrompt(k: number, n: number, earlier: readonly string[]): string {
  return `## Step 1 of 3: initial state (scenario ${k} of ${n})

Think of a realistic task that takes an agent several tool calls, at least one of them an
action that changes the state${earlier.length ? `, and that differs from the tasks already written:\n${earlier.map((t) => `- ${t}`).join("\n")}` : "."}

Write the initial state the task starts from: a complete state as JSON text (state_json),
small (2 to 8 records per table), valid for the spec (schema, references, invariants), and
holding what the task needs. Also give the idea of the task in one sentence.`;
}

export function scenarioTaskPrompt(): string {
  return `## Step 2 of 3: task

Write the task the agent is given, as a user would ask it: name the records it needs (ids,
names), ask for two or more steps, at least one of which changes the state. Give a snake_case
id for the scenario, and a persona (one sentence on who asks) or null.`;
}

export function scenarioChecksPrompt(minSteps: number): string {
  return `## Step 3 of 3: checks and reference solution

Write:
- checks: 2 to 5, each a yes/no question (text) and a boolean expression over the final state
  (expr) in the .env language. Each must be false in the initial state and true once the
  task is done; compare with \`initial.<table>\` where that is clearer. Ids that new_id makes
  are deterministic, from one counter shared by every prefix: after new_id("L") gives L_1, a
  new_id("F") gives F_2 (and a number already used as a key is skipped).
- solution: the tool calls that do the task, in order, at least ${minSteps}; each with the tool
  name and its arguments as a JSON object in text (arguments_json), constants only.`;
}

export function scenarioRepairPrompt(step: string, details: string, round: number, rounds: number): string {
  return `## Repair: ${step} (round ${round} of ${rounds})

${details}

Answer again, in the same JSON shape.`;
}
