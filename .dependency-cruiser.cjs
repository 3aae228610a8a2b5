/**
 * The layers of src/ and the client package's independence, enforced (npm run check:layers, in CI). docs/ARCHITECTURE.md,
 * "Layers", explains each folder; a test keeps that table and LAYERS below equal.
 * A folder may import its own files, the folders listed for it, and packages.
 */
const LAYERS = {
  domain: [],
  logging: [],
  config: ['logging'],
  db: ['domain'],
  backbone: ['domain', 'logging'],
  notifications: ['domain', 'db'],
  ledger: ['domain', 'db', 'notifications'],
  streams: ['domain', 'db', 'backbone', 'logging'],
  firehose: ['domain', 'db', 'backbone', 'logging', 'streams'],
  auth: ['domain', 'db', 'config'],
  webhooks: ['domain', 'db', 'config', 'backbone', 'logging', 'firehose'],
  push: ['domain', 'db', 'config', 'backbone', 'logging', 'notifications', 'streams', 'webhooks'],
  maintenance: ['domain', 'db', 'config', 'logging', 'notifications', 'ledger', 'streams', 'firehose', 'auth', 'webhooks', 'push'],
  graphql: ['domain', 'config', 'logging', 'auth', 'notifications', 'ledger', 'streams', 'firehose', 'webhooks', 'push'],
  metrics: ['domain', 'streams', 'firehose', 'webhooks', 'push', 'graphql'],
  'transport/core': ['domain', 'config', 'logging', 'auth', 'backbone', 'streams', 'graphql'],
  'transport/address-guard': ['domain', 'config', 'logging', 'transport/core'],
  'transport/sse': ['domain', 'config', 'logging', 'auth', 'graphql', 'transport/core'],
  'transport/graphql-sse': ['domain', 'config', 'logging', 'auth', 'graphql', 'transport/core', 'transport/sse'],
  'transport/graphql-ws': ['domain', 'config', 'logging', 'auth', 'graphql', 'transport/core', 'transport/address-guard'],
  'transport/http': ['domain', 'config', 'logging', 'transport/core', 'transport/address-guard', 'transport/sse', 'transport/graphql-sse'],
};

const escape = (folder) => folder.replace(/[/]/g, '\\/');

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'No file imports itself through others: layers point one way.',
      severity: 'error',
      from: { path: '^(src|packages/client/src)/' },
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([folder, allowed]) => ({
      name: `layer-${folder.replace('/', '-')}`,
      comment: `src/${folder}/ may import only ${allowed.length ? allowed.map((name) => `src/${name}/`).join(', ') : 'its own files'} (docs/ARCHITECTURE.md, "Layers").`,
      severity: 'error',
      from: { path: `^src/${escape(folder)}/` },
      to: { path: '^src/', pathNot: [`^src/${escape(folder)}/`, ...allowed.map((name) => `^src/${escape(name)}/`)] },
    })),
    {
      name: 'only-app-picks-backends',
      comment: 'Only the composition root (src/app.ts) and start-up (src/main.ts) import them; nothing imports the composition root.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'client-runs-in-browsers',
      comment: 'The client package (packages/client/) runs in browsers: no Node built-in modules.',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'client-stands-alone',
      comment: 'The client package is published on its own: it imports its own files and packages, nothing of the server.',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: { path: '^(src|test|tools|examples)/' },
    },
    {
      name: 'server-without-client',
      comment: 'The server does not depend on the client package it serves.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^packages/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(src/graphql|packages/client/src)/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

// For the test that compares this table with docs/ARCHITECTURE.md (not a cruiser option).
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
