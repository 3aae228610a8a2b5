/**
 * Two instances: two server processes on one
 * PostgreSQL and Redis; a transaction posted through instance 1 reaches a subscriber on
 * instance 2. Both migrate at start-up at the same time, which the advisory lock makes safe.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { spawnedPair } from './support/fixture.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`two instances on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = spawnedPair(postgres);

    it('delivers an event committed through one instance to a subscriber of the other, in order', async () => {
      const [one, two] = pair.instances;
      const ops = producer(one.url, await token('producer', 'service'));
      const owner = ownerId('multi');
      const wallet = await ops.createWallet(owner);
      const sub = subscribeWs(wsClient(two.wsUrl, await token(owner)), `subscription { transactionUpdated { sequence transaction { amount } } }`);

      // Instance 2 is another process: its gauge says when the subscription is live; one
      // probe posted through instance 1 then shows the path between them works.
      await waitUntil(async () => /^wallet_events_subscriptions\{field="transactionUpdated"\} 1$/m.test(await (await fetch(two.url.replace(/\/graphql$/, '/metrics'))).text()), 20_000);
      let probes = 0;
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      probes++;
      await sub.waitFor(1);
      const seen = sub.items.length;
      for (let i = 1; i <= 20; i++) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: String(100 + i), status: 'SUCCESS' });
      const items = await sub.waitFor(seen + 20);
      sub.dispose();
      expect(items.slice(seen).map((e) => e.transaction.amount)).toEqual(Array.from({ length: 20 }, (_, i) => String(101 + i)));
      // Every transaction event after the first one received is there, none twice, in sequence order.
      const sequences = items.map((e) => e.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(probes).toBeGreaterThan(0);
    });
  });
});
