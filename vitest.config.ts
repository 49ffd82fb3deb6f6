import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // PGlite and the sandboxes are heavy; two workers match the 2-core machine.
    pool: "forks",
    maxWorkers: 2,
  },
})
