/**
 * Replay speed: how fast a backlog goes from the log to one graphql-ws client that
 * subscribes with `after` (the resume path). Prints events/s and time per backlog.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { encodeCursor } from '../../src/domain/events.ts';
import { producer } from '../support/ledger-ops.ts';
import type { RunningServer } from '../support/server.ts';

/** Where the server under test answers. */
type Target = Pick<RunningServer, 'url' | 'wsUrl'>;
import { token } from '../support/tokens.ts';

export interface ReplayResult {
  events: number;
  bestMs: number;
  medianMs: number;
  eventsPerSecond: number;
}

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

/** Replays the whole backlog to one client and returns the elapsed milliseconds. */
async function replayOnce(server: Target, owner: string, expected: number): Promise<number> {
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await token(owner)}` } });
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let received = 0;
    const stop = client.subscribe(
      {
        query: `subscription($after: String) { walletEvents(after: $after) { eventId sequence type ... on TransactionEvent { transaction { id amount status } } ... on BalanceEvent { balance { available } } } }`,
        variables: { after: encodeCursor({ ownerId: owner, sequence: 0 }) },
      },
      {
        next: () => {
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

export async function benchReplay(server: Target, events: number, runs = 5): Promise<ReplayResult> {
  const owner = `bench-${randomUUID().slice(0, 8)}`;
  await fill(server, owner, events);
  const total = 1 + Math.ceil((events - 1) / 2) * 2;
  await replayOnce(server, owner, total); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await replayOnce(server, owner, total));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  return { events: total, bestMs: times[0]!, medianMs: median, eventsPerSecond: Math.round(total / (median / 1000)) };
}
