/**
 * `npm run bench:footprint`: what running the server costs before it carries any load, on
 * the embedded defaults (PGlite, in-process pub/sub), for the compiled build (`dist/`, as
 * `npm start` runs it) beside the TypeScript sources run through tsx (as `npm run dev`
 * does): start-up to /ready (a first start, which creates the database, and a restart),
 * resident memory per graphql-ws connection with one subscription, and the size of a
 * production install (`npm ci --omit=dev`). Three runs of each; medians with the spread.
 * Needs no PostgreSQL or Redis; build first (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installProduction } from '../support/production-install.ts';
import { freePort, spawnServer, type ServerProcess } from '../support/server.ts';
import { stopTrackedOnSignal } from '../support/processes.ts';
import { rssOf } from './scenarios.ts';
import { subscribedSockets } from './subscribed-sockets.ts';

stopTrackedOnSignal();
const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } } });
const CONNECTIONS = Number(values.connections);
const RUNS = Number(values.runs);
const RUNTIMES = [
  { name: 'compiled (node dist/main.js)', script: 'dist/main.js' },
  { name: 'sources (node --import tsx src/main.ts)', script: 'src/main.ts' },
] as const;

if (!existsSync('dist/main.js')) {
  console.error('bench:footprint measures the compiled server: run `npm run build` first.');
  process.exit(2);
}

/** Median and spread (max − min) of `samples`. */
function summary(samples: number[], format: (value: number) => string): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${format(sorted[Math.floor(sorted.length / 2)]!)} (spread ${format(sorted.at(-1)! - sorted[0]!)})`;
}

/** Starts the server on a data directory and returns it with the milliseconds to /ready. */
async function startTimed(script: string, dataDir: string): Promise<{ server: ServerProcess; readyMs: number }> {
  const started = performance.now();
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_OWNER: '100000' }, await freePort(), { script });
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${server.port}/ready`).then((res) => res.ok, () => false);
    if (ready) return { server, readyMs: performance.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));

/** The server's V8 heap in use, from its own /metrics (Node's default process metrics). */
async function heapUsed(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return Number(/^wallet_events_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)![1]);
}

const rows: string[] = [];
for (const runtime of RUNTIMES) {
  const first: number[] = [];
  const restart: number[] = [];
  const perConnection: number[] = [];
  const heapPerConnection: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    process.stderr.write(`\r\x1b[K  ${runtime.name}: run ${run + 1}/${RUNS}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'wallet-events-footprint-'));
    try {
      const fresh = await startTimed(runtime.script, dataDir);
      first.push(fresh.readyMs);
      await fresh.server.kill();
      const again = await startTimed(runtime.script, dataDir);
      restart.push(again.readyMs);
      await settle();
      const before = (await rssOf(again.server.child.pid!)())!;
      const heapBefore = await heapUsed(again.server);
      const sockets = await subscribedSockets(again.server, CONNECTIONS);
      await settle();
      const after = (await rssOf(again.server.child.pid!)())!;
      perConnection.push((after - before) / CONNECTIONS);
      heapPerConnection.push(((await heapUsed(again.server)) - heapBefore) / CONNECTIONS);
      for (const socket of sockets) socket.terminate();
      await again.server.kill();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;
  const kb = (value: number) => `${(value / 1024).toFixed(1)} KB`;
  rows.push(`| ${runtime.name} | ${summary(first, ms)} | ${summary(restart, ms)} | ${summary(perConnection, kb)} | ${summary(heapPerConnection, kb)} |`);
}

process.stderr.write('\r\x1b[K  production install\n');
const scratch = mkdtempSync(join(tmpdir(), 'wallet-events-install-'));
let installMb = NaN;
try {
  await installProduction(scratch, { withBuild: false });
  const du = spawnSync('du', ['-sk', join(scratch, 'node_modules')], { encoding: 'utf8' });
  installMb = Number(du.stdout.split('\t')[0]) / 1024;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(`\nFootprint on the embedded defaults, ${RUNS} runs each, medians (spread = max − min); ${CONNECTIONS.toLocaleString('en')} connections for memory:\n`);
console.log('| runtime | first start to /ready | restart to /ready | RSS per graphql-ws connection with one subscription | JS heap in use per connection (garbage included) |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(`\nProduction install (npm ci --omit=dev, node_modules): ${installMb.toFixed(1)} MB`);
