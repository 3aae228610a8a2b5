/**
 * A firehose reader that stops reading: twenty feed subscriptions on one graphql-ws socket
 * that reads one result and then nothing, while thousands of events pass. The stream is
 * paused, then ended with SLOW_CONSUMER, and its last feed cursor resumes the rest. A long
 * run (`npm run test:smoke`), as is the late-commit race (firehose-late-commit.fault.ts);
 * the firehose's other rules are in test/firehose.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { acknowledgedSocket, subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { readable, type FeedNode } from '../support/firehose-pages.ts';
import { ownerId, producer } from '../support/ledger-ops.ts';
import { tenantToken } from '../support/tokens.ts';

describe.each(BACKENDS)('a firehose reader that stops reading, on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { SLOW_CONSUMER_BYTES: '65536', SLOW_CONSUMER_TIMEOUT: '2s' });

    it('is paused, then ended with SLOW_CONSUMER; its last feed cursor resumes the rest', { timeout: 120_000 }, async () => {
      const bearer = await tenantToken('stalled', `stalled-${backend.name}`);
      const ops = producer(t.server.url, bearer);
      const wallets = await Promise.all(Array.from({ length: 10 }, () => ops.createWallet(ownerId('stall'))));
      const start = (await readable(t.server.url, bearer, null, 10)).after;
      // A raw graphql-ws client with twenty feed subscriptions that reads one result, then stops reading its socket.
      const socket = await acknowledgedSocket(t.server.wsUrl, bearer);
      const query = 'subscription($a: String) { feed(after: $a) { eventId sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }';
      for (let id = 1; id <= 20; id++) socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query, variables: { a: start } } }));
      let firstCursor: string | null = null;
      let firstEventId = '';
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'next' && !firstCursor) {
          firstCursor = message.payload.extensions.cursor;
          firstEventId = message.payload.extensions.eventId;
          socket.pause();
        }
      });
      await waitUntil(() => t.server.app.stats().subscriptions === 20);
      let posted = 0;
      const post = async () => {
        const res = await ops.postBatchRaw(wallets.map((w) => ({ walletId: w.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const, description: 'x'.repeat(200) })));
        expect(res.errors).toBeUndefined();
        posted += wallets.length;
      };
      await post();
      await waitUntil(() => firstCursor !== null);
      // Produce until the server gives up on the stalled reader (bounded).
      // Bounded by time, not by a count of posts: the end comes SLOW_CONSUMER_TIMEOUT (plus a tick) after the pause.
      for (const deadline = Date.now() + 60_000; t.server.app.stats().subscriptions > 0; ) {
        if (Date.now() > deadline) throw new Error('the stalled reader was never ended');
        await post();
      }
      const tail: any[] = [];
      socket.on('message', (data) => tail.push(JSON.parse(String(data))));
      socket.resume();
      await waitUntil(() => tail.filter((m) => m.type === 'complete').length === 20, 30_000);
      const failures = tail.filter((m) => m.type === 'next' && m.payload.errors);
      expect(failures.map((f) => f.payload.errors[0].extensions.code)).toEqual(Array(20).fill('SLOW_CONSUMER'));
      socket.close();

      // From the first cursor it saw, a new stream gets everything after it.
      // Everything posted, once readable (another suite's transaction may hold the horizon a moment), after the first cursor.
      const all = (await readable(t.server.url, bearer, start, posted * 2)).events;
      expect(all).toHaveLength(posted * 2);
      const first = all.findIndex((e) => e.eventId === firstEventId);
      expect(first).toBeGreaterThanOrEqual(0);
      const expected = all.slice(first + 1);
      const client = wsClient(t.server.wsUrl, bearer);
      const resumed = subscribeWs<FeedNode>(client, 'subscription($a: String) { feed(after: $a) { eventId } }', { a: firstCursor });
      const rest = await resumed.waitFor(expected.length, 60_000);
      expect(rest.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
      await client.dispose();
    });
  });
});
