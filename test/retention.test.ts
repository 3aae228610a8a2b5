/**
 * Retention without holes, and lifetimes for everything that grows:
 * - pruning cuts a prefix of each owner's log (never sequence n+1 while n stays), even
 *   when `occurred_at` is not monotonic in sequence, and raises the owner's watermark;
 * - every reader (stream catch-up, the `events` query, acks) answers CURSOR_EXPIRED
 *   rather than skipping events that are gone;
 * - notifications and fraud flags go with the events, and the unread count with them;
 * - idempotency keys and unused consumers are forgotten after their configured lifetime;
 * - `events(walletId:)` and `events(types:)` are served by indexes, not a walk of the log.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgresJs from 'postgres';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../src/db/client.ts';
import { FirehoseLog } from '../src/firehose/firehose-log.ts';
import { FIREHOSE_START } from '../src/domain/events.ts';
import { DEFAULT_TENANT } from '../src/domain/principal.ts';
import { EventLog } from '../src/streams/event-log.ts';
import { pruneEvents } from '../src/maintenance/retention.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { rowsOf } from '../src/db/client.ts';
import { NotificationReads } from '../src/notifications/notification-reads.ts';
import { pruneFraudFlags, pruneNotifications } from '../src/notifications/notification-retention.ts';
import { BACKENDS, GROUP_COMMIT, label } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { databaseOn, serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const MINUTE = 60_000;

describe.each(BACKENDS)('pruning the log on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const store = databaseOn(backend);

    it('cuts only a contiguous prefix when occurred_at is out of sequence order', async () => {
      const base = Date.parse('2026-01-01T00:00:00Z');
      let clock = base;
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date(clock), groupCommit: GROUP_COMMIT });
      const log = new EventLog(store.database.db);
      const owner = ownerId('prune');
      const at = (minutes: number) => (clock = base + minutes * MINUTE);
      at(0);
      const wallet = await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, DEFAULT_TENANT); // 1 at 0'
      const credit = (key: string) => ledger.postTransaction({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 5n, status: 'SUCCESS', idempotencyKey: key }, 'svc');
      at(30);
      await credit('a'); // 2, 3 at 30'
      at(20);
      await credit('b'); // 4, 5 at 20': a transaction that started earlier and committed later
      at(40);
      await credit('c'); // 6, 7 at 40'
      const sequences = async () => (await log.read(owner, 0, 100)).map((e) => e.sequence);

      // Cut at 25': 4 and 5 are older, but 2 is not, so only 1 may go.
      while ((await pruneEvents(store.database.db, new Date(base + 25 * MINUTE))) > 0);
      expect(await sequences()).toEqual([2, 3, 4, 5, 6, 7]);
      expect(await log.bounds(owner)).toEqual({ first: 2, last: 7 });
      // Cut at 35': everything up to the first young event (6) goes, in one piece.
      while ((await pruneEvents(store.database.db, new Date(base + 35 * MINUTE))) > 0);
      expect(await sequences()).toEqual([6, 7]);
      expect(await log.bounds(owner)).toEqual({ first: 6, last: 7 });
      // Past everything: the log is empty and the watermark sits after the head.
      while ((await pruneEvents(store.database.db, new Date(base + 60 * MINUTE))) > 0);
      expect(await sequences()).toEqual([]);
      expect(await log.bounds(owner)).toEqual({ first: 8, last: 7 });
    });

    it('prunes in bounded rounds: at most the batch size per owner per call', async () => {
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date('2026-02-01T00:00:00Z'), groupCommit: GROUP_COMMIT });
      const owner = ownerId('batch');
      const wallet = await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, DEFAULT_TENANT);
      await ledger.postTransactions(
        Array.from({ length: 20 }, (_, i) => ({ walletId: wallet.id, direction: 'CREDIT' as const, type: 'DEPOSIT' as const, amount: 1n, status: 'SUCCESS' as const, idempotencyKey: `k${i}` })),
        'svc',
      );
      const cutoff = new Date('2026-03-01T00:00:00Z');
      const rounds: number[] = [];
      for (let removed = -1; removed !== 0; ) rounds.push((removed = await pruneEvents(store.database.db, cutoff, 10)));
      expect(rounds.slice(0, 5)).toEqual([10, 10, 10, 10, 1]);
      expect(await new EventLog(store.database.db).bounds(owner)).toEqual({ first: 42, last: 41 });
    });

    it('tells a firehose reader behind what was pruned CURSOR_EXPIRED, and serves the rest', async () => {
      let clock = Date.parse('2026-04-01T00:00:00Z');
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date(clock), groupCommit: GROUP_COMMIT });
      const feed = new FirehoseLog(store.database.db);
      const tenant = `prune-${backend.name}`;
      const scope = { tenant };
      const wallet = await ledger.createWallet({ ownerId: ownerId('feedprune'), currency: 'NGN' }, tenant);
      const credit = (key: string) => ledger.postTransaction({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 5n, status: 'SUCCESS', idempotencyKey: key }, 'svc');
      await credit('old');
      clock += 60 * 60_000;
      await credit('young');
      // 1 (created), 2, 3 (old), 4, 5 (young), once readable (another suite's transaction may hold the horizon a moment).
      let before = await feed.read(null, 100, scope);
      for (const deadline = Date.now() + 15_000; before.length < 5 && Date.now() < deadline; before = await feed.read(null, 100, scope)) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(before.map((e) => e.event.sequence)).toEqual([1, 2, 3, 4, 5]);
      while ((await pruneEvents(store.database.db, new Date(clock - 30 * 60_000))) > 0);

      await expect(feed.read(before[0]!.position, 100, scope)).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' });
      expect((await feed.read(before[2]!.position, 100, scope)).map((e) => e.event.sequence)).toEqual([4, 5]);
      // From the start, the feed is what is retained.
      expect((await feed.read(null, 100, scope)).map((e) => e.event.sequence)).toEqual([4, 5]);
      expect((await feed.read(FIREHOSE_START, 100, scope)).map((e) => e.event.sequence)).toEqual([4, 5]);
      // Another tenant's feed is not affected.
      await expect(feed.read(before[0]!.position, 100, { tenant: 'untouched' })).resolves.toEqual([]);
    });

    it('drops notifications and fraud flags with the events, lowering the unread count by the unread ones that went', async () => {
      const base = Date.parse('2026-02-01T00:00:00Z');
      let clock = base;
      const ledger = new Ledger(store.database.db, { publish: async () => {} }, { clock: () => new Date(clock), groupCommit: GROUP_COMMIT });
      const reads = new NotificationReads(store.database.db);
      const owner = ownerId('keep');
      const wallet = await ledger.createWallet({ ownerId: owner, currency: 'NGN' }, DEFAULT_TENANT);
      const post = (key: string) => ledger.postTransaction({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: 5n, status: 'SUCCESS', idempotencyKey: `${owner}-${key}` }, 'svc');
      const flag = async (key: string) => ledger.flagTransaction({ transactionId: (await post(key)).transaction.id, score: 70, reason: key, flaggedBy: 'risk' });
      await flag('old-read');
      await flag('old-unread');
      const [read] = (await reads.page(owner, 10, null, false)).items.map((item) => item.node).filter((n) => n.body.endsWith('old-read'));
      await ledger.markNotificationsRead(owner, [read!.id]);
      clock = base + 30 * MINUTE;
      await flag('young');
      expect(await reads.unreadCount(owner)).toBe(2);

      const cut = new Date(base + 10 * MINUTE);
      while ((await pruneNotifications(store.database.db, cut, 1)) > 0);
      while ((await pruneFraudFlags(store.database.db, cut, 1)) > 0);
      expect((await reads.page(owner, 10, null, false)).items.map((item) => item.node.body.split(': ').at(-1))).toEqual(['young']);
      expect(await reads.unreadCount(owner)).toBe(1);
      const flags = await store.database.db.execute(sql`select reason from fraud_flags where owner_id = ${owner}`);
      expect(rowsOf<{ reason: string }>(flags).map((row) => row.reason)).toEqual(['young']);
    });
  });
});

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`readers never skip what is gone, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const t = serverOn(postgres, { HEAD_CHECK_INTERVAL: '100ms' });
    const EVENTS = 'query($a: String, $w: ID) { events(after: $a, walletId: $w, first: 50) { edges { node { sequence } } } }';

    /** Runs SQL on the server's database directly: the test's stand-in for a prune that raced a read, or an old hole. */
    async function onDatabase(statement: (db: ReturnType<typeof postgresJs>) => Promise<unknown>): Promise<void> {
      const db = postgresJs(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        await statement(db);
      } finally {
        await db.end();
      }
    }

    it('answers CURSOR_EXPIRED in events, catch-up and acks instead of skipping a hole', async () => {
      const owner = ownerId('hole');
      const wallet = await t.ops.createWallet(owner);
      for (let i = 0; i < 4; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const log = await t.ops.log(owner); // 1..9
      const userToken = await token(owner);
      // Sequence 5 disappears while 4 stays: the log has a hole after 4.
      await onDatabase((db) => db`delete from events where owner_id = ${owner} and sequence = 5`);

      const page = await gql(t.server.url, userToken, EVENTS, { a: log[2].cursor });
      expect(codes(page)).toEqual(['CURSOR_EXPIRED']);
      const stream = subscribeWs(wsClient(t.server.wsUrl, userToken), 'subscription($a: String) { walletEvents(after: $a) { sequence } }', { a: log[2].cursor });
      await stream.ended;
      // The stream says the events are gone rather than jumping from 4 to 6.
      expect(stream.items.map((e) => e.sequence)).not.toContain(6);
      expect((stream.errors[0] as any[])[0].extensions.code).toBe('CURSOR_EXPIRED');

      // Once the watermark says 1..6 are pruned, even a filtered page (which cannot see holes) is refused.
      await onDatabase((db) => db`update owners set first_sequence = 7 where owner_id = ${owner}`);
      expect(codes(await gql(t.server.url, userToken, EVENTS, { a: log[3].cursor, w: wallet.id }))).toEqual(['CURSOR_EXPIRED']);
      expect((await gql(t.server.url, userToken, EVENTS, { a: log[5].cursor, w: wallet.id })).data.events.edges.map((e: any) => e.node.sequence)).toEqual([7, 8, 9]);
      const ack = 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "phone") { sequence } }';
      expect(codes(await gql(t.server.url, userToken, ack, { e: log[3].eventId }))).toEqual(['CURSOR_EXPIRED']);
      expect((await gql(t.server.url, userToken, ack, { e: log[7].eventId })).data.ackEvent.sequence).toBe(8);
    });

    it('serves events(walletId:) and events(types:) from their indexes over a 100,000-event log', async () => {
      const owner = ownerId('big');
      const database = await openPostgres(t.env.env.DATABASE_URL!, 2);
      try {
        // 100,000 events over 100 wallets; one wallet and one type are sparse.
        await database.db.execute(sql`
          insert into events (event_id, owner_id, sequence, wallet_id, type, occurred_at, data)
          select gen_random_uuid(), ${owner}, n,
                 ('00000000-0000-4000-8000-' || lpad((n % 100)::text, 12, '0'))::uuid,
                 case when n % 1000 = 0 then 'WALLET_STATUS' when n % 2 = 0 then 'BALANCE' else 'TRANSACTION' end,
                 now(), '{}'::jsonb
          from generate_series(1, 100000) n`);
        await database.db.execute(sql`insert into owners (owner_id, last_sequence) values (${owner}, 100000)`);
        await database.db.execute(sql`analyze events`);
        const log = new EventLog(database.db);
        const plan = async (query: SQL) => {
          const { sql: text, params } = new PgDialect().sqlToQuery(query);
          const client = postgresJs(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
          try {
            const [row] = await client.unsafe(`explain (analyze, format json) ${text}`, params as never[]);
            return JSON.stringify(row!['QUERY PLAN']);
          } finally {
            await client.end();
          }
        };
        const examined = (json: string) => [...json.matchAll(/"Rows Removed by Filter": (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);

        const byWallet = await plan(log.readQuery(owner, 0, 101, { walletId: '00000000-0000-4000-8000-000000000042' }));
        // Each partition has its own copy of the index, named after the partition and the columns.
        expect(byWallet).toMatch(/owner_id_wallet_id_sequence_idx/);
        // An empty partition may be scanned whole (nothing to read); the filter count says no log was walked.
        expect(examined(byWallet)).toBeLessThan(1_000);

        const byType = await plan(log.readQuery(owner, 0, 101, { types: ['WALLET_STATUS'] }));
        expect(byType).toMatch(/owner_id_type_sequence_idx/);
        expect(examined(byType)).toBeLessThan(1_000);
      } finally {
        await database.close();
      }
    });
  });
});

describe.each(BACKENDS)('lifetimes of keys and consumers on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { IDEMPOTENCY_KEY_RETENTION: '1s', CONSUMER_RETENTION: '1s', PRUNE_INTERVAL: '200ms', MAX_CONSUMERS_PER_OWNER: '2' });

    it('forgets idempotency keys after IDEMPOTENCY_KEY_RETENTION, and consumers unused for CONSUMER_RETENTION', async () => {
      const owner = ownerId('life');
      const wallet = await t.ops.createWallet(owner);
      const input = { walletId: wallet.id, direction: 'CREDIT' as const, amount: '5', status: 'SUCCESS' as const, idempotencyKey: `life-${owner}` };
      const first = await t.ops.postRaw(input);
      expect((await t.ops.postRaw(input)).data!.postTransaction.replayed).toBe(true);

      const userToken = await token(owner);
      const [created] = await t.ops.log(owner);
      const ack = (c: string) => gql(t.server.url, userToken, 'mutation($e: ID!, $c: String!) { ackEvent(eventId: $e, consumer: $c) { sequence } }', { e: created.eventId, c });
      expect(codes(await ack('one'))).toEqual([]);
      expect(codes(await ack('two'))).toEqual([]);
      expect(codes(await ack('three'))).toEqual(['LIMIT_EXCEEDED']);

      // After the lifetimes, the key posts anew and the quota is free again.
      await waitUntil(async () => codes(await ack('three')).length === 0, 10_000);
      const again = await t.ops.postRaw(input);
      expect(again.data!.postTransaction.replayed).toBe(false);
      expect(again.data!.postTransaction.transaction.id).not.toBe(first.data!.postTransaction.transaction.id);
    });
  });
});
