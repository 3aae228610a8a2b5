/**
 * The firehose's late-commit race: 50 writers hold their commits back at random while
 * three readers page the feed and three stream it (graphql-ws and SSE). Each reader ends
 * with every event exactly once, in feed order, while a plain "greater than the last one
 * seen" cursor over the same table skips. A race run of some ten seconds, so it is in
 * `npm run test:smoke` (CI runs it); the firehose's other rules are in test/firehose.test.ts.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openPostgres, rowsOf, type Database } from '../../src/db/client.ts';
import { PubSubPublisher } from '../../src/backbone/publisher.ts';
import { RedisPubSub } from '../../src/backbone/redis-pubsub.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { BACKENDS, GROUP_COMMIT, label } from '../support/backends.ts';
import { subscribeSse, subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { tenantToken } from '../support/tokens.ts';
import { pageAll, readable, type FeedNode } from '../support/firehose-pages.ts';

/** `db` whose transactions each hold their commit back for a random 0–200 ms, with their writes done. */
function slowCommits(db: Database): Database {
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'transaction') return Reflect.get(target, property, receiver);
      return (work: (tx: unknown) => Promise<unknown>, config?: unknown) =>
        target.transaction(async (tx) => {
          const result = await work(tx);
          await tx.execute(sql`select pg_sleep(${Math.random() * 0.2})`);
          return result;
        }, config as never);
    },
  });
}

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`the late-commit race on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    // No periodic look: the streams must be carried by the commits' wakes (and the feed's
    // own retries while an older transaction holds an announced commit back).
    const t = serverOn(postgres, { HEAD_CHECK_INTERVAL: '1h' });

    it('gives each reader every event exactly once, in feed order, while a plain id cursor skips', { timeout: 120_000 }, async () => {
      const tenant = 'race';
      const bearer = await tenantToken('race-reader', tenant);
      const handle = await openPostgres(t.env.env.DATABASE_URL!, 60);
      // The writers wake the server's firehose through the backbone, as its own commits do.
      const backbone = new RedisPubSub(t.env.env.REDIS_URL!, t.env.env.PUBSUB_PREFIX!, createLogger('silent'));
      const ledger = new Ledger(slowCommits(handle.db), new PubSubPublisher(backbone, createLogger('silent')), { groupCommit: GROUP_COMMIT });
      const streams: { items: FeedNode[]; dispose(): void }[] = [];
      const client = wsClient(t.server.wsUrl, bearer);
      try {
        const owners = Array.from({ length: 20 }, () => ownerId('race'));
        const wallets: { id: string }[] = [];
        for (const owner of owners) wallets.push(await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, tenant));
        const start = (await readable(t.server.url, bearer, null, 20)).after;
        const STREAM = 'subscription($after: String) { feed(after: $after) { eventId ownerId sequence } }';
        streams.push(subscribeWs<FeedNode>(client, STREAM, { after: start }), subscribeWs<FeedNode>(client, STREAM, { after: start }), subscribeSse<FeedNode>(t.server.url, bearer, STREAM, { after: start }));

        let writing = true;
        // Three readers page the feed as fast as they can while the writers run.
        const readers = Array.from({ length: 3 }, async () => {
          const seen: FeedNode[] = [];
          let after = start;
          while (writing) {
            const page = await pageAll(t.server.url, bearer, after);
            seen.push(...page.events);
            after = page.after;
          }
          seen.push(...(await readable(t.server.url, bearer, after, 1_000 - seen.length)).events);
          return seen;
        });
        // The well-known way: remember the greatest (txId, owner, sequence) seen, read what is greater.
        const plain = (async () => {
          const seen: string[] = [];
          let last = { txId: 0, ownerId: '', sequence: 0 };
          const read = async () => {
            const rows = rowsOf<{ event_id: string; tx_id: string; owner_id: string; sequence: string }>(
              await handle.db.execute(
                sql`select event_id, tx_id, owner_id, sequence from events where tenant_id = ${tenant} and (tx_id, owner_id, sequence) > (${last.txId}, ${last.ownerId}, ${last.sequence}) order by tx_id, owner_id, sequence`,
              ),
            );
            for (const row of rows) seen.push(row.event_id);
            const tail = rows.at(-1);
            if (tail) last = { txId: Number(tail.tx_id), ownerId: tail.owner_id, sequence: Number(tail.sequence) };
          };
          while (writing) {
            await read();
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await read();
          return seen;
        })();

        // 50 writers, 10 transactions each, every commit held back 0–200 ms.
        await Promise.all(
          Array.from({ length: 50 }, async (_, w) => {
            for (let i = 0; i < 10; i++) {
              const wallet = wallets[(w + i) % wallets.length]!;
              await ledger.postTransactions([{ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 1n, status: 'SUCCESS', idempotencyKey: `w${w}-${i}` }], 'race');
            }
          }),
        );
        writing = false;
        const [results, plainSeen] = await Promise.all([Promise.all(readers), plain]);

        const all = (await readable(t.server.url, bearer, start, 1_000)).events;
        expect(all).toHaveLength(1_000); // 500 postings, each a transaction event and a balance event
        for (const seen of results) expect(seen.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
        // A sentinel posting after everything: a duplicate would reach a stream before its events.
        await ledger.postTransactions([{ walletId: wallets[0]!.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 1n, status: 'SUCCESS', idempotencyKey: 'sentinel' }], 'race');
        const withSentinel = (await readable(t.server.url, bearer, start, 1_002)).events;
        const sentinel = withSentinel.at(-1)!.eventId;
        await waitUntil(() => streams.every((stream) => stream.items.some((e) => e.eventId === sentinel)), 15_000, () => streams.map((stream) => stream.items.length).join(', '));
        for (const stream of streams) expect(stream.items.map((e) => e.eventId)).toEqual(withSentinel.map((e) => e.eventId));
        // Without the horizon, a transaction that commits after a later one is already visible is passed over for good.
        expect(plainSeen.length).toBeLessThan(all.length);
      } finally {
        for (const stream of streams) stream.dispose();
        await client.dispose();
        await backbone.close();
        await handle.close();
      }
    });
  });
});
