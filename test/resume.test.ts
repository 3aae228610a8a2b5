/**
 * Resume: a client that drops out while
 * 1,000 events are posted resumes from its last cursor — on another instance where there
 * are two — and gets every event exactly once, in order; an EventSource that loses its
 * connection resumes through Last-Event-ID. (Subscribing with `after` while commits race,
 * over many trials, is a long run: test/scale/resume-races.scale.ts.)
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { writerAndReader } from './support/fixture.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const QUERY = 'subscription($after: String) { walletEvents(after: $after) { eventId sequence cursor walletId type } }';

describe.each(BACKENDS)('resume on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = writerAndReader(backend, { SSE_RETRY: '100ms' });

    it('delivers every event exactly once, in order, after a client resumes from its last cursor elsewhere', async () => {
      const owner = ownerId('resume');
      const wallets = await Promise.all([1, 2, 3].map(() => t.ops.createWallet(owner)));
      const userToken = await token(owner);
      const initial = await t.ops.log(owner);
      const client1 = wsClient(t.writer.wsUrl, userToken);
      const before = subscribeWs(client1, QUERY, { after: initial.at(-1).cursor });
      await waitUntil(() => t.writer.app.stats().subscriptions === 1);

      // 500 settled posts = 1,000 events, 10 in flight at a time, spread over 3 wallets.
      let posted = 0;
      const burst = (async () => {
        for (let i = 0; i < 50; i++) {
          await Promise.all(
            Array.from({ length: 10 }, (_, j) => t.ops.post({ walletId: wallets[(i * 10 + j) % 3]!.id, direction: 'CREDIT', amount: String(i * 10 + j + 1), status: 'SUCCESS' })),
          );
          posted += 10;
        }
      })();
      // Drop out mid-burst.
      await waitUntil(() => before.items.length >= 100);
      // What the app had processed when it dropped out; frames still in flight are lost with the connection.
      const seen = before.items.slice();
      await client1.dispose();
      const lastSeen = seen.at(-1);
      expect(posted).toBeLessThan(500);
      await burst;

      const client2 = wsClient(t.reader.wsUrl, userToken);
      const after = subscribeWs(client2, QUERY, { after: lastSeen.cursor });
      const log = await t.ops.log(owner);
      expect(log).toHaveLength(3 + 1000);
      const expected = log.filter((e) => e.sequence > lastSeen.sequence).map((e) => e.eventId);
      const got = await after.waitFor(expected.length, 60_000);
      await client2.dispose();
      const combined = [...seen, ...got];
      expect(got.map((e) => e.eventId)).toEqual(expected);
      // Across both connections: every event after the start exactly once, in sequence order.
      expect(combined.map((e) => e.sequence)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 4));
      expect(new Set(combined.map((e) => e.eventId)).size).toBe(1000);
    });

    it('resumes an EventSource through Last-Event-ID after the connection drops, losing and repeating nothing', async () => {
      const owner = ownerId('sse');
      const wallet = await t.ops.createWallet(owner);
      const url = new URL(t.reader.url);
      url.searchParams.set('query', 'subscription { walletEvents { eventId sequence } }');
      url.searchParams.set('token', await token(owner));
      // Remember the SSE request's socket, to cut exactly that connection later.
      const sseSockets: Socket[] = [];
      const onRequest = (req: IncomingMessage) => {
        if (req.headers.accept?.includes('text/event-stream')) sseSockets.push(req.socket);
      };
      t.reader.app.httpServer.on('request', onRequest);
      const source = new EventSource(url.toString());
      const received: { eventId: string; sequence: number }[] = [];
      const ids: string[] = [];
      let opens = 0;
      source.onopen = () => opens++;
      source.addEventListener('next', (event) => {
        received.push(JSON.parse(event.data).data.walletEvents);
        ids.push(event.lastEventId);
      });
      await waitUntil(() => opens === 1 && t.reader.app.stats().subscriptions === 1);

      for (let i = 0; i < 5; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '10', status: 'SUCCESS' });
      await waitUntil(() => received.length === 10);
      // Cut the stream's connection, then keep producing while the client is away.
      sseSockets[0]!.destroy();
      for (let i = 0; i < 5; i++) await t.ops.post({ walletId: wallet.id, direction: 'DEBIT', amount: '1', status: 'SUCCESS' });
      await waitUntil(() => received.length >= 20 && opens === 2);
      for (let i = 0; i < 2; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '7', status: 'SUCCESS' });
      await waitUntil(() => received.length >= 24);
      source.close();
      t.reader.app.httpServer.off('request', onRequest);

      const log = await t.ops.log(owner);
      expect(received.map((e) => e.sequence)).toEqual(log.slice(1).map((e) => e.sequence));
      expect(received.map((e) => e.eventId)).toEqual(log.slice(1).map((e) => e.eventId));
      expect(ids).toEqual(log.slice(1).map((e) => e.cursor));
      expect(opens).toBe(2);
    });
  });
});
