// `envc serve`: compile specs in memory and serve their environments, many sessions in one
// process: the HTTP JSON API with MCP (streamable HTTP) at /mcp, or MCP over stdio for one
// session. Only options and printing here; the work is in server/.
import { Option, type Command } from "commander";
import { RENDERERS, type RendererName } from "../runtime/index.js";
import { SessionManager, EnvcHttpServer, serveStdio, ServeError, type ServedEnv } from "../server/index.js";
import { type Io, int, loadOrExit, maxStepsOption, usage, noCacheOption } from "./common.js";

interface ServeOptions {
  port: number;
  host: string;
  stdio?: boolean;
  env?: string;
  scenario?: string;
  seed?: number;
  maxSessions: number;
  maxBody: number;
  idleTimeout: number;
  renderer: RendererName;
  checks: boolean;
  mcp: boolean;
  maxSteps?: number;
  cache: boolean;
}

export function registerServe(program: Command, io: Io) {
  program
    .command("serve")
    .description("serve environments over HTTP (JSON API, MCP at /mcp) or MCP over stdio; many sessions in one process")
    .argument("<inputs...>", "spec files or folders (with their scenarios), and JSONL scenario datasets (*.jsonl)")
    .option("--port <n>", "HTTP port (0: any free port)", int(0), 8080)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--stdio", "serve one session over MCP on stdin/stdout instead of HTTP")
    .option("--env <name>", "--stdio: the environment (default: the only one, or the one holding --scenario)")
    .option("--scenario <id>", "--stdio: the scenario whose initial state, task and checks the session has")
    .option("--seed <n>", "--stdio: seed for new_id counters", int(0))
    .option("--max-sessions <n>", "most sessions alive at once; more are refused with 503", int(1), 10_000)
    .option("--max-body <bytes>", "largest request body; larger ones get 413", int(1), 8 * 1024 * 1024)
    .option("--idle-timeout <seconds>", "close sessions idle this long (0: never)", int(0), 600)
    .addOption(new Option("--renderer <name>", "default rendering of tool results (sessions may choose)").choices([...RENDERERS]).default("json"))
    .option("--no-checks", "do not check ensure, invariants and references after actions (faster; sessions may turn them back on)")
    .option("--no-mcp", "HTTP only: do not serve MCP at /mcp")
    .addOption(maxStepsOption("each tool call"))
    .addOption(noCacheOption())
    .addHelpText("after", `
Examples:
  envc serve specs/ --port 8080            # HTTP API; MCP at http://127.0.0.1:8080/mcp?env=Library&scenario=ID
  envc serve specs/library --stdio --scenario marcus_settles_up   # for an MCP client's config
API and examples: docs/serving.md`)
    .action(async (inputs: string[], opts: ServeOptions) => {
      if (!opts.stdio && (opts.env || opts.scenario || opts.seed !== undefined))
        usage(io, "--env, --scenario and --seed choose the --stdio session; over HTTP a client names them when it creates a session");
      const { envs, skipped, badDefaults } = await loadOrExit(io, inputs, "serve", `envc check ${inputs.join(" ")}`, opts.cache);
      for (const s of skipped) io.err(`warning: scenario ${s.env}/${s.scenario} is not served: ${s.diagnostic.message.split("\n")[0]}`);
      for (const b of badDefaults) io.err(`warning: ${b.file} does not fit ${b.env}, so ${b.env} has no default state: ${b.message}`);
      const scenarios = envs.reduce((n, e) => n + e.scenarios.length, 0);
      io.err(`envc serve: ${envs.length} environment${envs.length === 1 ? "" : "s"} (${envs.map((e) => e.def.name).join(", ")}), ${scenarios} scenario${scenarios === 1 ? "" : "s"}`);

      if (opts.stdio) return runStdio(io, envs, opts);

      const manager = new SessionManager(envs, {
        maxSessions: opts.maxSessions, idleTimeoutMs: opts.idleTimeout * 1000, renderer: opts.renderer, checks: opts.checks,
        ...(opts.maxSteps ? { maxSteps: opts.maxSteps } : {}),
      });
      const server = new EnvcHttpServer(manager, { maxBodyBytes: opts.maxBody, mcp: opts.mcp, log: io.err });
      let address;
      try {
        address = await server.listen(opts.port, opts.host);
      } catch (err) {
        manager.shutdown();
        usage(io, `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      }
      io.out(`envc serve: listening on ${address.url}${opts.mcp ? ` (MCP: ${address.url}/mcp?env=NAME&scenario=ID)` : ""}`);
      await untilSignal();
      io.err("envc serve: stopping");
      await server.close();
      manager.shutdown();
    });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function runStdio(io: Io, envs: ServedEnv[], opts: ServeOptions) {
  let env = opts.env;
  if (env === undefined) {
    const holders = opts.scenario ? envs.filter((e) => e.scenarios.some((s) => s.def.id === opts.scenario)) : envs;
    if (holders.length !== 1) {
      const names = holders.map((e) => e.def.name).join(", ");
      usage(io, opts.scenario && holders.length === 0
        ? `no environment has a scenario '${opts.scenario}'`
        : `--stdio serves one session: name its environment with --env (one of ${names})`);
    }
    env = holders[0]!.def.name;
  }
  // the one session lives as long as the client: no idle expiry
  const manager = new SessionManager(envs, { idleTimeoutMs: 0, renderer: opts.renderer, checks: opts.checks, ...(opts.maxSteps ? { maxSteps: opts.maxSteps } : {}) });
  let session;
  try {
    session = manager.create({ env, ...(opts.scenario ? { scenario: opts.scenario } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  } catch (err) {
    if (err instanceof ServeError) usage(io, err.message);
    throw err;
  }
  io.err(`envc serve: MCP on stdio, session ${session.id} (${session.envName}${session.scenario ? `, scenario ${session.scenario.def.id}` : ""})`);
  await serveStdio(manager, session);
  manager.shutdown();
}
