// `npm run bench`: compiler and runtime throughput, printed as a table of medians.
// - check: lex+parse+check of the bundled specs (copies until the run is long enough)
// - compile: check + emit (ts-morph + prettier) of the bundled specs
// - tool calls: a read and a write tool on a compiled environment, with argument validation
// - fork: cost of forking an environment of 1k and of 100k records
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { checkSource } from "../compiler/pipeline.js";
import { emitEnv } from "../compiler/emit.js";
import { loadDefinition } from "../compiler/load.js";
import { Environment } from "../runtime/index.js";
import { rate, median, printTable, type Row } from "./util.js";

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...specFiles(p));
    else if (name.endsWith(".env") && name !== ".env") out.push(p);
  }
  return out;
}

const only = process.argv[2];
const rows: Row[] = [];
const root = new URL("..", import.meta.url).pathname;
const specs = specFiles(path.join(root, "specs")).map((f) => ({ file: path.relative(root, f), text: readFileSync(f, "utf8") }));
const totalLines = specs.reduce((n, s) => n + s.text.split("\n").length, 0);

if (!only || only === "compiler") {
  // check: each round checks every bundled spec 10 times
  const copies = 10;
  const checkRate = await rate(specs.length * copies, () => {
    for (let i = 0; i < copies; i++) for (const s of specs) checkSource(s.text, s.file);
  });
  rows.push({ name: `check (${specs.length} specs, ${Math.round(totalLines / specs.length)} lines avg)`, value: checkRate, unit: "specs/s", target: ">= 500", ok: checkRate >= 500 });

  const checked = specs.map((s) => checkSource(s.text, s.file).env!).filter(Boolean);
  const compileRate = await rate(checked.length, async () => {
    for (const s of specs) {
      const env = checkSource(s.text, s.file).env;
      if (env) await emitEnv(env, { runtimeImport: "../../runtime/index.js" });
    }
  }, 3);
  rows.push({ name: "full compile (check + emit + prettier)", value: compileRate, unit: "specs/s", target: ">= 20", ok: compileRate >= 20 });
}

if (!only || only === "runtime") {
  const library = /```env\n([\s\S]*?)```/.exec(readFileSync(path.join(root, "docs/language.md"), "utf8"))![1]!;
  const env = checkSource(library, "docs/library.env").env!;
  const def = loadDefinition(env);
  const stateOf = (n: number) => {
    const books: Record<string, unknown> = {};
    const members: Record<string, unknown> = {};
    const loans: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      books[`B${i}`] = { book_id: `B${i}`, title: `Book ${i}`, copies: 3 };
      members[`M${i}`] = { member_id: `M${i}`, name: `Member ${i}`, status: "active" };
      if (i % 10 === 0) loans[`L${i}`] = { loan_id: `L${i}`, book_id: `B${i}`, member_id: `M${i}`, due: "2024-02-01", returned: false };
    }
    return { books, members, loans, today: "2024-01-01" };
  };
  const small = Environment.createFrom(def, stateOf(1000));
  const N = 200_000;
  const readRate = await rate(N, () => {
    for (let i = 0; i < N; i++) small.call("open_loans", { member_id: "M10" });
  });
  rows.push({ name: "tool calls: query open_loans (1k records)", value: readRate, unit: "calls/s", target: ">= 1,000,000", ok: readRate >= 1e6 });
  // a write that succeeds and one that fails its require, alternating: both paths validated and transactional
  const writeEnv = Environment.createFrom(def, stateOf(1000));
  const writeRate = await rate(N, () => {
    for (let i = 0; i < N; i += 2) {
      writeEnv.call("return_book", { loan_id: "L10" }); // fails: already returned after the first round
      writeEnv.call("return_book", { loan_id: "L20" });
    }
  });
  rows.push({ name: "tool calls: action return_book (1k records)", value: writeRate, unit: "calls/s", target: ">= 1,000,000", ok: writeRate >= 1e6 });
  const borrowEnv = Environment.createFrom(def, stateOf(1000));
  const M = 20_000;
  const borrowRate = await rate(M, () => {
    const session = borrowEnv.fork();
    for (let i = 0; i < M; i++) session.call("borrow", { member_id: `M${i % 1000}`, book_id: `B${(i * 7) % 1000}` });
  });
  rows.push({ name: "tool calls: action borrow + invariant (1k)", value: borrowRate, unit: "calls/s" });

  for (const n of [1_000, 100_000]) {
    const base = Environment.createFrom(def, stateOf(n));
    const K = 100_000;
    const forkRate = await rate(K, () => {
      for (let i = 0; i < K; i++) base.fork();
    });
    rows.push({ name: `fork (${n.toLocaleString("en-US")} records)`, value: 1e9 / forkRate, unit: "ns/fork", target: "flat", ok: true });
    // a fork that is then written and read: the cost a session pays
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < 1000; i++) {
        const s = base.fork();
        s.call("return_book", { loan_id: "L0" });
        s.call("open_loans", { member_id: "M0" });
      }
      times.push((performance.now() - t) * 1000);
    }
    rows.push({ name: `fork + 1 write + 1 read (${n.toLocaleString("en-US")} records)`, value: median(times), unit: "ns/session" });
  }
}

printTable(rows);
