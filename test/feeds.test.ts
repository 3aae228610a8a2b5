/**
 * One feed per owner per instance: a lost publish costs one log read for all of an owner's
 * subscribers; a subscription opened while Redis is down (for an owner new to the
 * instance) opens at once and receives every later event through the head check; and a
 * subscription that ends while its feed is still attaching leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { acknowledgedSocket, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { instancePair } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { freePort, startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';
import { OwnRedis } from './support/own-redis.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

/** A counter's value from an instance's /metrics. */
async function metric(server: RunningServer, pattern: RegExp): Promise<number> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe(`one log read per lost publish, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    // B never hears A's publishes (other channel prefix); no head check gets in the way.
    const pair = instancePair(
      postgres,
      (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}a:` }),
      (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}b:`, HEAD_CHECK_INTERVAL: '1h', MAX_SUBSCRIPTIONS_PER_CONNECTION: '100' }),
    );

    it('repairs a gap for 500 subscribers of one owner with exactly one read of the log', async () => {
      const owner = ownerId('fanout');
      const opsA = producer(pair.a.url, await token('producer', 'service'));
      const opsB = producer(pair.b.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const userToken = await token(owner);
      const clients = Array.from({ length: 5 }, () => wsClient(pair.b.wsUrl, userToken));
      const subs = Array.from({ length: 500 }, (_, i) => subscribeWs(clients[i % 5]!, 'subscription { walletEvents { sequence } }'));
      await waitUntil(() => pair.b.app.stats().subscriptions === 500, 30_000);
      expect(pair.b.app.stats().ownersListened).toBe(1);

      const gapReads = /wallet_events_log_reads_total\{reason="gap"\} (\d+)/;
      const before = await metric(pair.b, gapReads);
      await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' }); // 2, 3: lost for B
      await opsB.post({ walletId: wallet.id, direction: 'CREDIT', amount: '6', status: 'SUCCESS' }); // 4, 5: reveal the gap
      for (const sub of subs) expect((await sub.waitFor(4)).map((e) => e.sequence)).toEqual([2, 3, 4, 5]);
      expect((await metric(pair.b, gapReads)) - before).toBe(1);
      for (const client of clients) await client.dispose();
    });
  });
});

describe(`while Redis is down, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + a Redis of its own', () => {
    let env: BackendEnv;
    let redis: OwnRedis;
    let server: RunningServer;
    beforeAll(async () => {
      env = await prepareBackend(postgres);
      redis = new OwnRedis(await freePort());
      await redis.start();
      server = await startServer({ ...env.env, REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await redis?.start().catch(() => {}); // so the server's Redis clients can quit
      await server?.stop();
      await redis?.stop();
      await env?.dispose();
    });

    it('opens a new owner’s subscription at once and delivers every later event by the head check; live again once Redis is back', async () => {
      const owner = ownerId('degraded');
      const ops = producer(server.url, await token('producer', 'service'));
      const wallet = await ops.createWallet(owner);
      await redis.stop();

      const client = wsClient(server.wsUrl, await token(owner));
      const received: { sequence: number; at: number }[] = [];
      const errors: unknown[] = [];
      client.subscribe<{ walletEvents: { sequence: number } }>(
        { query: 'subscription { walletEvents { sequence } }' },
        { next: (r) => received.push({ sequence: r.data!.walletEvents.sequence, at: Date.now() }), error: (e) => errors.push(e), complete: () => {} },
      );
      const opened = Date.now();
      await waitUntil(() => server.app.stats().subscriptions === 1, 5_000);
      expect(Date.now() - opened).toBeLessThan(3_000);
      // The instance still serves, so it stays in the load balancer, saying it is degraded.
      const ready = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { status: string }).status).toBe('degraded');

      // 15 commits after it subscribed, each one event (a pending credit moves no balance).
      const committedAt: number[] = [];
      for (let i = 0; i < 15; i++) {
        await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'PENDING' });
        committedAt.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitUntil(() => received.length >= 15, 10_000, () => `${received.length}/15`);
      expect(received.map((e) => e.sequence)).toEqual(Array.from({ length: 15 }, (_, i) => i + 2));
      const lateness = received.map((e, i) => e.at - committedAt[i]!);
      expect(Math.max(...lateness)).toBeLessThanOrEqual(2_000);
      expect(errors).toEqual([]);

      // Redis returns: the feed's topic subscription completes and delivery goes on.
      await redis.start();
      await waitUntil(async () => ((await (await fetch(`http://127.0.0.1:${server.port}/ready`)).json()) as { status: string }).status === 'ready', 20_000);
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'PENDING' });
      await waitUntil(() => received.length === 16, 5_000);
      expect(received.at(-1)!.sequence).toBe(17);
      await client.dispose();
    });

    it('leaves no listener behind when a subscription is revoked while its feed is still attaching', async () => {
      // An instance that waits long for the backbone, so the feed is still attaching when the revocation comes.
      const patient = await startServer({ ...env.env, REDIS_URL: redis.url, BACKBONE_ATTACH_TIMEOUT: '30s' });
      const owner = ownerId('attaching');
      await producer(patient.url, await token('producer', 'service')).createWallet(owner);
      await redis.stop();
      const userToken = await token(owner);
      const socket = await acknowledgedSocket(patient.wsUrl, userToken);
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { walletEvents { sequence } }' } }));
      await waitUntil(() => patient.app.stats().listeners === 1, 5_000);
      const revoked = await gql(patient.url, await token('security', 'admin'), 'mutation($o: ID!) { revokeAccess(ownerId: $o) { revoked } }', { o: owner });
      expect(revoked.data.revokeAccess.revoked).toBe(true);
      await redis.start();
      await waitUntil(() => {
        const stats = patient.app.stats();
        return stats.listeners === 0 && stats.ownersListened === 0 && stats.subscriptions === 0;
      }, 10_000, () => JSON.stringify(patient.app.stats()));
      socket.terminate();
      await patient.stop();
    });
  });
});

describe(`a feed whose missed events were pruned before it read them, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    // B publishes where A does not listen, and A's head check is off: A hears of B's commits
    // only through a later publish of its own, by which time retention has pruned them.
    const pair = instancePair(
      postgres,
      (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}a:`, HEAD_CHECK_INTERVAL: '1h', EVENT_RETENTION: '1s', EVENT_PARTITION_INTERVAL: '1s', PRUNE_INTERVAL: '200ms' }),
      (env) => ({ PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}b:`, EVENT_RETENTION: '1s', EVENT_PARTITION_INTERVAL: '1s', PRUNE_INTERVAL: '200ms' }),
    );

    it('steps over them: a subscriber behind them ends with CURSOR_EXPIRED, and live delivery goes on', async () => {
      const owner = ownerId('pruned-unread');
      const opsA = producer(pair.a.url, await token('producer', 'service'));
      const opsB = producer(pair.b.url, await token('producer', 'service'));
      const wallet = await opsA.createWallet(owner);
      const userToken = await token(owner);
      const client = wsClient(pair.a.wsUrl, userToken);
      const behind = subscribeWs(client, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => pair.a.app.stats().subscriptions === 1);

      // Events 2–7, committed through B: A never hears of them, and they are pruned.
      for (let i = 0; i < 3; i++) await opsB.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const oldest = async () => (await gql(pair.a.url, await token('producer', 'service'), 'query($o: ID) { events(ownerId: $o, first: 1) { edges { cursor } } }', { o: owner })).data.events.edges;
      await waitUntil(async () => (await oldest()).length === 0, 15_000);

      // Events 8–9 through A: its feed finds 2–7 gone, steps over them, and goes on.
      await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      await behind.ended;
      expect(behind.items).toEqual([]);
      expect((behind.errors[0] as { extensions: { code: string } }[])[0]!.extensions.code).toBe('CURSOR_EXPIRED');

      const live = subscribeWs(client, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => pair.a.app.stats().subscriptions === 1);
      await opsA.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      expect((await live.waitFor(2, 5_000)).map((event) => event.sequence)).toEqual([10, 11]);
      await client.dispose();
    });
  });
});
