// The session manager behind `envc serve`: many loaded environments and their sessions in one
// process. A session is a fork of a shared initial environment (O(1), records shared until
// written), with its calls' outcomes kept for the reward. Limits: a maximum number of sessions
// and idle expiry (clock and sweep timer injectable, so tests need not wait).
// Depends only on runtime/, so it can serve definitions loaded from specs or from generated/.
import { randomUUID } from "node:crypto";
import {
  Environment, StateError, renderResult, scoreEpisode, isDate, RENDERERS,
  type EnvDefinition, type ScenarioDef, type CallResult, type RendererName, type Reward, type StateProblem,
} from "../runtime/index.js";

/** An error a client caused (or a limit it hit): an HTTP status, a stable code and a message. */
export class ServeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ServeError";
  }
}

export interface ServedScenario {
  def: ScenarioDef;
  /** the scenario's initial state, validated once; sessions fork it and never write to it */
  initial: Environment;
}

export interface ServedEnv {
  def: EnvDefinition;
  scenarios: ServedScenario[];
  /** where a session starts when neither a scenario nor a state is given (state.json beside the spec) */
  defaultState?: Environment;
}

export interface SessionOptions {
  /** most sessions alive at once (default 10,000); creating one more is refused with 503 */
  maxSessions?: number;
  /** a session not used for this long is closed; 0 = never (default 10 minutes) */
  idleTimeoutMs?: number;
  /** how often expired sessions are swept (default: a quarter of the idle timeout, at most 30 s) */
  sweepIntervalMs?: number;
  /** the clock, in ms (tests inject one) */
  now?: () => number;
  /** the default renderer of observations (default json) */
  renderer?: RendererName;
  /** check ensure, invariants and references after actions (default true; sessions may turn it off) */
  checks?: boolean;
  /** the step budget of every tool call, over the specs' own (runtime/env.ts; default: each spec's) */
  maxSteps?: number;
}

export interface CreateRequest {
  env: string;
  scenario?: string;
  /** an initial state as JSON (instead of a scenario's or the default one) */
  state?: unknown;
  seed?: number;
  renderer?: RendererName;
  checks?: boolean;
}

export interface CallOutcome {
  result: CallResult;
  /** the result as the agent sees it, rendered by the session's renderer */
  observation: string;
  /** how many calls the session has made, this one included */
  step: number;
}

// successes are kept as one shared object: the reward needs only the failures' details
const OK: CallResult = Object.freeze({ ok: true, value: null }) as CallResult;

export class Session {
  lastUsed: number;
  readonly created: number;
  /** one entry per call: OK for successes, the failure itself otherwise */
  readonly results: CallResult[] = [];
  /** called when the session ends (closed, expired, server stopping); created on first use */
  private closeListeners?: (() => void)[];

  constructor(
    readonly id: string,
    readonly served: ServedEnv,
    readonly scenario: ServedScenario | undefined,
    /** the state at the start, which checks read as `initial` */
    readonly initial: Environment,
    /** the live state */
    readonly env: Environment,
    readonly renderer: RendererName,
    now: number,
  ) {
    this.lastUsed = now;
    this.created = now;
  }

  /** Call fn when the session ends; returns a function that removes it again. */
  onClose(fn: () => void): () => void {
    (this.closeListeners ??= []).push(fn);
    return () => {
      const i = this.closeListeners?.indexOf(fn) ?? -1;
      if (i >= 0) this.closeListeners!.splice(i, 1);
    };
  }

  /** Run the close listeners once (the manager calls it). */
  ended(): void {
    const fns = this.closeListeners;
    this.closeListeners = undefined;
    if (fns) for (const fn of fns) fn();
  }

  get envName(): string {
    return this.served.def.name;
  }

  /** Run one tool call through Environment.call (a transaction; never throws). */
  call(name: string, args: unknown): CallOutcome {
    let result: CallResult;
    if (typeof args === "string" && this.env.def.tools.some((t) => t.name === name)) {
      // OpenAI tool calls carry arguments as JSON text; text that does not parse is the
      // agent's mistake, so it is an observation like any invalid argument, not an HTTP error
      let parsed: unknown;
      try {
        parsed = args.trim() === "" ? {} : JSON.parse(args);
      } catch (err) {
        result = { ok: false, kind: "invalid_args", error: `Invalid arguments for ${name}: not valid JSON (${(err as Error).message})` };
        this.results.push(result);
        return { result, observation: renderResult(result, this.renderer), step: this.results.length };
      }
      args = parsed;
    } else if (typeof args === "string") args = {}; // an unknown tool: that is the error to report
    result = this.env.call(name, args);
    this.results.push(result.ok ? OK : result);
    return { result, observation: renderResult(result, this.renderer), step: this.results.length };
  }

  /**
   * The reward now: the scenario's checks and outcomes on the live state, faults counted apart.
   * `reply`: what the agent said to the user, for answer checks (the server does not see it).
   */
  verify(reply = ""): Reward & { scenario: string } {
    if (!this.scenario)
      throw new ServeError(409, "no_scenario", `Session ${this.id} was created from a state, not a scenario, so it has no checks to verify`);
    return { scenario: this.scenario.def.id, ...scoreEpisode(this.scenario.def, this.env, this.initial, this.results, reply) };
  }

  get task(): string | undefined {
    return this.scenario?.def.task;
  }
}

/** A system prompt for an agent in this environment: its title, description and rules. */
/**
 * The agent's system prompt: the environment's title, description and rules; with `today` (a
 * session's `today` state field, see todayOf) the date, which tasks and rules count from; in
 * task mode, that the user's message is the request and its confirmation (there is no user to
 * say yes later).
 */
export function systemPrompt(def: EnvDefinition, options: { today?: string; mode?: "task" | "conversation" } = {}): string {
  const parts = [def.title ? `${def.title}.` : def.name];
  if (def.description) parts.push(def.description.trim());
  if (def.rules.length) parts.push(`Rules:\n${def.rules.map((r) => `- ${r}`).join("\n")}`);
  if (options.today) parts.push(`Today's date is ${options.today}.`);
  if (options.mode === "task")
    parts.push(
      "The user's message is their whole request and their confirmation of it: there is no one to answer questions, so carry it out without waiting for a further yes. If the rules forbid it or it cannot be done, do not do it and say why.",
    );
  return parts.join("\n\n");
}

/** The date in an environment's `today` state field, when it has one holding a date. */
export function todayOf(env: Environment): string | undefined {
  const today = env.globals.today;
  return typeof today === "string" && isDate(today) ? today : undefined;
}

export class SessionManager {
  readonly envs = new Map<string, ServedEnv>();
  private byLowerName = new Map<string, ServedEnv>();
  private scenarioIndex = new Map<ServedEnv, Map<string, ServedScenario>>();
  private sessions = new Map<string, Session>();
  /** ids of sessions that expired lately, to say "expired" rather than "unknown" (bounded) */
  private expired = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  readonly maxSessions: number;
  readonly idleTimeoutMs: number;
  readonly renderer: RendererName;
  readonly checks: boolean;
  readonly maxSteps: number | undefined;
  private now: () => number;

  constructor(envs: readonly ServedEnv[], options: SessionOptions = {}) {
    for (const e of envs) {
      if (this.envs.has(e.def.name)) throw new Error(`two environments are named ${e.def.name}`);
      this.envs.set(e.def.name, e);
      this.byLowerName.set(e.def.name.toLowerCase(), e);
      this.scenarioIndex.set(e, new Map(e.scenarios.map((s) => [s.def.id, s])));
    }
    this.maxSessions = options.maxSessions ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
    this.renderer = options.renderer ?? "json";
    this.checks = options.checks ?? true;
    this.maxSteps = options.maxSteps;
    this.now = options.now ?? Date.now;
    if (this.idleTimeoutMs > 0) {
      const every = options.sweepIntervalMs ?? Math.max(10, Math.min(30_000, Math.floor(this.idleTimeoutMs / 4)));
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref(); // an idle sweep must not keep the process alive
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  /** An environment by name (exact, else case-insensitive), or 404 naming the ones there are. */
  env(name: unknown): ServedEnv {
    if (typeof name !== "string" || name === "") throw new ServeError(400, "bad_request", `"env" must be the name of an environment (one of ${[...this.envs.keys()].join(", ")})`);
    const e = this.envs.get(name) ?? this.byLowerName.get(name.toLowerCase());
    if (!e) throw new ServeError(404, "unknown_env", `No environment named '${name}' (there are: ${[...this.envs.keys()].join(", ")})`);
    return e;
  }

  scenario(env: ServedEnv, id: unknown): ServedScenario {
    if (typeof id !== "string" || id === "") throw new ServeError(400, "bad_request", `"scenario" must be a scenario id of ${env.def.name}`);
    const s = this.scenarioIndex.get(env)!.get(id);
    if (!s) {
      const ids = env.scenarios.map((x) => x.def.id);
      throw new ServeError(404, "unknown_scenario", `No scenario '${id}' in ${env.def.name}${ids.length ? ` (there are: ${ids.join(", ")})` : " (it has none)"}`);
    }
    return s;
  }

  /** Create a session from an env and a scenario, a state, or the env's default state. */
  create(req: CreateRequest): Session {
    if (req === null || typeof req !== "object" || Array.isArray(req)) throw new ServeError(400, "bad_request", 'the body must be a JSON object like {"env": "Library", "scenario": "..."}');
    const served = this.env(req.env);
    if (req.seed !== undefined && (typeof req.seed !== "number" || !Number.isSafeInteger(req.seed) || req.seed < 0))
      throw new ServeError(400, "bad_request", `"seed" must be an integer >= 0, got ${JSON.stringify(req.seed)}`);
    if (req.renderer !== undefined && !RENDERERS.includes(req.renderer))
      throw new ServeError(400, "bad_request", `"renderer" must be one of ${RENDERERS.join(", ")}, got ${JSON.stringify(req.renderer)}`);
    if (req.checks !== undefined && typeof req.checks !== "boolean") throw new ServeError(400, "bad_request", `"checks" must be true or false`);
    if (req.scenario !== undefined && req.state !== undefined)
      throw new ServeError(400, "bad_request", 'give "scenario" or "state", not both (a scenario brings its own initial state)');
    // checked before any work: a full server must stay cheap to refuse
    if (this.sessions.size >= this.maxSessions) {
      this.sweep();
      if (this.sessions.size >= this.maxSessions)
        throw new ServeError(503, "too_many_sessions", `The server holds its limit of ${this.maxSessions} sessions; close some (DELETE /sessions/ID) or retry later`);
    }
    const checks = req.checks ?? this.checks;
    const seed = req.seed;
    const budget = this.maxSteps !== undefined ? { maxSteps: this.maxSteps } : {};
    let scenario: ServedScenario | undefined;
    let initial: Environment;
    if (req.scenario !== undefined) {
      scenario = this.scenario(served, req.scenario);
      initial = scenario.initial;
    } else if (req.state !== undefined) {
      try {
        initial = Environment.createFrom(served.def, req.state, { checks, ...budget, ...(seed ? { seed } : {}) });
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        throw new ServeError(400, "invalid_state", `The state does not fit ${served.def.name}: ${err.problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join("; ")}${err.problems.length > 3 ? ` (and ${err.problems.length - 3} more)` : ""}`, {
          problems: err.problems.slice(0, 100) satisfies StateProblem[],
        });
      }
    } else if (served.defaultState) {
      initial = served.defaultState;
    } else {
      throw new ServeError(400, "bad_request", `${served.def.name} has no default state: give "scenario" (one of ${served.scenarios.map((s) => s.def.id).join(", ") || "none"}) or "state"`);
    }
    const env = initial.fork({ checks, ...budget, ...(seed ? { seed } : {}) });
    const now = this.now();
    const session = new Session(randomUUID(), served, scenario, initial, env, req.renderer ?? this.renderer, now);
    this.sessions.set(session.id, session);
    return session;
  }

  /** A live session (and mark it used), or 404 saying whether it never existed or expired. */
  get(id: string): Session {
    const s = this.sessions.get(id);
    const now = this.now();
    if (s && (this.idleTimeoutMs <= 0 || now - s.lastUsed < this.idleTimeoutMs)) {
      s.lastUsed = now;
      return s;
    }
    if (s) this.expire(s);
    if (this.expired.has(id))
      throw new ServeError(404, "session_expired", `Session ${id} expired after ${Math.round(this.idleTimeoutMs / 1000)} s without a request; create a new one`);
    throw new ServeError(404, "unknown_session", `No session ${id}; create one with POST /sessions`);
  }

  /** Close a session; false when there was none. */
  close(id: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    s.ended();
    return true;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /** Close every session idle for longer than the timeout; returns how many. */
  sweep(): number {
    if (this.idleTimeoutMs <= 0) return 0;
    const now = this.now();
    let n = 0;
    for (const s of this.sessions.values()) {
      if (now - s.lastUsed >= this.idleTimeoutMs) {
        this.expire(s);
        n++;
      }
    }
    return n;
  }

  private expire(s: Session) {
    this.sessions.delete(s.id);
    this.expired.add(s.id);
    if (this.expired.size > 10_000) this.expired.delete(this.expired.values().next().value!);
    s.ended();
  }

  /** Stop the sweep timer and close every session. */
  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of [...this.sessions.values()]) this.close(s.id);
  }
}
