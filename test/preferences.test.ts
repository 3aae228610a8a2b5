/**
 * Subscription preferences: saved per owner and
 * consumer, kept across a restart, used by that consumer's subscriptions that give no
 * filter, and an update reaches its live subscriptions without a reconnect.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';

const SAVE = `mutation($c: String!, $i: SubscriptionPreferencesInput!) {
  updateSubscriptionPreferences(consumer: $c, input: $i) { consumer types walletId currency status direction minAmount maxAmount }
}`;
const READ = 'query($c: String!) { subscriptionPreferences(consumer: $c) { consumer types status minAmount maxAmount } }';

describe.each(BACKENDS)('preferences on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    let env: BackendEnv;
    let dataDir: string | null = null;
    let server: RunningServer;

    beforeAll(async () => {
      env = await prepareBackend(backend);
      if (backend.name === 'embedded') {
        // Persisted PGlite, so that a restart keeps what was saved.
        dataDir = await mkdtemp(join(tmpdir(), 'we-prefs-'));
        env.env.DATA_DIR = dataDir;
      }
      server = await startServer(env.env);
    });
    afterAll(async () => {
      await server?.stop();
      await env?.dispose();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('saves preferences per consumer, keeps them across a restart, and validates them', async () => {
      const owner = ownerId('prefs');
      const userToken = await token(owner);
      const saved = await gql(server.url, userToken, SAVE, { c: 'watch', i: { types: ['TRANSACTION'], status: ['SUCCESS'], minAmount: '100' } });
      expect(saved.data.updateSubscriptionPreferences).toEqual({
        consumer: 'watch',
        types: ['TRANSACTION'],
        walletId: null,
        currency: null,
        status: ['SUCCESS'],
        direction: null,
        minAmount: '100',
        maxAmount: null,
      });
      expect((await gql(server.url, userToken, READ, { c: 'tv' })).data.subscriptionPreferences).toBeNull();

      await server.stop();
      server = await startServer(env.env);
      const read = await gql(server.url, userToken, READ, { c: 'watch' });
      expect(read.data.subscriptionPreferences).toEqual({ consumer: 'watch', types: ['TRANSACTION'], status: ['SUCCESS'], minAmount: '100', maxAmount: null });

      expect(codes(await gql(server.url, userToken, SAVE, { c: 'watch', i: { minAmount: '10', maxAmount: '5' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(server.url, userToken, SAVE, { c: 'watch', i: { currency: 'euros' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(server.url, userToken, SAVE, { c: '', i: {} }))).toEqual(['BAD_USER_INPUT']);
      const someoneElse = await gql(server.url, userToken, 'mutation { updateSubscriptionPreferences(consumer: "x", input: {}, ownerId: "not-me") { consumer } }');
      expect(codes(someoneElse)).toEqual(['FORBIDDEN']);
      // Unchanged by the refusals.
      expect((await gql(server.url, userToken, READ, { c: 'watch' })).data).toEqual(read.data);
    });

    it('applies saved preferences to filterless subscriptions of that consumer and switches them live', async () => {
      const owner = ownerId('live');
      const ops = producer(server.url, await token('producer', 'service'));
      const wallet = await ops.createWallet(owner);
      const userToken = await token(owner);
      await gql(server.url, userToken, SAVE, { c: 'watch', i: { types: ['TRANSACTION'], minAmount: '1000' } });

      const client = wsClient(server.wsUrl, userToken);
      const followed = subscribeWs(client, 'subscription { walletEvents(consumer: "watch") { __typename sequence ... on TransactionEvent { transaction { amount } } } }');
      // An explicit filter wins over the saved one, and another consumer is unaffected.
      const explicit = subscribeWs(client, 'subscription { walletEvents(consumer: "watch", types: [BALANCE]) { __typename } }');
      const other = subscribeWs(client, 'subscription { walletEvents(consumer: "tv") { __typename } }');
      await waitUntil(() => server.app.stats().subscriptions === 3);

      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '50', status: 'SUCCESS' });
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5000', status: 'SUCCESS' });
      expect((await followed.waitFor(1)).map((e) => e.transaction.amount)).toEqual(['5000']);

      // Change the preferences: balances only. No reconnect.
      await gql(server.url, userToken, SAVE, { c: 'watch', i: { types: ['BALANCE'] } });
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '7000', status: 'SUCCESS' });
      const items = await followed.waitFor(2);
      expect(items.map((e) => e.__typename)).toEqual(['TransactionEvent', 'BalanceEvent']);
      // 5000's balance (5) was filtered under the old preferences, 7000's transaction (6) under the new.
      expect(items[1].sequence).toBe(items[0].sequence + 3);

      expect((await explicit.waitFor(3)).map((e) => e.__typename)).toEqual(['BalanceEvent', 'BalanceEvent', 'BalanceEvent']);
      expect(await other.waitFor(6)).toHaveLength(6);
      await client.dispose();
    });
  });
});
