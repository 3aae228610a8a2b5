/**
 * Ring bounds: 1,000 owners with a subscriber each and a burst on every owner. The feeds'
 * rings together stay under FEED_RING_TOTAL_BYTES (the gauge says so), every subscriber
 * still gets every event, and the feeds go when their subscribers do. The total is set so
 * that each feed's share is what 10,000 feeds get of 16 MiB (the rule of one feed's ring is
 * unit-tested in test/unit/streams/owner-feed.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.ts';
import { gqlData, waitUntil, wsClient } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';

const OWNERS = 1_000;
/** 16 MiB shared by 10,000 feeds, per feed, times OWNERS. */
const TOTAL = Math.floor((16 * 1024 * 1024 * OWNERS) / 10_000);
const embedded = BACKENDS.find((b) => b.name === 'embedded')!;

describe('feed rings under many owners', () => {
  const t = serverOn(embedded, { FEED_RING_TOTAL_BYTES: String(TOTAL), MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000', MAX_CONNECTIONS_PER_OWNER: '100' });

  it('keeps all rings under FEED_RING_TOTAL_BYTES through a burst on 1,000 owners, losing nothing', async () => {
    const owners = Array.from({ length: OWNERS }, () => ownerId('ring'));
    const wallets: string[] = [];
    for (let i = 0; i < OWNERS; i += 100) {
      const created = await Promise.all(owners.slice(i, i + 100).map((owner) => t.ops.createWallet(owner)));
      wallets.push(...created.map((w) => w.id));
    }
    // One service connection per 1,000 owners, one subscription per owner.
    const clients = Array.from({ length: OWNERS / 1_000 }, () => wsClient(t.server.wsUrl, t.serviceToken));
    const received = new Map<string, number>();
    owners.forEach((owner, i) =>
      clients[Math.floor(i / 1_000)]!.subscribe<{ walletEvents: { sequence: number } }>(
        { query: 'subscription($o: ID) { walletEvents(ownerId: $o) { sequence } }', variables: { o: owner } },
        { next: () => received.set(owner, (received.get(owner) ?? 0) + 1), error: () => {}, complete: () => {} },
      ),
    );
    await waitUntil(() => t.server.app.stats().subscriptions === OWNERS, 60_000, () => JSON.stringify(t.server.app.stats()));

    // The burst: three settled credits on every owner (six events each), in batches.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < OWNERS; i += 500) {
        const inputs = wallets.slice(i, i + 500).map((walletId) => ({ walletId, direction: 'CREDIT', type: 'DEPOSIT', amount: '7', status: 'SUCCESS', idempotencyKey: `${walletId}-${round}` }));
        await gqlData(t.server.url, t.serviceToken, 'mutation($i: [PostTransactionInput!]!) { postTransactions(inputs: $i) { replayed } }', { i: inputs });
      }
    }
    await waitUntil(() => [...received.values()].reduce((a, b) => a + b, 0) === OWNERS * 6, 60_000, () => `${[...received.values()].reduce((a, b) => a + b, 0)} delivered`);
    expect(new Set(received.values())).toEqual(new Set([6]));

    const metrics = await (await fetch(t.server.url.replace(/\/graphql$/, '/metrics'))).text();
    const ringBytes = Number(/^wallet_events_feed_ring_bytes (\d+)/m.exec(metrics)?.[1]);
    expect(Number(/^wallet_events_feeds (\d+)/m.exec(metrics)?.[1])).toBe(OWNERS);
    expect(ringBytes).toBeGreaterThan(0);
    expect(ringBytes).toBeLessThanOrEqual(TOTAL);

    for (const client of clients) await client.dispose();
    await waitUntil(() => t.server.app.stats().ownersListened === 0, 30_000);
  }, 240_000);
});
