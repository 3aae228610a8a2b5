/**
 * Gap repair with a real fault: two instances share one database but publish on
 * different channel prefixes, so instance B never hears what A commits (as if every one
 * of A's publishes were lost). When B's own next commit arrives with a sequence beyond
 * the subscriber's position, the missing range is read from the log first: the
 * subscriber gets every event, in order, and filters never look like gaps.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { instancePair } from './support/fixture.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

/** Two instances on one database whose channel prefixes differ: B never hears A's publishes. */
function separatePrefixes(extraB: Record<string, string> = {}) {
  return instancePair(
    postgres,
    (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}a:` }),
    (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}b:`, ...extraB }),
  );
}

describe(`gap repair on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = separatePrefixes();

    it('reads events whose publish never arrived from the log, in order, before the next live one', async () => {
      const owner = ownerId('gap');
      const opsA = producer(pair.a.url, await token('producer', 'service'));
      const opsB = producer(pair.b.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const client = wsClient(pair.b.wsUrl, await token(owner));
      const all = subscribeWs(client, 'subscription { walletEvents { sequence type } }');
      const big = subscribeWs(client, 'subscription { transactionUpdated(minAmount: "1000") { sequence transaction { amount } } }');
      await waitUntil(() => pair.b.app.stats().subscriptions === 2);

      for (let i = 1; i <= 5; i++) await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: String(i * 400), status: 'SUCCESS' });
      expect(all.items).toEqual([]); // B heard nothing of A's commits
      await opsB.post({ walletId: wallet.id, direction: 'CREDIT', amount: '7', status: 'SUCCESS' });

      const events = await all.waitFor(12);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
      expect(events.map((e) => e.type)).toEqual(Array.from({ length: 6 }, () => ['TRANSACTION', 'BALANCE']).flat());
      // The filtered stream got exactly the matching repaired events, nothing twice.
      // A matching sentinel after the repair proves nothing was repeated before it.
      await opsB.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5000', status: 'SUCCESS' });
      const bigOnes = await big.waitFor(4);
      expect(bigOnes.map((e) => e.transaction.amount)).toEqual(['1200', '1600', '2000', '5000']);
      await client.dispose();
    });
  describe.skipIf(!postgres.available)('postgres + redis, quiet stream', () => {
    const pair = separatePrefixes({ HEAD_CHECK_INTERVAL: '100ms' });

    it('heals a lost publish with the periodic head check when no later event comes', async () => {
      const owner = ownerId('quiet');
      const opsA = producer(pair.a.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const client = wsClient(pair.b.wsUrl, await token(owner));
      const sub = subscribeWs(client, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => pair.b.app.stats().subscriptions === 1);
      await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: '9', status: 'SUCCESS' });
      // Nothing else is committed: only the head check can reveal these two events.
      expect((await sub.waitFor(2)).map((e) => e.sequence)).toEqual([2, 3]);
      await client.dispose();
    });
  });
  });
});
