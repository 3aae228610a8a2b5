/**
 * Every message read from Redis is untrusted: garbage published on any channel the server
 * listens to (owner topics and the control topic) is logged with its channel and dropped,
 * the process keeps serving, and an honest subscriber still receives every event in order.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { freePort, spawnServer, type ServerProcess } from './support/server.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

/** Messages that must not hurt: not JSON, wrong shapes, wrong types, another owner's events, huge. */
function garbage(victim: string): string[] {
  const event = { eventId: '5b1b8f43-7f6c-4f36-9d5c-2a3e8c1d9a10', ownerId: victim, walletId: '5b1b8f43-7f6c-4f36-9d5c-2a3e8c1d9a11', sequence: 2, occurredAt: new Date().toISOString(), type: 'BALANCE' };
  return [
    'not json',
    '',
    'null',
    '[]',
    '42',
    '{}',
    '{"kind":"events"}',
    '{"kind":"events","events":"x"}',
    '{"kind":"events","events":[null]}',
    '{"kind":"events","events":[]}',
    JSON.stringify({ kind: 'events', events: [{ ...event, sequence: 'two', data: {} }] }),
    JSON.stringify({ kind: 'events', events: [{ ...event, ownerId: 'someone-else', data: { walletId: event.walletId, currency: 'NGN', available: '1', ledger: '1', pending: '0' } }] }),
    JSON.stringify({ kind: 'events', events: [{ ...event, data: { walletId: event.walletId, currency: 'NGN', available: 1.5, ledger: '1', pending: '0' } }] }),
    JSON.stringify({ kind: 'events', events: [{ ...event, type: 'TRANSACTION', data: { walletId: event.walletId, currency: 'NGN', amount: 'lots' } }] }),
    '{"kind":"ack","consumer":{"x":1},"sequence":"9"}',
    '{"kind":"ack","principal":"user:x","consumer":"c","sequence":-1}',
    '{"kind":"preferences","principal":"user:x","consumer":"c","criteria":{"transaction":{"minAmount":"ten"}}}',
    '{"kind":"preferences","principal":"user:x","consumer":"c","criteria":"all"}',
    '{"subject":123,"revokedBefore":"yesterday"}',
    '{"jti":null}',
    '{"kind":"revoked","subject":"' + victim + '"}',
    JSON.stringify({ kind: 'events', events: Array.from({ length: 600 }, () => ({ ...event })) }),
    'x'.repeat(5 * 1024 * 1024),
  ];
}

describe(`garbage on the backbone, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    let env: BackendEnv;
    let instance: ServerProcess;
    let redis: Redis;

    beforeAll(async () => {
      env = await prepareBackend(postgres);
      instance = await spawnServer({ ...env.env, LOG_LEVEL: 'warn', HEAD_CHECK_INTERVAL: '60s' }, await freePort());
      redis = new Redis(env.env.REDIS_URL!);
    });
    afterAll(async () => {
      redis?.disconnect();
      await instance?.kill('SIGKILL');
      await env?.dispose();
    });

    it('drops malformed messages on every channel it listens to, logs them, and keeps delivering', async () => {
      const victim = ownerId('victim');
      const ops = producer(instance.url, await token('producer', 'service'));
      const wallet = await ops.createWallet(victim);
      const victimToken = await token(victim);
      const honest = subscribeWs(wsClient(instance.wsUrl, victimToken), 'subscription { walletEvents { sequence type } }');
      const prefix = env.env.PUBSUB_PREFIX!;
      // Wait until the server listens on the victim's topic, then find every channel it listens to.
      await waitUntil(async () => ((await redis.pubsub('CHANNELS', `${prefix}owner:${victim}`)) as string[]).length === 1);
      const channels = (await redis.pubsub('CHANNELS', `${prefix}*`)) as string[];
      expect(channels.sort()).toEqual([`${prefix}control:revocations`, `${prefix}owner:${victim}`]);

      const expected: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (const channel of channels) for (const message of garbage(victim)) await redis.publish(channel, message);
        await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '10', status: 'SUCCESS' });
        expected.push(2 + round * 2, 3 + round * 2);
      }
      const received = await honest.waitFor(expected.length);
      expect(received.map((e) => e.sequence)).toEqual(expected);
      expect(honest.errors).toEqual([]);

      // Still alive and serving; the victim was not revoked by a forged notice.
      expect(instance.child.exitCode).toBeNull();
      expect((await gql(instance.url, victimToken, '{ me { id } }')).data).toEqual({ me: { id: victim } });
      const dropped = instance
        .output()
        .split('\n')
        .filter((line) => line.includes('dropped a malformed backbone message'))
        .map((line) => JSON.parse(line) as { channel: string; reason: string });
      // Logged once per channel (later ones are counted, not logged), naming channel and reason.
      expect(dropped.map((line) => line.channel).sort()).toEqual(['control:revocations', `owner:${victim}`]);
      for (const line of dropped) expect(line.reason).toBeTruthy();
      const metrics = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
      const count = Number(/wallet_events_backbone_messages_dropped_total (\d+)/.exec(metrics)?.[1]);
      expect(count).toBe(3 * channels.length * garbage(victim).length);
      honest.dispose();
    });
  });
});
