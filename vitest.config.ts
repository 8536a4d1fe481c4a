import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources; tests that spawn processes
// (CLI, crash tests, workers) use the tsc build in dist/, made by `npm test` first.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000, // a safeguard, not a speed check: heavy tests share 2 cores
    hookTimeout: 180_000,
  },
});
