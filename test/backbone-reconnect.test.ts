/**
 * The backbone's Redis subscriber across a Redis restart: it subscribes again by itself,
 * and when that SUBSCRIBE fails (refused, or cut off by a shutdown before Redis answers) the
 * failure is ours to log — never an unhandled rejection, which would end a production
 * process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPubSub } from '../src/backbone/redis-pubsub.ts';
import { createLogger } from '../src/logging/logger.ts';
import { waitUntil } from './support/clients.ts';
import { OwnRedis } from './support/own-redis.ts';
import { redisServerInstalled } from './support/redis-cluster.ts';
import { freePort } from './support/server.ts';

if (process.env.REQUIRE_SERVICES === '1' && !redisServerInstalled) throw new Error('REQUIRE_SERVICES=1 but redis-server is not installed: the backbone reconnect suite would be skipped');

/** A pub/sub on `redis` whose log lines the test can read. */
function pubsubOn(redis: OwnRedis) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('debug', (line) => lines.push(JSON.parse(line)));
  return { pubsub: new RedisPubSub(redis.url, 'reconnect-test:', logger), lines };
}

describe.skipIf(!redisServerInstalled)(`the Redis backbone across a restart${redisServerInstalled ? '' : ' (SKIPPED: needs redis-server)'}`, () => {
  let redis: OwnRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
  });

  it('subscribes again when Redis comes back, and messages published after that arrive', async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    const { pubsub, lines } = pubsubOn(redis);
    const received: string[] = [];
    await pubsub.subscribe('owner:alice', (message) => received.push(message));
    await pubsub.publish('owner:alice', 'before');
    await waitUntil(() => received.length === 1, 5_000);

    await redis.stop();
    await redis.start();
    await waitUntil(() => lines.some((line) => line.msg === 'redis subscriber reconnected; subscribing again'), 10_000);
    // The publisher may reconnect a little later than the subscriber: publish until one lands.
    await waitUntil(async () => {
      await pubsub.publish('owner:alice', 'after').catch(() => undefined);
      return received.includes('after');
    }, 10_000);
    expect(received[0]).toBe('before');
    await pubsub.close();
  });

  it('logs a resubscription Redis refuses, and leaves no unhandled rejection', async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    const { pubsub, lines } = pubsubOn(redis);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await pubsub.subscribe('owner:bob', () => {});
      await redis.stop();
      // Back with a default user that may run every command but use no channel.
      await redis.start(['--user', 'default', 'on', 'nopass', '~*', 'resetchannels', '+@all']);
      await waitUntil(() => lines.some((line) => line.msg === 'redis resubscribe failed; the next reconnect tries again'), 10_000);
      const failure = lines.find((line) => line.msg === 'redis resubscribe failed; the next reconnect tries again');
      expect(String(failure?.error)).toMatch(/NOPERM/);
      await pubsub.close();
      await new Promise((resolve) => setTimeout(resolve, 50)); // an unhandled rejection is reported after a turn of the event loop
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
