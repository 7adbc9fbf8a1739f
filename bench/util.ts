// Benchmark helpers: run a measurement several times and report the median, since these
// machines are small and noisy; print results as an aligned table.
export interface Row {
  name: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Run `fn` (which does `n` operations) `rounds` times; return the median rate per second. */
export async function rate(n: number, fn: () => unknown | Promise<unknown>, rounds = 5): Promise<number> {
  await fn(); // warm up
  const rates: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    rates.push((n / (performance.now() - t)) * 1000);
  }
  return median(rates);
}

export function printTable(rows: Row[]): void {
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3));
  const w0 = Math.max(...rows.map((r) => r.name.length), 9);
  const w1 = Math.max(...rows.map((r) => fmt(r.value).length), 6);
  const w2 = Math.max(...rows.map((r) => r.unit.length), 4);
  console.log(`${"benchmark".padEnd(w0)}  ${"median".padStart(w1)}  ${"unit".padEnd(w2)}  target`);
  console.log(`${"-".repeat(w0)}  ${"-".repeat(w1)}  ${"-".repeat(w2)}  ------`);
  for (const r of rows)
    console.log(`${r.name.padEnd(w0)}  ${fmt(r.value).padStart(w1)}  ${r.unit.padEnd(w2)}  ${r.target ? `${r.target} ${r.ok ? "ok" : "MISSED"}` : ""}`);
}
