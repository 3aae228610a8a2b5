/**
 * Subscribing with `after` while commits race, 80 trials: a subscription that starts a
 * little behind the head while three postings commit gets every event after its cursor
 * once, in order, with no gap and no duplicate, on another instance where there are two.
 * A long run (`npm run test:smoke`); the resume rules themselves are in test/resume.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from '../support/backends.ts';
import { subscribeWs, wsClient } from '../support/clients.ts';
import { ownerId, producer, type Producer } from '../support/ledger-ops.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { token } from '../support/tokens.ts';

const QUERY = 'subscription($after: String) { walletEvents(after: $after) { eventId sequence cursor walletId type } }';

describe.each(BACKENDS)('resume races on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    let env: BackendEnv;
    /** Two instances on Postgres + Redis (posts on one, subscriptions on the other); on the embedded backend, one. */
    let first: RunningServer;
    let second: RunningServer;
    let ops: Producer;

    beforeAll(async () => {
      env = await prepareBackend(backend);
      first = await startServer(env.env);
      second = backend.name === 'postgres' ? await startServer(env.env) : first;
      ops = producer(first.url, await token('producer', 'service'));
    });
    afterAll(async () => {
      await first?.stop();
      if (second !== first) await second?.stop();
      await env?.dispose();
    });

    it('never leaves a gap or a duplicate when a subscription with `after` starts while commits race (80 trials)', async () => {
      const owner = ownerId('race');
      const wallet = await ops.createWallet(owner);
      const client = wsClient(second.wsUrl, await token(owner));
      let failures = 0;
      for (let trial = 0; trial < 80; trial++) {
        const log = await ops.log(owner);
        const start = log[Math.max(0, log.length - 1 - (trial % 4))]; // resume a little behind the head
        const posts = Promise.all(Array.from({ length: 3 }, () => ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' })));
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
