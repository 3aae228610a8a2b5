/**
 * Replay speed: how fast a backlog goes from the log to one graphql-ws client that
 * subscribes with `after` (the resume path). Prints events/s and time per backlog, beside
 * the limit: the same results sent to the same client as ready frames by a bare `ws`
 * server that does nothing else (no log, no execution, no serialization).
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeCursor } from '../../src/domain/events.ts';
import { producer } from '../support/ledger-ops.ts';
import type { RunningServer } from '../support/server.ts';

/** Where the server under test answers, and its process (for its CPU time) when it is one of its own. */
type Target = Pick<RunningServer, 'url' | 'wsUrl'> & { pid?: number };
import { token } from '../support/tokens.ts';
import { median } from './log-scaling.ts';
import { cpuMs } from './process-cpu.ts';

export interface ReplayResult {
  events: number;
  bestMs: number;
  medianMs: number;
  eventsPerSecond: number;
  /** The same results as ready frames from a bare `ws` server to the same client: events/s (median). */
  limitPerSecond: number;
  /** The server's CPU time per replayed event over the timed replays, in µs (null without its pid). */
  serverCpuUsPerEvent: number | null;
}

const REPLAY = `subscription($after: String) { walletEvents(after: $after) { eventId sequence type ... on TransactionEvent { transaction { id amount status } } ... on BalanceEvent { balance { available } } } }`;

/** Fills one owner's log with `events` events (half transactions, half balances). */
async function fill(server: Target, owner: string, events: number): Promise<void> {
  const ops = producer(server.url, await token('bench-producer', 'service'));
  const wallet = await ops.createWallet(owner);
  const posts = Math.ceil((events - 1) / 2);
  for (let done = 0; done < posts; done += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, posts - done) }, (_, i) =>
        ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: String(done + i + 1), status: 'SUCCESS', description: 'benchmark top-up' }),
      ),
    );
  }
}

/**
 * Replays the whole backlog to one client and returns the elapsed milliseconds; `keep`
 * collects the results received.
 */
async function replayOnce(wsUrl: string, owner: string, expected: number, keep?: unknown[]): Promise<number> {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await token(owner)}` } });
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let received = 0;
    const stop = client.subscribe(
      { query: REPLAY, variables: { after: encodeCursor({ ownerId: owner, sequence: 0 }) } },
      {
        next: (result) => {
          keep?.push(result);
          if (++received === expected) {
            stop();
            resolve();
          }
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  const elapsed = performance.now() - started;
  await client.dispose();
  return elapsed;
}

/**
 * A bare graphql-transport-ws server on loopback that answers any subscription with
 * `results` as ready frames, then completes: the limit replay is measured against.
 */
async function readyFrames(results: unknown[]): Promise<{ url: string; close: () => Promise<void> }> {
  const payloads = results.map((result) => JSON.stringify(result));
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'graphql-transport-ws' });
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string };
      if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      if (message.type === 'subscribe') {
        for (const payload of payloads) socket.send(`{"id":"${message.id}","type":"next","payload":${payload}}`);
        socket.send(`{"id":"${message.id}","type":"complete"}`);
      }
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}


export async function benchReplay(server: Target, events: number, runs = 5): Promise<ReplayResult> {
  const owner = `bench-${randomUUID().slice(0, 8)}`;
  await fill(server, owner, events);
  const total = 1 + Math.ceil((events - 1) / 2) * 2;
  const results: unknown[] = [];
  await replayOnce(server.wsUrl, owner, total, results); // warm-up, and the results for the limit
  const times: number[] = [];
  const cpuBefore = server.pid ? await cpuMs(server.pid) : null;
  for (let i = 0; i < runs; i++) times.push(await replayOnce(server.wsUrl, owner, total));
  const serverCpuUsPerEvent = cpuBefore === null ? null : ((await cpuMs(server.pid!)) - cpuBefore) * 1000 / (runs * total);
  const limit = await readyFrames(results);
  const limitTimes: number[] = [];
  try {
    await replayOnce(limit.url, owner, total); // warm-up
    for (let i = 0; i < runs; i++) limitTimes.push(await replayOnce(limit.url, owner, total));
  } finally {
    await limit.close();
  }
  return {
    events: total,
    bestMs: Math.min(...times),
    medianMs: median(times),
    eventsPerSecond: Math.round(total / (median(times) / 1000)),
    limitPerSecond: Math.round(total / (median(limitTimes) / 1000)),
    serverCpuUsPerEvent,
  };
}
