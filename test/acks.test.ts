/**
 * Durable consumers and acks: unacked events are
 * redelivered after a reconnect and acked ones are not; acks are cumulative, idempotent
 * and never go backwards; acking another owner's event is FORBIDDEN; with ACK_TIMEOUT
 * the subscription of a consumer that does not ack ends with ACK_TIMEOUT.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const SUB = 'subscription($c: String) { walletEvents(consumer: $c) { eventId sequence } }';
const ACK = 'mutation($e: ID!, $c: String!) { ackEvent(eventId: $e, consumer: $c) { consumer sequence cursor } }';

describe.each(BACKENDS)('acks on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { ACK_TIMEOUT: '400ms', HEAD_CHECK_INTERVAL: '100ms' });

    it('redelivers unacked events after a reconnect, and not acked ones', async () => {
      const owner = ownerId('ack');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const phone = { c: 'phone-1' };

      // First connection: a new consumer starts now; it receives 6 events and acks the 4th.
      let client = wsClient(t.server.wsUrl, userToken);
      let sub = subscribeWs(client, SUB, phone);
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      for (let i = 0; i < 3; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      const first = await sub.waitFor(6);
      const ack = await gql(t.server.url, userToken, ACK, { e: first[3].eventId, c: 'phone-1' });
      expect(ack.data.ackEvent).toMatchObject({ consumer: 'phone-1', sequence: first[3].sequence });
      await client.dispose();

      // Reconnect with the consumer and no cursor: the two unacked events come again, then new ones.
      await t.ops.post({ walletId: wallet.id, direction: 'DEBIT', amount: '1', status: 'SUCCESS' });
      client = wsClient(t.server.wsUrl, userToken);
      sub = subscribeWs(client, SUB, phone);
      const again = await sub.waitFor(4);
      expect(again.map((e) => e.sequence)).toEqual([first[4].sequence, first[5].sequence, first[5].sequence + 1, first[5].sequence + 2]);
      expect(again.slice(0, 2).map((e) => e.eventId)).toEqual([first[4].eventId, first[5].eventId]);
      await client.dispose();

      // Another consumer of the same owner is independent: it starts at its own first subscription.
      const other = await gql(t.server.url, userToken, ACK, { e: first[0].eventId, c: 'laptop' });
      expect(other.data.ackEvent.sequence).toBe(first[0].sequence);
    });

    it('keeps acks cumulative, idempotent and never backwards, and only for the owner', async () => {
      const owner = ownerId('ack2');
      const wallet = await t.ops.createWallet(owner);
      for (let i = 0; i < 3; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      const log = await t.ops.log(owner);
      const userToken = await token(owner);
      const ackAt = async (i: number) => (await gql(t.server.url, userToken, ACK, { e: log[i].eventId, c: 'svc' })).data.ackEvent.sequence;
      expect(await ackAt(5)).toBe(6);
      expect(await ackAt(5)).toBe(6); // idempotent
      expect(await ackAt(2)).toBe(6); // never backwards
      expect(await ackAt(6)).toBe(7);

      const intruder = await gql(t.server.url, await token(ownerId('mallory')), ACK, { e: log[6].eventId, c: 'svc' });
      expect(codes(intruder)).toEqual(['FORBIDDEN']);
      const admin = await gql(t.server.url, await token('root', 'admin'), ACK, { e: log[6].eventId, c: 'svc' });
      expect(codes(admin)).toEqual(['FORBIDDEN']);
      const viaService = await gql(t.server.url, t.serviceToken, ACK, { e: log[6].eventId, c: 'svc' });
      expect(viaService.data.ackEvent.sequence).toBe(7);
      expect(codes(await gql(t.server.url, userToken, ACK, { e: '00000000-0000-4000-8000-000000000000', c: 'svc' }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(t.server.url, userToken, ACK, { e: log[0].eventId, c: ' ' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, null, ACK, { e: log[0].eventId, c: 'svc' }))).toEqual(['UNAUTHENTICATED']);
    });

    it('ends a consumer’s subscription with ACK_TIMEOUT when a delivered event stays unacked, and not while it acks', async () => {
      const owner = ownerId('slowack');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const client = wsClient(t.server.wsUrl, userToken);
      const diligent = subscribeWs(client, SUB, { c: 'diligent' });
      const lazy = subscribeWs(client, SUB, { c: 'lazy' });
      const plain = subscribeWs(client, 'subscription { walletEvents { eventId } }');
      await waitUntil(() => t.server.app.stats().subscriptions === 3);
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      const delivered = await diligent.waitFor(2);
      await gql(t.server.url, userToken, ACK, { e: delivered[1].eventId, c: 'diligent' });

      await lazy.ended;
      const error = (lazy.errors[0] as any[])[0];
      expect(error.extensions.code).toBe('ACK_TIMEOUT');
      expect(error.message).toMatch(/resubscribe/);
      // The acking consumer and the consumer-less subscription are still live.
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '6', status: 'SUCCESS' });
      await diligent.waitFor(4);
      await plain.waitFor(4);
      expect(diligent.completed || diligent.errors.length > 0).toBe(false);
      await client.dispose();
    });
  });
});

describe.each(BACKENDS)('the unacked list on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { ACK_TIMEOUT: '1m', MAX_UNACKED_EVENTS: '5' });

    it('ends a consumer’s subscription with SLOW_CONSUMER past MAX_UNACKED_EVENTS, and a resume redelivers from the ack', async () => {
      const owner = ownerId('unacked');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const client = wsClient(t.server.wsUrl, userToken);
      const flood = subscribeWs(client, SUB, { c: 'hoarder' });
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      for (let i = 0; i < 5; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      await flood.ended;
      const error = (flood.errors[0] as any[])[0];
      expect(error.extensions.code).toBe('SLOW_CONSUMER');
      expect(error.message).toMatch(/5 delivered events waited for their ack/);
      const delivered = flood.items.map((e) => e.sequence);
      expect(delivered.length).toBeGreaterThanOrEqual(5);
      await gql(t.server.url, userToken, ACK, { e: flood.items[1].eventId, c: 'hoarder' });

      // Nothing is lost: the consumer resumes right after its ack.
      const resumed = subscribeWs(client, SUB, { c: 'hoarder' });
      expect((await resumed.waitFor(3)).map((e) => e.sequence).slice(0, 3)).toEqual([delivered[2], delivered[2]! + 1, delivered[2]! + 2]);
      await client.dispose();
    });
  });
});
