/**
 * Subscribing with `after` while commits race, 80 trials: a subscription that starts a
 * little behind the head while three postings commit gets every event after its cursor
 * once, in order, with no gap and no duplicate, on another instance where there are two.
 * A long run (`npm run test:smoke`); the resume rules themselves are in test/resume.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { writerAndReader } from '../support/fixture.ts';
import { subscribeWs, wsClient } from '../support/clients.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { token } from '../support/tokens.ts';

const QUERY = 'subscription($after: String) { walletEvents(after: $after) { eventId sequence cursor walletId type } }';

describe.each(BACKENDS)('resume races on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = writerAndReader(backend);

    it('never leaves a gap or a duplicate when a subscription with `after` starts while commits race (80 trials)', async () => {
      const owner = ownerId('race');
      const wallet = await t.ops.createWallet(owner);
      const client = wsClient(t.reader.wsUrl, await token(owner));
      let failures = 0;
      for (let trial = 0; trial < 80; trial++) {
        const log = await t.ops.log(owner);
        const start = log[Math.max(0, log.length - 1 - (trial % 4))]; // resume a little behind the head
        const posts = Promise.all(Array.from({ length: 3 }, () => t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' })));
        const sub = subscribeWs(client, QUERY, { after: start.cursor });
        await posts;
        const head = log.length + 6; // 3 posts × (transaction + balance)
        await sub.waitFor(head - start.sequence);
        // Anything extra would show up here before the next trial: give in-flight frames a turn.
        await new Promise((resolve) => setImmediate(resolve));
        const sequences = sub.items.map((e) => e.sequence);
        const want = Array.from({ length: head - start.sequence }, (_, i) => start.sequence + 1 + i);
        if (JSON.stringify(sequences) !== JSON.stringify(want)) failures++;
        expect(sequences, `trial ${trial}`).toEqual(want);
        sub.dispose();
      }
      expect(failures).toBe(0);
      await client.dispose();
    });
  });
});
