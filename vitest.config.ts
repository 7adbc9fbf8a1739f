// Test runner settings: tests live under tests/, run in Node, in parallel forks sized for 2 cores,
// with a cache of compiled specs of their own (tests/support/global-setup.ts).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
