/** Starts the real server (in this process or as a child process) on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { TEST_SECRET } from './tokens.ts';
import { tracked } from './processes.ts';

export interface RunningServer {
  app: App;
  port: number;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/**
 * Environment shared by every test server: a known secret and quiet logs. Suites burst
 * mutations through one producer token, so the per-token rate limit is lifted unless a
 * suite (the limits suite) sets it.
 */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    JWT_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MUTATION_RATE_LIMIT: '10000000',
    // Every test client connects from loopback: the per-address limits are lifted unless a
    // suite (the address limits suite) sets them.
    ADDRESS_CONNECTION_RATE: '0',
    ADDRESS_MAX_CONNECTIONS: '0',
    ADDRESS_AUTH_FAILURES: '0',
    ...extra,
  };
}

/** Starts an instance inside the test process. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig(baseEnv(env));
  const app = await createApp(config, createLogger(config.logLevel));
  const port = await app.listen();
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    stop: () => app.stop(1000),
  };
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  output: () => string;
  /** Sends `signal` and resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** What `npm start` runs: the compiled server (the test run builds it first, global-setup.ts). */
export const SERVER_ENTRY = 'dist/main.js';

/** Node's arguments to run `script`: compiled JavaScript as it is, TypeScript through tsx. */
export function nodeArgsFor(script: string): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx', script] : ['--enable-source-maps', script];
}

/**
 * Starts `npm start`'s entry point as a separate process, as a deployment would (or
 * another `script` that logs `"msg":"listening"` once it listens, such as the bench baseline).
 */
export async function spawnServer(env: Record<string, string>, port: number, options: { script?: string; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const child = tracked(spawn(process.execPath, [...(options.nodeArgs ?? []), ...nodeArgsFor(options.script ?? SERVER_ENTRY)], {
    env: { ...process.env, ...baseEnv({ LOG_LEVEL: 'info', ...env, PORT: String(port) }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  // Ready when it says so, or (with quieter logs) when /health answers.
  const healthy = () =>
    fetch(`http://127.0.0.1:${port}/health`).then(
      (res) => res.ok,
      () => false,
    );
  while (!output.includes('"msg":"listening"') && !(await healthy())) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** The JSON log lines a server process has printed so far. */
export function logLines(server: ServerProcess): Record<string, any>[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/** A port that is free now (for child processes, which must be told their port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
