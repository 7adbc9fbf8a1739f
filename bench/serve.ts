// The `serve` section of `npm run bench`: `envc serve`'s HTTP API under load on loopback.
// The server (EnvcHttpServer over the Library spec) runs in this thread; the load generator runs
// in a worker thread (its own event loop and heap, so the other core) speaking HTTP/1.1 through
// a keep-alive http.Agent, as an RL framework's workers would:
// - steady: 1,000 sessions created first, then tool calls spread over all of them, a fixed
//   number in flight (each request goes to the next session in turn); each session plays its
//   scenario's reference solution over and over (later passes hit the failure paths: the loan is
//   already returned, and so on). Tool calls per second, and p50/p99 latency of a call from
//   request to full response.
// - episodes: 1,000 session slots each looping create → solution calls → verify → close.
// - memory per idle session: heap growth over 10,000 fresh sessions, after a full GC.
// Medians of 3 rounds. Assumes it runs from dist-bench/ (npm run bench) or through tsx.
import * as http from "node:http";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { Row } from "./util.js";

interface LoadConfig {
  kind: "envc-serve-load";
  port: number;
  mode: "steady" | "episodes";
  sessions: number;
  inFlight: number;
  durationMs: number;
  env: string;
  scenario: string;
  solution: { name: string; arguments: unknown }[];
}

interface LoadResult {
  calls: number;
  requests: number;
  episodes: number;
  seconds: number;
  p50: number;
  p99: number;
  failures: number;
}

const SESSIONS = 1000;
// requests in flight at once; ENVC_BENCH_IN_FLIGHT=1000 puts one in flight per session
const IN_FLIGHT = Number(process.env.ENVC_BENCH_IN_FLIGHT) || 32;
const ROUNDS = 3;
const DURATION_MS = 4000;

// ---------- the load generator (worker thread) ----------

async function generate(cfg: LoadConfig): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.inFlight });
  let failures = 0;
  const request = (method: string, path: string, body?: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
      const r = http.request({ host: "127.0.0.1", port: cfg.port, method, path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 400) failures++;
          resolve({ status: res.statusCode ?? 0, text });
        });
      });
      r.on("error", reject);
      r.end(body);
    });
  const create = async () => JSON.parse((await request("POST", "/sessions", JSON.stringify({ env: cfg.env, scenario: cfg.scenario }))).text).session as string;
  const callBodies = cfg.solution.map((c) => JSON.stringify(c));
  const latencies: number[] = [];
  let calls = 0;
  let requests = 0;
  let episodes = 0;

  if (cfg.mode === "steady") {
    const ids: string[] = [];
    const next = { i: 0 };
    await Promise.all(Array.from({ length: cfg.inFlight }, async () => {
      while (next.i < cfg.sessions) {
        next.i++;
        ids.push(await create());
      }
    }));
    const step = new Array<number>(ids.length).fill(0);
    let turn = 0;
    const t0 = performance.now();
    const end = t0 + cfg.durationMs;
    await Promise.all(Array.from({ length: cfg.inFlight }, async () => {
      while (performance.now() < end) {
        const s = turn++ % ids.length;
        const body = callBodies[step[s]++ % callBodies.length]!;
        const t = performance.now();
        await request("POST", `/sessions/${ids[s]}/call`, body);
        latencies.push(performance.now() - t);
        calls++;
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(ids.map((id) => request("DELETE", `/sessions/${id}`)));
    requests = calls;
    latencies.sort((a, b) => a - b);
    agent.destroy();
    return { calls, requests, episodes, seconds, p50: latencies[latencies.length >> 1]!, p99: latencies[Math.floor(latencies.length * 0.99)]!, failures };
  }

  // episodes: each slot loops reset → steps → verify → close; at most inFlight requests at once
  const t0 = performance.now();
  const end = t0 + cfg.durationMs;
  let active = 0;
  const waiting: (() => void)[] = [];
  const slot = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= cfg.inFlight) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
  await Promise.all(Array.from({ length: cfg.sessions }, async () => {
    while (performance.now() < end) {
      const id = await slot(create);
      requests++;
      for (const body of callBodies) {
        const t = performance.now();
        await slot(() => request("POST", `/sessions/${id}/call`, body));
        latencies.push(performance.now() - t);
        calls++;
        requests++;
      }
      await slot(() => request("POST", `/sessions/${id}/verify`));
      await slot(() => request("DELETE", `/sessions/${id}`));
      requests += 2;
      episodes++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  agent.destroy();
  return { calls, requests, episodes, seconds, p50: latencies[latencies.length >> 1]!, p99: latencies[Math.floor(latencies.length * 0.99)]!, failures };
}

if (!isMainThread && (workerData as LoadConfig | undefined)?.kind === "envc-serve-load") {
  generate(workerData as LoadConfig).then((r) => parentPort!.postMessage(r));
}

// ---------- the server side (this thread) ----------

function runLoad(cfg: Omit<LoadConfig, "kind">): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { kind: "envc-serve-load", ...cfg } });
    w.once("message", (r: LoadResult) => {
      void w.terminate();
      resolve(r);
    });
    w.once("error", reject);
  });
}

const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

export async function benchServe(root: string): Promise<Row[]> {
  const { loadServedEnvs, SessionManager, EnvcHttpServer } = await import("../server/index.js");
  const loaded = await loadServedEnvs([`${root}/specs/library`]);
  const env = loaded.envs[0]!;
  const scenario = env.scenarios.find((s) => s.def.id === "marcus_settles_up")!;
  const manager = new SessionManager(loaded.envs, { maxSessions: 20_000 });
  const server = new EnvcHttpServer(manager, { log: (l) => process.stderr.write(l + "\n") });
  const { port } = await server.listen(0);
  const base = { port, sessions: SESSIONS, inFlight: IN_FLIGHT, durationMs: DURATION_MS, env: env.def.name, scenario: scenario.def.id, solution: scenario.def.solution };
  const rows: Row[] = [];
  try {
    await runLoad({ ...base, mode: "steady", durationMs: 1000 }); // warm-up
    const steady: LoadResult[] = [];
    for (let r = 0; r < ROUNDS; r++) steady.push(await runLoad({ ...base, mode: "steady" }));
    const failed = steady.reduce((n, r) => n + r.failures, 0);
    if (failed) throw new Error(`serve bench: ${failed} requests failed with an HTTP error`);
    const rate = med(steady.map((r) => r.calls / r.seconds));
    const p50 = med(steady.map((r) => r.p50));
    const p99 = med(steady.map((r) => r.p99));
    rows.push({ name: `serve: tool calls over HTTP (${SESSIONS.toLocaleString("en-US")} sessions, ${IN_FLIGHT.toLocaleString("en-US")} in flight, keep-alive)`, value: rate, unit: "calls/s", target: ">= 5,000", ok: rate >= 5000 });
    rows.push({ name: "serve: tool call latency p50", value: p50, unit: "ms" });
    rows.push({ name: "serve: tool call latency p99", value: p99, unit: "ms", target: "< 50", ok: p99 < 50 });

    const eps: LoadResult[] = [];
    for (let r = 0; r < ROUNDS; r++) eps.push(await runLoad({ ...base, mode: "episodes" }));
    rows.push({ name: `serve: episodes (create, ${scenario.def.solution.length} calls, verify, close; ${SESSIONS.toLocaleString("en-US")} slots)`, value: med(eps.map((r) => r.episodes / r.seconds)), unit: "episodes/s" });
    rows.push({ name: "serve: episodes, all requests", value: med(eps.map((r) => r.requests / r.seconds)), unit: "requests/s" });

    // memory per idle session: what 10,000 fresh sessions add to the heap, after full GCs
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const N = 10_000;
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const held = [];
    for (let i = 0; i < N; i++) held.push(manager.create({ env: env.def.name, scenario: scenario.def.id }));
    gc();
    gc();
    const per = (process.memoryUsage().heapUsed - before) / N;
    rows.push({ name: `serve: memory per idle session (${N.toLocaleString("en-US")} sessions)`, value: per, unit: "bytes" });
    for (const s of held) manager.close(s.id);
  } finally {
    await server.close();
    manager.shutdown();
  }
  return rows;
}
