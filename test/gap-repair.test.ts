/**
 * Gap repair with a real fault: two instances share one database but publish on
 * different channel prefixes, so instance B never hears what A commits (as if every one
 * of A's publishes were lost). When B's own next commit arrives with a sequence beyond
 * the subscriber's position, the missing range is read from the log first: the
 * subscriber gets every event, in order, and filters never look like gaps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`gap repair on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    let env: BackendEnv;
    let a: RunningServer;
    let b: RunningServer;

    beforeAll(async () => {
      env = await prepareBackend(postgres);
      a = await startServer({ ...env.env, PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}a:` });
      b = await startServer({ ...env.env, PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}b:` });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await env?.dispose();
    });

    it('reads events whose publish never arrived from the log, in order, before the next live one', async () => {
      const owner = ownerId('gap');
      const opsA = producer(a.url, await token('producer', 'service'));
      const opsB = producer(b.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const client = wsClient(b.wsUrl, await token(owner));
      const all = subscribeWs(client, 'subscription { walletEvents { sequence type } }');
      const big = subscribeWs(client, 'subscription { transactionUpdated(minAmount: "1000") { sequence transaction { amount } } }');
      await waitUntil(() => b.app.stats().subscriptions === 2);

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
    let env: BackendEnv;
    let a: RunningServer;
    let b: RunningServer;

    beforeAll(async () => {
      env = await prepareBackend(postgres);
      a = await startServer({ ...env.env, PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}a:` });
      b = await startServer({ ...env.env, PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}b:`, HEAD_CHECK_INTERVAL: '100ms' });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await env?.dispose();
    });

    it('heals a lost publish with the periodic head check when no later event comes', async () => {
      const owner = ownerId('quiet');
      const opsA = producer(a.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const client = wsClient(b.wsUrl, await token(owner));
      const sub = subscribeWs(client, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => b.app.stats().subscriptions === 1);
      await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: '9', status: 'SUCCESS' });
      // Nothing else is committed: only the head check can reveal these two events.
      expect((await sub.waitFor(2)).map((e) => e.sequence)).toEqual([2, 3]);
      await client.dispose();
    });
  });
  });
});
