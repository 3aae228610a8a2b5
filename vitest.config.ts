import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node (and so Yoga, graphql-ws, tsx in production)
    // loads its CommonJS build, while Vite would pick the ESM one via "module". Two copies
    // break `instanceof GraphQLError`; pin the one production uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/process-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI has two cores, and the suite is bound by them (a third worker was measured no faster).
    maxWorkers: 2,
    pool: 'forks',
    // Test files share a worker's module graph: loading the server's modules anew for each
    // of some seventy files cost about 40% of the suite's CPU. Files keep no state in shared
    // modules (each starts and stops its own servers); a process-wide cache (the in-memory
    // database image) is shared on purpose.
    isolate: false,
  },
});
