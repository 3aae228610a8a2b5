/**
 * Graceful drain: SIGTERM to an instance in the
 * middle of a burst. It exits 0; no mutation is half-applied (a producer retrying on the
 * other instance with the same idempotency key gets each transaction exactly once); the
 * client library, moved to the other instance by the 1001 close, misses nothing.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';
import { BACKENDS, label } from './support/backends.ts';
import { gql, waitUntil } from './support/clients.ts';
import { spawnedPair } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const POST = 'mutation($input: PostTransactionInput!) { postTransaction(input: $input) { transaction { id } } }';

describe(`SIGTERM during a burst on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = spawnedPair(postgres);

    it('drains: exit 0, nothing half-applied or lost, clients resume elsewhere', async () => {
      const [one, two] = pair.instances;
      const serviceToken = await token('producer', 'service');
      const owner = ownerId('drain');
      const wallet = await producer(two.url, serviceToken).createWallet(owner);
      let oneGone = false;

      /** Posts through instance 1, and through 2 with the same key when 1 is unreachable. */
      const post = async (amount: number) => {
        const input = { walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: String(amount), status: 'SUCCESS', idempotencyKey: randomUUID() };
        if (!oneGone) {
          try {
            const res = await gql(one.url, serviceToken, POST, { input });
            if (!res.errors) return res.data.postTransaction.transaction.id as string;
          } catch {
            // connection refused or closed by the drain: retry on the other instance
          }
        }
        const res = await gql(two.url, serviceToken, POST, { input });
        if (res.errors) throw new Error(JSON.stringify(res.errors));
        return res.data.postTransaction.transaction.id as string;
      };

      const client = new WalletEventsClient({
        url: () => (oneGone ? two.wsUrl : one.wsUrl),
        token: () => token(owner),
        webSocketImpl: WebSocket,
        backoff: { initialMs: 50, maxMs: 200 },
      });
      const handled: number[] = [];
      const start = (await producer(two.url, serviceToken).log(owner)).at(-1).cursor;
      client.subscribe<{ sequence: number }>({
        query: 'subscription($after: String, $consumer: String) { walletEvents(after: $after, consumer: $consumer) { sequence } }',
        after: start,
        onEvent: (event) => void handled.push(event.sequence),
      });

      const ids: string[] = [];
      const burst = (async () => {
        for (let i = 0; i < 40; i++) ids.push(...(await Promise.all(Array.from({ length: 5 }, (_, j) => post(i * 5 + j + 1)))));
      })();
      await waitUntil(() => handled.length >= 30, 20_000);
      const exit = one.kill('SIGTERM').then((code) => {
        oneGone = true;
        return code;
      });
      await burst;
      expect(await exit).toBe(0);
      expect(one.output()).toContain('"msg":"stopping"');

      const log = await producer(two.url, serviceToken).log(owner);
      await waitUntil(() => handled.length >= log.length - 1, 30_000, () => `${handled.length}/${log.length - 1}`);
      await client.close();

      // 200 posts, each applied exactly once: 200 transaction + 200 balance events after CREATED.
      expect(new Set(ids).size).toBe(200);
      expect(log.map((e) => e.sequence)).toEqual(Array.from({ length: 401 }, (_, i) => i + 1));
      const wallets = await gql(two.url, await token(owner), 'query($w: ID!) { wallet(id: $w) { balance { ledger } } }', { w: wallet.id });
      expect(wallets.data.wallet.balance.ledger).toBe(String((200 * 201) / 2));
      expect(handled).toEqual(log.slice(1).map((e) => e.sequence));
    });
  });
});
