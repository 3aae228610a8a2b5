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
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI has two cores; each file may start servers and child processes of its own.
    maxWorkers: 2,
    pool: 'forks',
  },
});
