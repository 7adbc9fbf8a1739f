// Start-up and end-to-end figures: whole `envc` processes (Node's own start-up included), each
// command run once to warm the disk and the cache of compiled specs, then 5 times; the median
// wall time, and the CPU time and peak RSS of one more run (bench/rss-probe.ts preloaded).
// The CLI is the one `npm run bench` compiled (dist-bench/cli), with a fresh cache folder of
// its own. CPU time is less disturbed by other work on a shared machine than wall time. Rows:
// - `node -e 0`: Node's own start-up, for scale
// - `envc --version`, `envc --help`
// - `envc call` on a bundled spec (library), from the cache and with --no-cache
// - `envc replay` of tau-bench retail's 635 reference tasks against their expectations, from
//   the cache and with --no-cache; beside it, when python3 and the reference (../shared/taubench/
//   python, or $ENVC_TAUBENCH_REFERENCE) are there, the same replay by tau-bench's own Python
//   tools (bench/taubench-reference.py; $ENVC_BENCH_REFERENCE_RUNS runs, 3 by default: each
//   takes half a minute) and the ratio of the two medians
// - `envc call` on a generated 5 MB spec (bench/big-spec.ts), from the cache and with --no-cache
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bigSpec } from "./big-spec.js";
import { median, type Row } from "./util.js";

const RUNS = 5;

/** Run a command `runs` times (after one warm-up), checking each run's exit and output; the median wall time in ms. */
function measure(label: string, command: string, args: string[], env: NodeJS.ProcessEnv, expect: (out: string) => boolean, runs = RUNS, warmUp = true): number {
  const once = () => {
    const t = performance.now();
    const r = spawnSync(command, args, { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t;
    if (r.status !== 0 || !expect(r.stdout)) throw new Error(`${label}: exit ${r.status}\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
    return ms;
  };
  if (warmUp) once(); // the disk, and the cache of compiled specs where one is used
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(once());
  return median(times);
}

/** The CPU time (ms) and peak RSS (MB) of one run, read from the process itself (bench/rss-probe.ts preloaded). */
function probe(command: string, args: string[], env: NodeJS.ProcessEnv, dir: string): { cpu: number; rss: number } {
  const file = path.join(dir, `probe-${Math.random().toString(36).slice(2)}`);
  const module = new URL("./rss-probe.js", import.meta.url).pathname;
  spawnSync(command, ["--import", module, ...args], { env: { ...env, ENVC_BENCH_RSS_FILE: file }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (!existsSync(file)) return { cpu: NaN, rss: NaN };
  const [rssKb, cpuUs] = readFileSync(file, "utf8").split(" ").map(Number);
  return { cpu: cpuUs! / 1000, rss: rssKb! / 1024 };
}

function python(): string | undefined {
  const r = spawnSync("python3", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "python3" : undefined;
}

export async function benchStartup(root: string): Promise<Row[]> {
  const cli = path.join(root, "dist-bench/cli/index.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run bench\`, which compiles it`);
  const dir = mkdtempSync(path.join(tmpdir(), "envc-bench-startup-"));
  const env: NodeJS.ProcessEnv = { ...process.env, ENVC_CACHE_DIR: path.join(dir, "cache"), ENVC_DEBUG: "" };
  delete env.ENVC_CACHE;
  const node = process.execPath;
  const rows: Row[] = [];
  const ms = (v: number) => ({ value: v, unit: "ms, whole process, median of 5" });
  try {
    const run = (label: string, args: string[], expect: (out: string) => boolean, target?: number) => {
      const t = measure(label, node, args, env, expect);
      const { cpu, rss } = probe(node, args, env, dir);
      rows.push({
        name: `${label} (cpu ${Math.round(cpu)} ms, peak ${Math.round(rss)} MB)`,
        ...ms(t),
        ...(target !== undefined ? { target: `<= ${target} ms`, ok: t <= target } : {}),
      });
      return { ms: t, rss };
    };
    const envc = (label: string, args: string[], expect: (out: string) => boolean, target?: number) => run(label, [cli, ...args], expect, target);

    run("node -e 0 (Node's own start-up, for scale)", ["-e", "0"], () => true);

    const version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version as string;
    envc("envc --version", ["--version"], (out) => out.trim() === version, 100);
    envc("envc --help", ["--help"], (out) => out.includes("Usage: envc"));

    const call = ["call", path.join(root, "specs/library"), "get_member", '{"member_id": "M001"}'];
    envc("envc call, bundled spec (library), from the cache", call, (out) => out.includes('"ok":true'), 300);
    envc("envc call, bundled spec (library), --no-cache", [...call, "--no-cache"], (out) => out.includes('"ok":true'));

    const data = path.join(root, "tests/data/taubench-retail");
    const db = path.join(root, "specs/taubench-retail/db.json");
    const replay = ["replay", path.join(root, "specs/taubench-retail/retail.env"), "--init", db, "--episodes", path.join(data, "episodes.jsonl"),
      "--expect", path.join(data, "expect.jsonl"), "--renderer", "taubench"];
    const identical = (out: string) => out.trim().endsWith("replay: 635/635 identical");
    const ours = envc("tau-bench retail replay, 635 tasks, from the cache", replay, identical, 400);
    envc("tau-bench retail replay, 635 tasks, --no-cache", [...replay, "--no-cache"], identical);
    const reference = process.env.ENVC_TAUBENCH_REFERENCE ?? path.join(root, "../shared/taubench/python");
    const py = python();
    if (py && existsSync(reference)) {
      const runs = Number(process.env.ENVC_BENCH_REFERENCE_RUNS ?? 3);
      const script = path.join(root, "bench/taubench-reference.py");
      const t = measure("python reference", py, [script, reference, db, path.join(data, "episodes.jsonl"), path.join(data, "expect.jsonl")], env,
        (out) => out.trim() === "reference: 635/635 identical", runs, false); // half a minute a run: no warm-up
      rows.push({ name: `tau-bench retail replay, 635 tasks, Python reference (tau-bench's tools, deep copy per task)`, value: t, unit: `ms, whole process, median of ${runs}` });
      const ratio = t / ours.ms;
      rows.push({ name: "  envc replay (from the cache) against the Python reference", value: ratio, unit: "x faster", target: ">= 80x", ok: ratio >= 80 });
    } else rows.push({ name: `tau-bench Python reference: not run (${py ? `no ${reference}` : "no python3"})`, value: NaN, unit: "" });

    const big = path.join(dir, "big");
    mkdirSync(big);
    const spec = bigSpec(2760); // about 5.0 MB
    writeFileSync(path.join(big, "big.env"), spec.text);
    writeFileSync(path.join(big, "state.json"), JSON.stringify(spec.state));
    const mb = (statSync(path.join(big, "big.env")).size / 1e6).toFixed(1);
    const bigCall = ["call", big, spec.call.tool, JSON.stringify(spec.call.args)];
    const ok = (out: string) => out.includes('"ok":true');
    for (const [label, args] of [["from the cache", bigCall], ["--no-cache", [...bigCall, "--no-cache"]]] as const) {
      const t = envc(`envc call, generated ${mb} MB spec, ${label}`, [...args], ok, 2000);
      rows.push({ name: `  its peak RSS`, value: t.rss, unit: "MB", target: "<= 500 MB", ok: t.rss <= 500 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
