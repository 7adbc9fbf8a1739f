// Preloaded into a measured process (`node --import rss-probe.js ...`): when it exits, writes
// its peak resident set size (KB) and CPU time, user and system (µs), to $ENVC_BENCH_RSS_FILE.
// The process reports them of itself (getrusage); the bench has no portable way to ask it of a
// child.
import { writeFileSync } from "node:fs";

const file = process.env.ENVC_BENCH_RSS_FILE;
if (file)
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`);
  });
