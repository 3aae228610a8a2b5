/**
 * Consumers belong to the principal that uses them: the owner's own token cannot change
 * the filter of, ack for, or read a service's consumer of the same name (nor can two
 * services touch each other's), and each principal keeps a bounded number of consumers per
 * owner (MAX_CONSUMERS_PER_OWNER), refused with LIMIT_EXCEEDED past it, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const FOLLOW = 'subscription($o: ID, $c: String) { walletEvents(ownerId: $o, consumer: $c) { eventId sequence type } }';
const SAVE = 'mutation($o: ID, $c: String!, $i: SubscriptionPreferencesInput!) { updateSubscriptionPreferences(ownerId: $o, consumer: $c, input: $i) { consumer types } }';
const READ = 'query($o: ID, $c: String!) { subscriptionPreferences(ownerId: $o, consumer: $c) { consumer types } }';
const ACK = 'mutation($e: ID!, $c: String!) { ackEvent(eventId: $e, consumer: $c) { consumer sequence } }';

describe.each(BACKENDS)('consumer ownership on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { MAX_CONSUMERS_PER_OWNER: '5' });

    it('keeps a service’s consumer out of the owner’s reach: preferences, acks and reads', async () => {
      const alice = ownerId('alice');
      const wallet = await t.ops.createWallet(alice);
      const aliceToken = await token(alice);
      const fraud = await token('fraud-scoring', 'service');
      const otherService = await token('notifications', 'service');

      // The service follows alice through its consumer "fraud".
      const client = wsClient(t.server.wsUrl, fraud);
      const stream = subscribeWs(client, FOLLOW, { o: alice, c: 'fraud' });
      await waitUntil(() => t.server.app.stats().subscriptions === 1);

      // Alice saves preferences and acks under the same name: they are her own consumer's.
      const saved = await gql(t.server.url, aliceToken, SAVE, { c: 'fraud', i: { types: ['WALLET_STATUS'] } });
      expect(saved.data.updateSubscriptionPreferences).toEqual({ consumer: 'fraud', types: ['WALLET_STATUS'] });
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '100', status: 'SUCCESS' });
      const received = await stream.waitFor(2);
      // The service's stream still gets transactions and balances: alice's filter is not its filter.
      expect(received.map((e) => e.type)).toEqual(['TRANSACTION', 'BALANCE']);
      const aliceAck = await gql(t.server.url, aliceToken, ACK, { e: received[1].eventId, c: 'fraud' });
      expect(aliceAck.data.ackEvent.sequence).toBe(received[1].sequence);

      // Nobody else reads the service's preferences; the other service sees only its own (none).
      expect((await gql(t.server.url, fraud, READ, { o: alice, c: 'fraud' })).data.subscriptionPreferences).toBeNull();
      expect((await gql(t.server.url, otherService, READ, { o: alice, c: 'fraud' })).data.subscriptionPreferences).toBeNull();
      expect((await gql(t.server.url, aliceToken, READ, { c: 'fraud' })).data.subscriptionPreferences).toEqual({ consumer: 'fraud', types: ['WALLET_STATUS'] });
      client.dispose();

      // The service's position did not move with alice's ack: resuming its consumer redelivers both events.
      const again = wsClient(t.server.wsUrl, fraud);
      const resumed = subscribeWs(again, FOLLOW, { o: alice, c: 'fraud' });
      expect((await resumed.waitFor(2)).map((e) => e.eventId)).toEqual(received.map((e) => e.eventId));
      // Another service naming "fraud" starts a consumer of its own, at the head: it gets nothing old.
      const neighbour = subscribeWs(wsClient(t.server.wsUrl, otherService), FOLLOW, { o: alice, c: 'fraud' });
      await waitUntil(() => t.server.app.stats().subscriptions === 2);
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      expect((await neighbour.waitFor(2)).map((e) => e.sequence)).toEqual([received[1].sequence + 1, received[1].sequence + 2]);
      neighbour.dispose();
      await again.dispose();
    });

    it('bounds the consumers one principal keeps per owner, and refuses the next without storing it', async () => {
      const bob = ownerId('bob');
      await t.ops.createWallet(bob);
      const log = await t.ops.log(bob);
      const bobToken = await token(bob);
      for (let i = 0; i < 5; i++) expect((await gql(t.server.url, bobToken, ACK, { e: log[0].eventId, c: `device-${i}` })).data.ackEvent.sequence).toBe(1);
      const refused = await gql(t.server.url, bobToken, ACK, { e: log[0].eventId, c: 'device-5' });
      expect(codes(refused)).toEqual(['LIMIT_EXCEEDED']);
      expect(refused.errors![0]!.message).toMatch(/at most 5 consumers/);
      // Existing consumers keep working; a subscription naming a new one is refused too.
      expect((await gql(t.server.url, bobToken, ACK, { e: log[0].eventId, c: 'device-4' })).data.ackEvent.sequence).toBe(1);
      const sub = subscribeWs(wsClient(t.server.wsUrl, bobToken), 'subscription { walletEvents(consumer: "device-6") { eventId } }');
      await sub.ended;
      expect((sub.errors[0] as any[])[0].extensions.code).toBe('LIMIT_EXCEEDED');
      // Preferences have the same bound, and a service has a quota of its own for bob.
      for (let i = 0; i < 5; i++) expect(codes(await gql(t.server.url, bobToken, SAVE, { c: `p-${i}`, i: { types: ['BALANCE'] } }))).toEqual([]);
      expect(codes(await gql(t.server.url, bobToken, SAVE, { c: 'p-5', i: { types: ['BALANCE'] } }))).toEqual(['LIMIT_EXCEEDED']);
      expect((await gql(t.server.url, bobToken, READ, { c: 'p-5' })).data.subscriptionPreferences).toBeNull();
      expect((await gql(t.server.url, t.serviceToken, ACK, { e: log[0].eventId, c: 'device-5' })).data.ackEvent.sequence).toBe(1);
    });

    it('counts exactly under a flood of concurrent new consumer names', async () => {
      const carol = ownerId('carol');
      await t.ops.createWallet(carol);
      const [created] = await t.ops.log(carol);
      const carolToken = await token(carol);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => gql(t.server.url, carolToken, ACK, { e: created.eventId, c: `flood-${i}` })));
      expect(results.filter((r) => !r.errors).length).toBe(5);
      expect(results.filter((r) => codes(r)[0] === 'LIMIT_EXCEEDED').length).toBe(35);
    });
  });
});
