/**
 * An instance listens to an owner's topic only while it has a subscriber for that owner:
 * 1,000 subscribe/unsubscribe cycles (some ended before they were even active) leave no
 * listener behind, and on Redis no channel (checked with PUBSUB NUMSUB).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from '../support/backends.ts';
import { subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { ownerId, producer } from '../support/ledger-ops.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { token } from '../support/tokens.ts';

describe.each(BACKENDS)('topic lifecycle on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    let env: BackendEnv;
    let server: RunningServer;

    beforeAll(async () => {
      env = await prepareBackend(backend);
      server = await startServer(env.env);
    });
    afterAll(async () => {
      await server?.stop();
      await env?.dispose();
    });

    it('leaves no topic subscription behind after 1,000 subscribe/unsubscribe cycles', async () => {
      const owners = Array.from({ length: 10 }, () => ownerId('cycle'));
      const ops = producer(server.url, await token('producer', 'service'));
      const wallets = await Promise.all(owners.map((owner) => ops.createWallet(owner)));
      const clients = await Promise.all(owners.map(async (owner) => wsClient(server.wsUrl, await token(owner))));
      const query = 'subscription { walletEvents { eventId } }';

      for (let batch = 0; batch < 20; batch++) {
        const subs = Array.from({ length: 50 }, (_, i) => subscribeWs(clients[i % clients.length]!, query));
        // Half the batches end while still attaching, half once all are active.
        if (batch % 2 === 0) await waitUntil(() => server.app.stats().subscriptions === 50);
        for (const sub of subs) sub.dispose();
        await waitUntil(() => server.app.stats().subscriptions === 0);
      }
      await waitUntil(() => server.app.stats().ownersListened === 0);

      // Still working afterwards: a new subscription gets a new event.
      const last = subscribeWs(clients[0]!, query);
      await waitUntil(() => server.app.stats().subscriptions === 1);
      await ops.post({ walletId: wallets[0]!.id, direction: 'CREDIT', amount: '1' });
      await last.waitFor(1);
      last.dispose();
      await waitUntil(() => server.app.stats().ownersListened === 0);
      await Promise.all(clients.map((client) => client.dispose()));

      if (backend.name === 'postgres') {
        const redis = new Redis(process.env.REDIS_URL!);
        const prefix = env.env.PUBSUB_PREFIX!;
        // UNSUBSCRIBE is asynchronous; give Redis a moment to process the last ones.
        await waitUntil(async () => ((await redis.pubsub('CHANNELS', `${prefix}owner:*`)) as string[]).length === 0, 5_000);
        const counts = (await redis.pubsub('NUMSUB', ...owners.map((owner) => `${prefix}owner:${owner}`))) as (string | number)[];
        expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual(owners.map(() => 0));
        redis.disconnect();
      }
    });
  });
});
