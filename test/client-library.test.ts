/**
 * The client library:
 * after `kill -9` of the instance it is connected to, it reconnects to the other and its
 * handler sees every event exactly once, in order; with a consumer it acks in batches so
 * a new session starts after what was processed; backoff grows 1 s … 32 s with jitter.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backoffDelay, WalletEventsSubscription } from '@wallet-events/client';
import { WalletEventsClient, type ConnectionState } from '@wallet-events/client/graphql-ws';
import { BACKENDS, label } from './support/backends.ts';
import { waitUntil } from './support/clients.ts';
import { serverOn, spawnedPair } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const QUERY = 'subscription($after: String, $consumer: String) { walletEvents(after: $after, consumer: $consumer) { eventId sequence type } }';

describe('backoff', () => {
  it('doubles from 1 s to a 32 s cap, adding at most 25 % jitter', () => {
    const none = { random: () => 0 };
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, none))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000]);
    expect(backoffDelay(0, { random: () => 0.999 })).toBe(1250);
    expect(backoffDelay(9, { random: () => 0.5 })).toBe(36000);
  });
});

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`kill -9 of an instance on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = spawnedPair(postgres);

    it('reconnects to the other instance and hands every event to the app exactly once, in order', async () => {
      const [one, two] = pair.instances;
      const ops = producer(two.url, await token('producer', 'service'));
      const owner = ownerId('crash');
      const wallet = await ops.createWallet(owner);
      let killed = false;
      let tokens = 0;
      const client = new WalletEventsClient({
        url: () => (killed ? two.wsUrl : one.wsUrl),
        token: () => (tokens++, token(owner)),
        webSocketImpl: WebSocket,
        backoff: { initialMs: 50, maxMs: 400 },
      });
      const states: ConnectionState[] = [];
      client.onStateChange((state) => states.push(state));
      const handled: { eventId: string; sequence: number }[] = [];
      const start = (await ops.log(owner)).at(-1).cursor;
      client.subscribe<{ eventId: string; sequence: number }>({ query: QUERY, after: start, onEvent: (event) => void handled.push(event) });

      const burst = (async () => {
        for (let i = 0; i < 30; i++) await Promise.all(Array.from({ length: 5 }, () => ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '2', status: 'SUCCESS' })));
      })();
      await waitUntil(() => handled.length >= 40, 20_000);
      killed = true;
      expect(await one.kill('SIGKILL')).toBe(null); // killed by the signal, no exit code
      await burst;

      // A sentinel posting after everything: once its events are handled, anything extra
      // (a duplicate, an event of the replay handed on twice) would have come before them.
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '3', status: 'SUCCESS' });
      const log = await ops.log(owner);
      const sentinel = log.at(-1).eventId as string;
      await waitUntil(() => handled.some((e) => e.eventId === sentinel), 30_000, () => `${handled.length}/${log.length - 1}`);
      await client.close();
      expect(handled.map((e) => e.eventId)).toEqual(log.slice(1).map((e) => e.eventId));
      expect(states).toContain('reconnecting');
      expect(states.at(-1)).toBe('closed');
      expect(tokens).toBeGreaterThanOrEqual(2); // a token was asked for again on reconnect
    });
  });
});

describe.each(BACKENDS)('client acks on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('acks processed events in batches, so the next session starts after them', async () => {
      const owner = ownerId('lib');
      const wallet = await t.ops.createWallet(owner);
      const options = { url: t.server.wsUrl, token: () => token(owner), webSocketImpl: WebSocket, ackBatchSize: 3, ackIntervalMs: 60_000 };

      const first = new WalletEventsClient(options);
      const seen: number[] = [];
      const types: string[] = [];
      // The codegen-typed document types the handler's event (a union narrowed by __typename).
      first.subscribe({
        query: WalletEventsSubscription,
        consumer: 'tablet',
        onEvent: (e) => {
          seen.push(e.sequence);
          types.push(e.__typename === 'BalanceEvent' ? `balance ${e.balance.available}` : e.__typename);
        },
      });
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      for (let i = 0; i < 4; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      await waitUntil(() => seen.length === 8);
      // Batches of 3: sequences 4 and 7 were acked; 9 waits for the batch to fill, and close() flushes it.
      await first.close();

      const second = new WalletEventsClient(options);
      const later: number[] = [];
      second.subscribe<{ sequence: number }>({ query: QUERY, consumer: 'tablet', onEvent: (e) => void later.push(e.sequence) });
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      await t.ops.post({ walletId: wallet.id, direction: 'DEBIT', amount: '1', status: 'SUCCESS' });
      await waitUntil(() => later.length === 2);
      await second.close();
      expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      expect(types.slice(0, 4)).toEqual(['TransactionEvent', 'balance 1', 'TransactionEvent', 'balance 2']);
      expect(later).toEqual([10, 11]); // nothing processed before is redelivered
    });
  });
});
