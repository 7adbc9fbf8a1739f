// The index of envc's verbs: for each, how the help listing shows it and where its module is.
// main.ts imports a verb's module only when that verb runs (or its help is asked for), so that
// `envc --help` and `envc --version` load none of them, nor what they import (the parser and
// checker, TypeScript and prettier, fast-check, the MCP SDK, the OpenAI client).
// The usage and description repeat what each module registers, because listing them must not
// load the modules; tests/cli/startup.test.ts checks that they match.
import type { Command } from "commander";
import type { Io } from "./io.js";

export interface Verb {
  /** what follows the name in the help listing, e.g. "[options] <inputs...>" */
  usage: string;
  description: string;
  /** the function that registers the verb, with its options and action, on the program */
  load: () => Promise<(program: Command, io: Io) => void>;
}

export const VERBS: Record<string, Verb> = {
  compile: {
    usage: "[options] <inputs...>",
    description: "check specs and emit TypeScript environments, zod schemas and tools.json into <out>/<spec>/",
    load: async () => (await import("./compile.js")).registerCompile,
  },
  check: {
    usage: "[options] <inputs...>",
    description: "check specs without emitting anything",
    load: async () => (await import("./compile.js")).registerCheck,
  },
  explain: {
    usage: "[code]",
    description: "explain a diagnostic code, with an example",
    load: async () => (await import("./explain.js")).registerExplain,
  },
  call: {
    usage: "[options] <spec> <tool> [args]",
    description: "run one tool call on a JSON state; print the result and the state diff",
    load: async () => (await import("./call.js")).registerCall,
  },
  verify: {
    usage: "[options] <inputs...>",
    description: "verify scenarios: valid initial state, checks false at the start, the solution works and makes them true, no vacuous check",
    load: async () => (await import("./verify.js")).registerVerify,
  },
  replay: {
    usage: "[options] <spec>",
    description: "replay tool calls on a spec: one episode (with --scenario, its reward) or a batch compared with expectations",
    load: async () => (await import("./replay.js")).registerReplay,
  },
  fuzz: {
    usage: "[options] <inputs...>",
    description: "fuzz every tool: no environment fault, failed calls and queries change nothing, results have their types, runs are deterministic",
    load: async () => (await import("./fuzz.js")).registerFuzz,
  },
  mutate: {
    usage: "[options] <spec>",
    description:
      "mutation testing: mutate the spec's tools; check each mutant against all the evidence (recorded examples, scenarios, scenario datasets, fuzzing); print the mutation score, what killed each mutant and the survivors",
    load: async () => (await import("./mutate.js")).registerMutate,
  },
  examples: {
    usage: "[options] <inputs...>",
    description: "record short call sequences that pin down each tool (successes, each precondition tripped, each comparison on and next to its boundary) as replayable episodes with expectations; --check replays them",
    load: async () => (await import("./examples.js")).registerExamples,
  },
  synth: {
    usage: "",
    description: "write environments with an LLM: mine topics from tasks, write and repair specs",
    load: async () => (await import("./synth.js")).registerSynth,
  },
  scen: {
    usage: "[options] <inputs...>",
    description: "write verified scenarios for specs with an LLM: initial state, task, checks and a reference solution, repaired until `envc verify` passes",
    load: async () => (await import("./scen.js")).registerScen,
  },
  serve: {
    usage: "[options] <inputs...>",
    description: "serve environments over HTTP (JSON API, MCP at /mcp) or MCP over stdio; many sessions in one process",
    load: async () => (await import("./serve.js")).registerServe,
  },
  rollout: {
    usage: "[options] <inputs...>",
    description: "run an agent model (chat completions with the compiled tools) against scenarios; write trajectories (JSONL) with rewards",
    load: async () => (await import("./rollout.js")).registerRollout,
  },
  export: {
    usage: "[options] <trajectories...>",
    description: "turn trajectories (JSONL from envc rollout) into SFT files: OpenAI chat JSONL and ShareGPT/LlamaFactory",
    load: async () => (await import("./export.js")).registerExport,
  },
};

/**
 * The verb whose module a command line needs: its first word that is not an option, or for
 * `envc help VERB` the verb after it. Undefined for `envc`, `envc --help`, `envc --version`.
 */
export function verbOf(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith("-"));
  const first = words[0];
  const known = (w: string | undefined) => (w !== undefined && Object.hasOwn(VERBS, w) ? w : undefined);
  return first === "help" ? known(words[1]) : known(first);
}
