/**
 * Faults of the backbone: the Redis connections
 * of both instances are cut in the middle of a burst; publishes are lost while they
 * reconnect, and the subscriber still ends up with every event exactly once, in order —
 * repaired from the log by the next live event or by the periodic head check.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { instancePair } from './support/fixture.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`Redis connection loss on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = instancePair(postgres);
    let redis: Redis;

    beforeAll(() => {
      redis = new Redis(process.env.REDIS_URL!);
    });
    afterAll(() => redis?.disconnect());

    /** Kills this suite's Redis connections (by their names), as a network cut would. */
    async function cutRedis(): Promise<number> {
      const list = (await redis.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((line) => line.includes(`name=${pair.env.env.PUBSUB_PREFIX}`))
        .map((line) => /id=(\d+)/.exec(line)![1]!);
      for (const id of ids) await redis.client('KILL', 'ID', id);
      return ids.length;
    }

    it('loses no event and repeats none when Redis connections drop during a burst', async () => {
      const owner = ownerId('cut');
      const ops = producer(pair.a.url, await token('producer', 'service'));
      const wallets = [await ops.createWallet(owner), await ops.createWallet(owner)];
      const client = wsClient(pair.b.wsUrl, await token(owner));
      const sub = subscribeWs(client, 'subscription { walletEvents { eventId sequence } }');
      await waitUntil(() => pair.b.app.stats().subscriptions === 1);

      let cuts = 0;
      for (let round = 0; round < 20; round++) {
        await Promise.all(Array.from({ length: 5 }, (_, i) => ops.post({ walletId: wallets[i % 2]!.id, direction: 'CREDIT', amount: '3', status: 'SUCCESS' })));
        if (round === 5 || round === 12) cuts += await cutRedis();
      }
      // The last events may have been published into the cut: the head check repairs them.
      const log = await ops.log(owner);
      const want = log.slice(2).map((e) => e.sequence); // after the two CREATED events
      const got = await sub.waitFor(want.length, 20_000);
      await client.dispose();
      expect(cuts).toBeGreaterThanOrEqual(4); // both instances' publisher and subscriber, twice
      expect(got.map((e) => e.sequence)).toEqual(want);
      expect(new Set(got.map((e) => e.eventId)).size).toBe(want.length);
    });
  });
});
