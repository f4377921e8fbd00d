import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn the built CLI and open DuckDB files; they are I/O bound and
    // each uses its own temporary directory, so files run in parallel but not too widely
    // on the 2-core CI machine.
    maxWorkers: 2,
    // A hang guard, not a speed check (speed lives in `npm run bench`): a CLI e2e test that
    // takes ~10 s idle took over 60 s at load 15–18 on 2 cores (sixth session), and the
    // suite must pass on a busy machine.
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
