import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI has two cores; each file may start servers and child processes of its own.
    maxWorkers: 2,
    pool: 'forks',
  },
});
