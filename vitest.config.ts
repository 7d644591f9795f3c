import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // record and browser tests drive real perf, bpftrace and chromium: give them room, and run files
    // one at a time per worker so two perf sessions never sample each other.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    // Three files at once on 2 cores: most of the slow files wait (on records being written, restarts, browsers),
    // and with two the suite took 641 s in a fresh-clone CI run.
    maxWorkers: 3,
  },
});
