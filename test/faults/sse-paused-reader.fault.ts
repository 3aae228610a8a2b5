/**
 * Backpressure over graphql-sse's single-connection mode: a reader that stops reading its
 * stream while 5,000 events pass on ten operations is paused, not ended, loses nothing, and
 * gets every event in order when it reads again. A long run (`npm run test:smoke`); the
 * stream's other rules are in test/sse-single-connection.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { waitUntil } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { openStream } from '../support/sse-stream.ts';
import { token } from '../support/tokens.ts';

describe.each(BACKENDS)('a paused graphql-sse reader on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { MAX_SUBSCRIPTIONS_PER_CONNECTION: '10', SLOW_CONSUMER_BYTES: '65536', MAX_BATCH_SIZE: '1000' });

    it('pauses a reader that stops reading while 5,000 events pass; it gets every one in order when it reads again', async () => {
      const owner = ownerId('sse-paused');
      const wallet = await t.ops.createWallet(owner);
      const stream = await openStream(t.server, await token(owner));
      const query = 'subscription { walletEvents { sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }';
      for (let id = 1; id <= 10; id++) expect((await stream.post(String(id), query)).status).toBe(202);
      await waitUntil(() => t.server.app.stats().subscriptions === 10);
      stream.response.pause(); // the client stops reading

      for (let batch = 0; batch < 5; batch++) {
        const inputs = Array.from({ length: 500 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const, description: 'x'.repeat(250), counterparty: 'c'.repeat(120) }));
        expect((await t.ops.postBatchRaw(inputs)).errors).toBeUndefined();
      }
      expect(t.server.app.stats().subscriptions).toBe(10); // paused, not ended
      const metrics = await (await fetch(`http://127.0.0.1:${t.server.port}/metrics`)).text();
      expect(Number(/^wallet_events_stream_pauses_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);

      stream.response.resume();
      const want = Array.from({ length: 5_000 }, (_, i) => i + 2);
      await waitUntil(() => stream.nexts().length >= 50_000, 60_000, () => String(stream.nexts().length));
      for (let id = 1; id <= 10; id++) {
        const frames = stream.nexts().filter((frame) => frame.id === String(id));
        expect(frames.map((frame) => frame.payload.data.walletEvents.sequence)).toEqual(want);
      }
      expect(stream.frames().filter((frame) => frame.event !== 'next')).toEqual([]); // no error, no complete
      stream.close();
    });
  });
});
