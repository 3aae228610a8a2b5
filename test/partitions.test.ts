/**
 * The log partitioned by time, on both backends:
 * - partitions are made ahead of the clock, and rows the default partition caught move into
 *   the partition made for them;
 * - retention drops a partition whole and moves every watermark past it: a reader behind the
 *   dropped range is told CURSOR_EXPIRED (stream, `events`, firehose), a reader inside the
 *   kept range loses nothing, even when `occurred_at` is out of sequence order;
 * - the migration moves an unpartitioned log without losing an event.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgresJs from 'postgres';
import { describe, expect, it } from 'vitest';
import { openPglite, openPostgres, rowsOf, type Database } from '../src/db/client.ts';
import { ensureEventPartitions, listEventPartitions } from '../src/db/event-partitions.ts';
import * as schema from '../src/db/schema.ts';
import { FIREHOSE_START } from '../src/domain/events.ts';
import { DEFAULT_TENANT } from '../src/domain/principal.ts';
import { FirehoseLog } from '../src/firehose/firehose-log.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { dropOldestEventPartition } from '../src/maintenance/partition-retention.ts';
import { EventLog } from '../src/streams/event-log.ts';
import { BACKENDS, GROUP_COMMIT, label, prepareBackend } from './support/backends.ts';
import { codes, gql, gqlData, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { databaseOn, serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Which table of the log holds `eventId`. */
async function partitionOf(db: Database, eventId: string): Promise<string> {
  const result = await db.execute(sql`select tableoid::regclass::text as part from events where event_id = ${eventId}`);
  return rowsOf<{ part: string }>(result)[0]!.part;
}

describe.each(BACKENDS)('the partitioned log on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const store = databaseOn(backend);

    it('makes partitions ahead of the clock, and moves what the default partition caught into them', async () => {
      const start = Date.parse('2031-03-01T00:00:00Z');
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date(start + 10 * MINUTE), groupCommit: GROUP_COMMIT });
      // No partition covers 2031 yet: the write lands in the default partition rather than failing.
      const wallet = await ledger.createWallet({ ownerId: ownerId('ahead'), currency: 'NGN' }, DEFAULT_TENANT);
      const [created] = await new EventLog(store.database.db).read(wallet.ownerId, 0, 10);
      expect(await partitionOf(store.database.db, created!.eventId)).toBe('events_default');

      expect(await ensureEventPartitions(store.database.db, { intervalMs: HOUR, ahead: 1 }, start)).toBe(2);
      const made = (await listEventPartitions(store.database.db)).filter((p) => p.startsAt.getTime() >= start);
      expect(made.map((p) => [p.name, p.startsAt.toISOString(), p.endsAt.toISOString()])).toEqual([
        ['events_p20310301t000000z', '2031-03-01T00:00:00.000Z', '2031-03-01T01:00:00.000Z'],
        ['events_p20310301t010000z', '2031-03-01T01:00:00.000Z', '2031-03-01T02:00:00.000Z'],
      ]);
      expect(await partitionOf(store.database.db, created!.eventId)).toBe('events_p20310301t000000z');
      // Made already: nothing to do until the clock moves on.
      expect(await ensureEventPartitions(store.database.db, { intervalMs: HOUR, ahead: 1 }, start + 59 * MINUTE)).toBe(0);
      expect(await ensureEventPartitions(store.database.db, { intervalMs: HOUR, ahead: 1 }, start + 60 * MINUTE)).toBe(1);
    });

    it('drops a partition whole: watermarks move past its events, readers behind are told, the rest is served', async () => {
      const start = Date.parse('2032-05-01T00:00:00Z');
      await ensureEventPartitions(store.database.db, { intervalMs: HOUR, ahead: 1 }, start);
      while ((await dropOldestEventPartition(store.database.db, new Date(start))) > 0); // another test's older partitions
      let clock = start;
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date(clock), groupCommit: GROUP_COMMIT });
      const log = new EventLog(store.database.db);
      const feed = new FirehoseLog(store.database.db);
      const tenant = `drop-${backend.name}`;
      const owner = ownerId('drop');
      const at = (minutes: number) => (clock = start + minutes * MINUTE);
      at(10);
      const wallet = await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, tenant); // 1 in the first hour
      const credit = (key: string) => ledger.postTransaction({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 5n, status: 'SUCCESS', idempotencyKey: key }, 'svc');
      at(70);
      await credit('a'); // 2, 3 in the second hour
      at(50);
      await credit('b'); // 4, 5 in the first hour: it started earlier and committed later
      at(80);
      await credit('c'); // 6, 7 in the second hour
      let firehose = await feed.read(null, 100, { tenant });
      for (const deadline = Date.now() + 15_000; firehose.length < 7 && Date.now() < deadline; firehose = await feed.read(null, 100, { tenant })) await new Promise((r) => setTimeout(r, 20));
      expect(firehose.map((e) => e.event.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      // Not due while any of the first hour is younger than the cutoff.
      expect(await dropOldestEventPartition(store.database.db, new Date(start + 59 * MINUTE))).toBe(0);
      expect(await dropOldestEventPartition(store.database.db, new Date(start + HOUR))).toBe(1);

      // The first hour held up to 5, so the log keeps 6 and 7 (2 and 3 went with it: below the cut).
      expect((await log.read(owner, 0, 100)).map((e) => e.sequence)).toEqual([6, 7]);
      expect(await log.bounds(owner)).toEqual({ first: 6, last: 7 });
      expect((await listEventPartitions(store.database.db)).some((p) => p.name === 'events_p20320501t000000z')).toBe(false);
      // The firehose: behind the last dropped transaction is CURSOR_EXPIRED; from it, the rest.
      await expect(feed.read(firehose[2]!.position, 100, { tenant })).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' });
      expect((await feed.read(firehose[4]!.position, 100, { tenant })).map((e) => e.event.sequence)).toEqual([6, 7]);
      expect((await feed.read(FIREHOSE_START, 100, { tenant })).map((e) => e.event.sequence)).toEqual([6, 7]);
      await expect(feed.read(firehose[0]!.position, 100, { tenant: 'untouched' })).resolves.toEqual([]);
    });
  });
});

describe.each(BACKENDS)('retention by partition on a running server, $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    // One-second partitions kept three seconds: old ones go within seconds, new ones stay long enough to read.
    const t = serverOn(backend, { EVENT_PARTITION_INTERVAL: '1s', EVENT_RETENTION: '3s', PRUNE_INTERVAL: '200ms' });
    const EVENTS = 'query($a: String) { events(after: $a, first: 50) { edges { cursor node { sequence } } } }';
    const FEED = 'query($a: String) { feed(after: $a, first: 50) { edges { cursor node { sequence } } pageInfo { endCursor } } }';

    it('tells readers behind a dropped partition CURSOR_EXPIRED and gives readers after it every event', async () => {
      const owner = ownerId('partition-drop');
      const userToken = await token(owner);
      const wallet = await t.ops.createWallet(owner);
      for (let i = 0; i < 2; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const old = (await gqlData(t.server.url, userToken, EVENTS, {})).events.edges;
      expect(old.map((e: any) => e.node.sequence)).toEqual([1, 2, 3, 4, 5]);
      let oldFeed: string | null = null;
      // The feed's cursor after the first event (the horizon may hold a fresh commit back a moment).
      await waitUntil(async () => (oldFeed = (await gqlData(t.server.url, t.serviceToken, FEED, {})).feed.edges[0]?.cursor ?? null) !== null);

      // The job drops the partitions that held them.
      await waitUntil(async () => (await gqlData(t.server.url, userToken, EVENTS, {})).events.edges.length === 0, 15_000);
      for (let i = 0; i < 2; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const kept = (await gqlData(t.server.url, userToken, EVENTS, {})).events.edges;
      expect(kept.map((e: any) => e.node.sequence)).toEqual([6, 7, 8, 9]);

      // Behind the dropped range: told, never skipped.
      expect(codes(await gql(t.server.url, userToken, EVENTS, { a: old[1].cursor }))).toEqual(['CURSOR_EXPIRED']);
      expect(codes(await gql(t.server.url, t.serviceToken, FEED, { a: oldFeed }))).toEqual(['CURSOR_EXPIRED']);
      const client = wsClient(t.server.wsUrl, userToken);
      try {
        const behind = subscribeWs(client, 'subscription($a: String) { walletEvents(after: $a) { sequence } }', { a: old[1].cursor });
        await behind.ended;
        expect(JSON.stringify(behind.errors)).toContain('CURSOR_EXPIRED');
        // Inside the kept range: every event after the cursor, once, in order.
        const inside = subscribeWs<{ sequence: number }>(client, 'subscription($a: String) { walletEvents(after: $a) { sequence } }', { a: kept[0].cursor });
        expect((await inside.waitFor(3)).map((e) => e.sequence)).toEqual([7, 8, 9]);
        inside.dispose();
      } finally {
        await client.dispose();
      }
    });
  });
});

/** The migrations folder cut after `last` (its journal too), to build a database as an older release left it. */
async function migrationsUpTo(last: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  await cp('drizzle', dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((entry) => entry.tag === last) + 1);
  await writeFile(journalPath, JSON.stringify(journal));
  return dir;
}

describe.each(BACKENDS)('the migration to a partitioned log on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    it('keeps every event of an unpartitioned log, attached as one partition that retention later drops whole', async () => {
      const older = await migrationsUpTo('0014_wallet_rule_count');
      const env = await prepareBackend(backend);
      const dataDir = await mkdtemp(join(tmpdir(), 'pglite-migration-'));
      const url = env.env.DATABASE_URL;
      try {
        // The database as the release before partitioning left it, with a log in it.
        const owner = ownerId('migrated');
        const written = async (db: Database) => {
          const ledger = new Ledger(db, { publish: async () => {} }, { clock: () => new Date('2026-06-01T00:00:00Z'), groupCommit: GROUP_COMMIT });
          const wallet = await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, DEFAULT_TENANT);
          for (let i = 0; i < 50; i++) await ledger.postTransaction({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 1n, status: 'SUCCESS', idempotencyKey: `m${i}` }, 'svc');
        };
        if (url) {
          const client = postgresJs(url, { max: 1, onnotice: () => {} });
          const db = drizzlePostgres(client, { schema });
          await migratePostgres(db, { migrationsFolder: older });
          await written(db as unknown as Database);
          await client.end();
        } else {
          const client = await PGlite.create(dataDir);
          const db = drizzlePglite(client, { schema });
          await migratePglite(db, { migrationsFolder: older });
          await written(db as unknown as Database);
          await client.close();
        }

        const handle = url ? await openPostgres(url, 2) : await openPglite(dataDir);
        try {
          const log = new EventLog(handle.db);
          const before = await log.read(owner, 0, 1_000);
          expect(before.map((e) => e.sequence)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
          expect(await partitionOf(handle.db, before[0]!.eventId)).toBe('events_before_partitioning');
          const [attached] = await listEventPartitions(handle.db);
          expect(attached!.name).toBe('events_before_partitioning');
          expect(attached!.endsAt.toISOString()).toBe('2026-06-01T00:00:00.001Z');

          // New writes go to partitions of their own period; the old log goes whole once it has aged out.
          await ensureEventPartitions(handle.db, { intervalMs: 24 * HOUR, ahead: 1 }, Date.parse('2026-06-02T12:00:00Z'));
          expect(await dropOldestEventPartition(handle.db, new Date('2026-06-01T00:00:00Z'))).toBe(0);
          expect(await dropOldestEventPartition(handle.db, new Date('2026-06-01T00:00:01Z'))).toBe(1);
          expect(await log.read(owner, 0, 1_000)).toEqual([]);
          expect(await log.bounds(owner)).toEqual({ first: 102, last: 101 });
        } finally {
          await handle.close();
        }
      } finally {
        await env.dispose();
        await rm(older, { recursive: true, force: true });
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
});
