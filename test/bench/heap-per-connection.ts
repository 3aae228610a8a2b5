/**
 * `npm run bench:heap`: what one graphql-ws connection with one waiting subscription holds
 * in the server's JavaScript heap, itemised. Starts the compiled server on the embedded
 * defaults, opens `--connections` subscribed connections, takes a heap snapshot
 * (`--heapsnapshot-signal`, which collects garbage first, so only what is retained counts),
 * opens as many again, takes another, and prints the difference per connection by kind of
 * object (constructor, closure, array, string...), largest first. Three runs; medians with
 * the spread; `--keep` keeps the snapshots for DevTools. Needs no PostgreSQL or Redis; build first (`npm run build`).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type WebSocket from 'ws';
import { freePort, spawnServer, type ServerProcess } from '../support/server.ts';
import { stopTrackedOnSignal } from '../support/processes.ts';
import { median } from './log-scaling.ts';
import { subscribedSockets } from './subscribed-sockets.ts';

stopTrackedOnSignal();
const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' }, top: { type: 'string', default: '20' }, keep: { type: 'string' } } });
const CONNECTIONS = Number(values.connections);
const RUNS = Number(values.runs);
const TOP = Number(values.top);

if (!existsSync('dist/main.js')) {
  console.error('bench:heap measures the compiled server: run `npm run build` first.');
  process.exit(2);
}

/** Bytes and objects of one kind in a snapshot. */
interface Item {
  bytes: number;
  count: number;
}

/**
 * Sums a V8 heap snapshot's nodes by kind: objects by constructor, closures by function
 * name, V8's internal arrays and hidden objects by their label, every string as one kind.
 */
function itemise(file: string): Map<string, Item> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const items = new Map<string, Item>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const kind = type === 'object' || type === 'native' ? name : type.includes('string') ? '(strings)' : type === 'closure' ? `closure ${name || '(anonymous)'}` : `(${type}) ${name}`;
    const item = items.get(kind) ?? { bytes: 0, count: 0 };
    item.bytes += snapshot.nodes[i + sizeAt]!;
    item.count += 1;
    items.set(kind, item);
  }
  return items;
}

/** Every byte a snapshot holds. */
function heapBytes(items: Map<string, Item>): number {
  let bytes = 0;
  for (const item of items.values()) bytes += item.bytes;
  return bytes;
}

/** Opens `count` subscribed connections from `offset`, and lets every subscription be positioned. */
async function subscribe(server: ServerProcess, count: number, offset: number): Promise<WebSocket[]> {
  const sockets = await subscribedSockets(server, count, offset);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return sockets;
}

/** Signals the server to write a heap snapshot into `dir` and waits for the file to be whole. */
async function snapshot(server: ServerProcess, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  server.child.kill('SIGUSR2');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const file = readdirSync(dir).find((name) => name.endsWith('.heapsnapshot') && !before.has(name));
    // The snapshot blocks the server's loop: once /health answers, the file is complete.
    if (file && (await fetch(`http://127.0.0.1:${server.port}/health`).then((res) => res.ok, () => false))) return join(dir, file);
  }
}

/** Median and spread (max − min) of `samples`. */
function summary(samples: number[]): { median: number; spread: number } {
  return { median: median(samples), spread: Math.max(...samples) - Math.min(...samples) };
}

const perRun: Map<string, Item>[] = [];
const totals: number[] = [];
for (let run = 0; run < RUNS; run++) {
  process.stderr.write(`\r\x1b[K  run ${run + 1}/${RUNS}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'wallet-events-heap-'));
  const snapshots = mkdtempSync(join(tmpdir(), 'wallet-events-snapshots-'));
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_OWNER: '100000', ADDRESS_CONNECTION_RATE: '0', ADDRESS_MAX_CONNECTIONS: '0' }, await freePort(), {
    nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`],
  });
  const sockets: WebSocket[] = [];
  try {
    sockets.push(...(await subscribe(server, CONNECTIONS, 0)));
    const first = itemise(await snapshot(server, snapshots));
    sockets.push(...(await subscribe(server, CONNECTIONS, CONNECTIONS)));
    const second = itemise(await snapshot(server, snapshots));
    const diff = new Map<string, Item>();
    for (const [kind, item] of second) {
      const was = first.get(kind) ?? { bytes: 0, count: 0 };
      diff.set(kind, { bytes: (item.bytes - was.bytes) / CONNECTIONS, count: (item.count - was.count) / CONNECTIONS });
    }
    perRun.push(diff);
    totals.push((heapBytes(second) - heapBytes(first)) / CONNECTIONS);
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
    if (values.keep) console.error(`\nsnapshots of run ${run + 1} kept in ${snapshots} (open them in Chrome DevTools, Memory tab)`);
    else rmSync(snapshots, { recursive: true, force: true });
  }
}
process.stderr.write('\r\x1b[K');

const kinds = new Set(perRun.flatMap((diff) => [...diff.keys()]));
const rows = [...kinds]
  .map((kind) => ({ kind, bytes: summary(perRun.map((diff) => diff.get(kind)?.bytes ?? 0)), count: summary(perRun.map((diff) => diff.get(kind)?.count ?? 0)) }))
  .sort((a, b) => b.bytes.median - a.bytes.median);
const total = summary(totals);
const b = (value: number) => value.toFixed(0);
console.log(`\nRetained JavaScript heap per graphql-ws connection with one waiting subscription, from heap snapshots at ${CONNECTIONS.toLocaleString('en')} and ${(2 * CONNECTIONS).toLocaleString('en')} connections; ${RUNS} runs, medians (spread = max − min):\n`);
// No RSS here: writing a snapshot takes memory of its own; `npm run bench` measures RSS per connection.
console.log(`In all: ${b(total.median)} bytes (spread ${b(total.spread)})\n`);
console.log('| kind | bytes per connection | objects per connection |');
console.log('|---|---|---|');
let shown = 0;
for (const row of rows.slice(0, TOP)) {
  console.log(`| ${row.kind.replaceAll('|', '\\|')} | ${b(row.bytes.median)} (spread ${b(row.bytes.spread)}) | ${row.count.median.toFixed(2)} |`);
  shown += row.bytes.median;
}
console.log(`| everything else | ${b(total.median - shown)} | |`);
