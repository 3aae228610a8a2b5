/**
 * Reads on a streaming replica (DATABASE_REPLICA_URLS), against a primary and a replica of
 * their own (initdb, pg_basebackup -R) on loopback ports:
 * - a replay of 20,000 events is served by the replica while the primary takes writes, and
 *   the primary's table counters show it did not serve it;
 * - with the replica's replay paused, live streams, resumes, polling and the firehose still
 *   get every event, once, in order (reads wait REPLICA_READ_WAIT, then go to the primary);
 *   the replica leaves rotation past REPLICA_MAX_LAG and comes back when it catches up;
 * - with the replica killed, reads fall back to the primary and nothing is lost; started
 *   again, it is back in rotation.
 * Fault runs with a cluster of their own, so they are in `npm run test:smoke` (CI runs them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBackend, servicesAvailable, type BackendEnv } from '../support/backends.ts';
import { gqlData, subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { ownerId, producer, type Producer } from '../support/ledger-ops.ts';
import { replicationUnavailable, startReplicatedPostgres, type ReplicatedPostgres } from '../support/replication.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { token } from '../support/tokens.ts';

const unavailable = replicationUnavailable ?? (servicesAvailable ? null : 'SKIPPED: set REDIS_URL (and DATABASE_URL) to run the replica suite');

/** The rows of the events table (its partitions included) this server has read, by scans and index fetches. */
async function eventRowsRead(pg: ReplicatedPostgres, on: 'primary' | 'replica'): Promise<number> {
  const [row] = await pg.query<{ n: string | null }>(on, `select sum(seq_tup_read + coalesce(idx_tup_fetch, 0))::text as n from pg_stat_user_tables where relname like 'events%'`);
  return Number(row?.n ?? 0);
}

/** A counter of /metrics, summed over the label sets that contain `labels`. */
async function metric(server: RunningServer, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function ready(server: RunningServer): Promise<{ status: string; checks: Record<string, string> }> {
  return (await fetch(server.url.replace(/\/graphql$/, '/ready'))).json() as Promise<{ status: string; checks: Record<string, string> }>;
}

const EVENTS = 'query($a: String, $n: Int) { events(after: $a, first: $n) { edges { cursor node { sequence } } pageInfo { hasNextPage endCursor } } }';
const FEED = 'query($a: String) { feed(after: $a, first: 500) { edges { cursor node { ownerId sequence } } pageInfo { hasNextPage endCursor } } }';
const STREAM = 'subscription($a: String) { walletEvents(after: $a) { sequence } }';

describe(`reads on a streaming replica${unavailable ? ` (${unavailable})` : ''}`, () => {
  describe.skipIf(unavailable !== null)('primary + replica + redis', () => {
    let pg: ReplicatedPostgres;
    let env: BackendEnv;
    let server: RunningServer;
    let ops: Producer;
    let serviceToken: string;

    beforeAll(async () => {
      pg = await startReplicatedPostgres();
      env = await prepareBackend({ name: 'postgres', available: true, reason: '' });
      server = await startServer({
        ...env.env,
        DATABASE_URL: pg.primaryUrl,
        DATABASE_REPLICA_URLS: pg.replicaUrl,
        REPLICA_READ_WAIT: '100ms',
        REPLICA_MAX_LAG: '1s',
        REPLICA_CHECK_INTERVAL: '100ms',
        MAX_BATCH_SIZE: '1000',
      });
      serviceToken = await token('producer', 'service');
      ops = producer(server.url, serviceToken);
      await waitUntil(async () => (await ready(server)).status === 'ready', 15_000);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await env?.dispose();
      await pg?.stop();
    });

    /** Pages the firehose from `after` to its readable end. */
    async function feedAll(after: string | null): Promise<{ ownerId: string; sequence: number }[]> {
      const seen: { ownerId: string; sequence: number }[] = [];
      for (;;) {
        const page = (await gqlData(server.url, serviceToken, FEED, { a: after })).feed;
        seen.push(...page.edges.map((edge: any) => edge.node));
        if (!page.pageInfo.hasNextPage) return seen;
        after = page.pageInfo.endCursor;
      }
    }

    /** Pages the owner's whole log through `events`. */
    async function pollAll(bearer: string, after: string | null = null): Promise<number[]> {
      const seen: number[] = [];
      for (;;) {
        const page = (await gqlData(server.url, bearer, EVENTS, { a: after, n: 500 })).events;
        seen.push(...page.edges.map((edge: any) => edge.node.sequence));
        if (!page.pageInfo.hasNextPage) return seen;
        after = page.pageInfo.endCursor;
      }
    }

    it('serves a replay of 20,000 events from the replica while the primary takes writes', async () => {
      const owner = ownerId('replay');
      const wallet = await ops.createWallet(owner);
      for (let batch = 0; batch < 10; batch++) {
        const inputs = Array.from({ length: 1_000 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const }));
        expect((await ops.postBatchRaw(inputs)).errors).toBeUndefined();
      }
      const head = 1 + 10 * 1_000 * 2;
      const userToken = await token(owner);
      // The replica has it all before the replay starts (the counters then measure the replay alone).
      await waitUntil(async () => Number((await pg.query<{ n: string }>('replica', `select last_sequence::text as n from owners where owner_id = '${owner}'`))[0]?.n ?? 0) === head);
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // table counters are flushed about once a second
      const primaryBefore = await eventRowsRead(pg, 'primary');
      const replicaBefore = await eventRowsRead(pg, 'replica');
      const replicaReadsBefore = await metric(server, 'wallet_events_database_reads_total', 'route="replica"');

      const [first] = (await gqlData(server.url, userToken, EVENTS, { a: null, n: 1 })).events.edges;
      const client = wsClient(server.wsUrl, userToken);
      try {
        // The replay, while a producer keeps writing (their events follow the replay in the same stream).
        const replay = subscribeWs<{ sequence: number }>(client, STREAM, { a: first.cursor });
        let writes = 0;
        const writing = (async () => {
          for (; replay.items.length < head - 1 && replay.errors.length === 0; writes++) await ops.post({ walletId: wallet.id, direction: 'DEBIT', amount: '1', status: 'SUCCESS' });
        })();
        await replay.waitFor(head - 1, 60_000);
        await writing;
        expect(writes).toBeGreaterThan(0);
        const total = head + writes * 2;
        await replay.waitFor(total - 1, 15_000);
        expect(replay.items.map((e) => e.sequence)).toEqual(Array.from({ length: total - 1 }, (_, i) => i + 2));
      } finally {
        await client.dispose();
      }

      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const fromReplica = (await eventRowsRead(pg, 'replica')) - replicaBefore;
      const fromPrimary = (await eventRowsRead(pg, 'primary')) - primaryBefore;
      expect(fromReplica).toBeGreaterThanOrEqual(head - 1);
      // The primary served none of the replay: what it read of the log is a small fraction of it.
      expect(fromPrimary).toBeLessThan((head - 1) / 20);
      expect(await metric(server, 'wallet_events_database_reads_total', 'route="replica"')).toBeGreaterThan(replicaReadsBefore);
    }, 120_000);

    it('gets every event once, in order, while the replica stops replaying, and takes it out of rotation and back', async () => {
      const owner = ownerId('paused');
      const userToken = await token(owner);
      const wallet = await ops.createWallet(owner);
      for (let i = 0; i < 5; i++) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const [, second] = (await gqlData(server.url, userToken, EVENTS, { a: null, n: 2 })).events.edges;
      const feedStart = (await gqlData(server.url, serviceToken, FEED, { a: null })).feed.pageInfo.endCursor;
      const client = wsClient(server.wsUrl, userToken);
      try {
        const live = subscribeWs<{ sequence: number }>(client, STREAM, { a: second.cursor });
        await live.waitFor(9);
        const lagging = await metric(server, 'wallet_events_database_reads_total', 'route="lagging"');

        await pg.query('replica', 'select pg_wal_replay_pause()');
        for (let i = 0; i < 20; i++) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
        const head = 11 + 40;
        const all = Array.from({ length: head }, (_, i) => i + 1);
        // Live, resumed, polled, and the firehose: all of it, from the primary.
        expect((await live.waitFor(head - 2)).map((e) => e.sequence)).toEqual(all.slice(2));
        const resumed = subscribeWs<{ sequence: number }>(client, STREAM, { a: second.cursor });
        expect((await resumed.waitFor(head - 2)).map((e) => e.sequence)).toEqual(all.slice(2));
        expect(await pollAll(userToken)).toEqual(all);
        const fed = (await feedAll(feedStart)).filter((e) => e.ownerId === owner).map((e) => e.sequence);
        expect(fed).toEqual(all.slice(all.length - fed.length)); // a suffix: the cursor was taken when some were readable
        expect(fed.length).toBeGreaterThanOrEqual(40);
        expect(await metric(server, 'wallet_events_database_reads_total', 'route="lagging"')).toBeGreaterThan(lagging);
        // Past REPLICA_MAX_LAG it leaves rotation: /ready says degraded, still 200.
        await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
        await waitUntil(async () => (await ready(server)).status === 'degraded', 10_000);
        expect(await metric(server, 'wallet_events_replica_in_rotation')).toBe(0);

        await pg.query('replica', 'select pg_wal_replay_resume()');
        await waitUntil(async () => (await ready(server)).status === 'ready', 10_000);
        expect(await metric(server, 'wallet_events_replica_in_rotation')).toBe(1);
        const viaReplica = await metric(server, 'wallet_events_database_reads_total', 'route="replica"');
        const caughtUp = subscribeWs<{ sequence: number }>(client, STREAM, { a: second.cursor });
        expect((await caughtUp.waitFor(head)).map((e) => e.sequence)).toEqual([...all.slice(2), head + 1, head + 2]);
        expect(await metric(server, 'wallet_events_database_reads_total', 'route="replica"')).toBeGreaterThan(viaReplica);
      } finally {
        await pg.query('replica', 'select pg_wal_replay_resume()').catch(() => {});
        await client.dispose();
      }
    }, 60_000);

    it('falls back to the primary when the replica dies, loses nothing, and takes it back when it returns', async () => {
      const owner = ownerId('killed');
      const userToken = await token(owner);
      const wallet = await ops.createWallet(owner);
      const [created] = (await gqlData(server.url, userToken, EVENTS, { a: null, n: 1 })).events.edges;
      await pg.killReplica();
      try {
        for (let i = 0; i < 10; i++) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
        const all = Array.from({ length: 21 }, (_, i) => i + 1);
        expect(await pollAll(userToken)).toEqual(all);
        const client = wsClient(server.wsUrl, userToken);
        try {
          const resumed = subscribeWs<{ sequence: number }>(client, STREAM, { a: created.cursor });
          expect((await resumed.waitFor(20)).map((e) => e.sequence)).toEqual(all.slice(1));
        } finally {
          await client.dispose();
        }
        const state = await ready(server);
        expect(state.status).toBe('degraded');
        const fellBack = (await metric(server, 'wallet_events_database_reads_total', 'route="failed"')) + (await metric(server, 'wallet_events_database_reads_total', 'route="no_replica"'));
        expect(fellBack).toBeGreaterThan(0);
        expect(Object.entries(state.checks).find(([name]) => name.startsWith('replica'))?.[1]).toMatch(/out of rotation/);
      } finally {
        await pg.startReplica();
      }
      await waitUntil(async () => (await ready(server)).status === 'ready', 20_000);
      const viaReplica = await metric(server, 'wallet_events_database_reads_total', 'route="replica"');
      // Back in rotation, the replica may still be replaying what it missed: a read it has
      // not caught up for goes to the primary ("lagging"), so the reads go on until one is
      // served by the replica, and every one of them sees everything.
      await waitUntil(async () => {
        expect(await pollAll(userToken)).toHaveLength(21);
        return (await metric(server, 'wallet_events_database_reads_total', 'route="replica"')) > viaReplica;
      }, 20_000);
    }, 60_000);
  });
});
