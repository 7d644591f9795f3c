import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // record and browser tests drive real perf, bpftrace and chromium: give them room, and run files
    // one at a time per worker so two perf sessions never sample each other.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
