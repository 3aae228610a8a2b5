/**
 * The log past one database: replay served by a streaming replica against replay served by
 * the primary (the primary's CPU for each), and retention on a large log, dropping a day's
 * partition against deleting the same rows one by one (time and WAL bytes).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { sql } from 'drizzle-orm';
import { openPostgres, rowsOf, type Database } from '../../src/db/client.ts';
import { ensureEventPartitions } from '../../src/db/event-partitions.ts';
import { encodeCursor } from '../../src/domain/events.ts';
import { dropOldestEventPartition } from '../../src/maintenance/partition-retention.ts';
import { pruneEvents } from '../../src/maintenance/retention.ts';
import { producer } from '../support/ledger-ops.ts';
import { startReplicatedPostgres } from '../support/replication.ts';
import type { ServerProcess } from '../support/server.ts';
import { token } from '../support/tokens.ts';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]) => `${Math.min(...values).toLocaleString('en')}–${Math.max(...values).toLocaleString('en')}`;

/** CPU milliseconds the cluster under `postmaster` has used: its own, its reaped children's, and its live children's. */
function clusterCpuMs(postmaster: number): number {
  const ticks = (pid: number, withChildren: boolean) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based over the whole line).
    const used = Number(fields[11]) + Number(fields[12]);
    return withChildren ? used + Number(fields[13]) + Number(fields[14]) : used;
  };
  let total = ticks(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[1]) === postmaster) total += ticks(Number(entry), false);
    } catch {
      // the process ended while the list was read
    }
  }
  return total * 10; // USER_HZ is 100 on Linux
}

const REPLAY = 'subscription($after: String) { walletEvents(after: $after) { eventId sequence type ... on TransactionEvent { transaction { id amount status } } ... on BalanceEvent { balance { available } } } }';

/** `clients` graphql-ws clients replay the owner's whole log at once; resolves with the elapsed milliseconds. */
async function storm(wsUrl: string, owner: string, expected: number, clients: number): Promise<number> {
  const bearer = await token(owner);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${bearer}` } });
      await new Promise<void>((resolve, reject) => {
        let received = 0;
        const stop = client.subscribe(
          { query: REPLAY, variables: { after: encodeCursor({ ownerId: owner, sequence: 0 }) } },
          {
            next: () => {
              if (++received === expected) {
                stop();
                resolve();
              }
            },
            error: reject,
            complete: () => {},
          },
        );
      });
      await client.dispose();
    }),
  );
  return performance.now() - started;
}

export interface ReplayFrom {
  eventsPerSecond: number[];
  primaryCpuMs: number[];
}

/**
 * A replay storm (`clients` readers of one owner's `events`-event log at once), `runs`
 * times through a server reading the primary and through one reading a replica of it.
 */
export async function benchReplicaReplay(
  spawn: (env: Record<string, string>) => Promise<ServerProcess>,
  events: number,
  clients: number,
  runs: number,
): Promise<{ primary: ReplayFrom; replica: ReplayFrom; events: number; clients: number }> {
  const pg = await startReplicatedPostgres();
  try {
    const onPrimary = await spawn({ DATABASE_URL: pg.primaryUrl });
    const onReplica = await spawn({ DATABASE_URL: pg.primaryUrl, DATABASE_REPLICA_URLS: pg.replicaUrl });
    const owner = `replay-${Date.now().toString(36)}`;
    const ops = producer(onPrimary.url, await token('bench-producer', 'service'));
    const wallet = await ops.createWallet(owner);
    const posts = Math.ceil((events - 1) / 2);
    for (let done = 0; done < posts; done += 1_000) {
      const inputs = Array.from({ length: Math.min(1_000, posts - done) }, (_, i) => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: String(done + i + 1), status: 'SUCCESS' as const, description: 'benchmark top-up' }));
      const res = await ops.postBatchRaw(inputs);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    }
    const total = 1 + posts * 2;
    for (let caught = false; !caught; ) {
      const [row] = await pg.query<{ n: string }>('replica', `select last_sequence::text as n from owners where owner_id = '${owner}'`);
      caught = Number(row?.n ?? 0) === total;
      if (!caught) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const measure = async (server: ServerProcess): Promise<ReplayFrom> => {
      await storm(server.wsUrl, owner, total, 1); // warm-up: connections, prepared statements
      const result: ReplayFrom = { eventsPerSecond: [], primaryCpuMs: [] };
      for (let i = 0; i < runs; i++) {
        const cpu = clusterCpuMs(pg.primaryPid());
        const ms = await storm(server.wsUrl, owner, total, clients);
        result.primaryCpuMs.push(clusterCpuMs(pg.primaryPid()) - cpu);
        result.eventsPerSecond.push(Math.round((total * clients) / (ms / 1000)));
      }
      return result;
    };
    const primary = await measure(onPrimary);
    const replica = await measure(onReplica);
    await onPrimary.kill('SIGKILL');
    await onReplica.kill('SIGKILL');
    return { primary, replica, events: total, clients };
  } finally {
    await pg.stop();
  }
}

/** Time and WAL of one retention step. */
export interface RetentionCost {
  ms: number;
  walBytes: number;
  /** Time of the VACUUM the step leaves to do (0 for a drop: no dead rows). */
  vacuumMs: number;
}

const DAY = 86_400_000;
const FIRST_DAY = Date.parse('2026-01-01T00:00:00Z');

/** Fills a log of `events` events over two days, `owners` owners, half on each day. */
async function fillTwoDays(db: Database, events: number, owners: number): Promise<void> {
  const perOwner = Math.floor(events / owners);
  const half = Math.floor(perOwner / 2);
  const first = new Date(FIRST_DAY).toISOString();
  await db.execute(sql`insert into owners (owner_id, last_sequence, first_sequence) select 'owner-' || i, ${perOwner}, 1 from generate_series(1, ${owners}) i`);
  await db.execute(sql`
    insert into events (event_id, owner_id, sequence, wallet_id, type, occurred_at, data, tenant_id)
    select gen_random_uuid(), 'owner-' || (g % ${owners} + 1), g / ${owners} + 1, '00000000-0000-4000-8000-000000000001', 'BALANCE',
           ${first}::timestamptz + ((g / ${owners}) * (interval '1 day' / ${half})),
           jsonb_build_object('balance', jsonb_build_object('available', (g % 100000)::text, 'ledger', (g % 100000)::text, 'pending', '0', 'currency', 'NGN'), 'transactionId', gen_random_uuid()),
           'default'
    from generate_series(0, ${perOwner * owners - 1}) g`);
  await db.execute(sql`analyze events`);
}

async function walPosition(db: Database): Promise<string> {
  return rowsOf<{ lsn: string }>(await db.execute(sql`select pg_current_wal_lsn()::text as lsn`))[0]!.lsn;
}

async function walSince(db: Database, from: string): Promise<number> {
  return Number(rowsOf<{ bytes: string }>(await db.execute(sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::text as bytes`))[0]!.bytes);
}

async function timed(db: Database, step: () => Promise<unknown>): Promise<{ ms: number; walBytes: number }> {
  await db.execute(sql`checkpoint`); // both start from clean pages: full-page images count where a step touches pages
  const from = await walPosition(db);
  const started = performance.now();
  await step();
  return { ms: performance.now() - started, walBytes: await walSince(db, from) };
}

/**
 * Retention of the first day of a two-day, `events`-event log: in one database the day is a
 * partition and goes whole; in another the same rows lie outside the partitions and are
 * deleted the way rows are (a prefix per owner, in rounds).
 */
/**
 * The drop alone, on a two-day `events`-event log over `owners` owners: what it costs grows
 * with the owners whose watermarks it moves, not with the rows it removes.
 */
export async function benchPartitionDrop(url: string, events: number, owners: number): Promise<RetentionCost & { deleted: number }> {
  const database = await openPostgres(url, 2);
  try {
    await ensureEventPartitions(database.db, { intervalMs: DAY, ahead: 1 }, FIRST_DAY);
    await fillTwoDays(database.db, events, owners);
    const count = async () => Number(rowsOf<{ n: string }>(await database.db.execute(sql`select count(*)::text as n from events`))[0]!.n);
    const before = await count();
    const drop = await timed(database.db, () => dropOldestEventPartition(database.db, new Date(FIRST_DAY + DAY)));
    return { ...drop, vacuumMs: 0, deleted: before - (await count()) };
  } finally {
    await database.close();
  }
}

export async function benchRetention(urls: [string, string], events: number, owners: number): Promise<{ drop: RetentionCost; rows: RetentionCost; deleted: number }> {
  const [partitioned, unpartitioned] = await Promise.all(urls.map((url) => openPostgres(url, 2)));
  try {
    // Partitions for both days here; only for the second day there.
    await ensureEventPartitions(partitioned!.db, { intervalMs: DAY, ahead: 1 }, FIRST_DAY);
    await ensureEventPartitions(unpartitioned!.db, { intervalMs: DAY, ahead: 0 }, FIRST_DAY + DAY);
    await Promise.all([fillTwoDays(partitioned!.db, events, owners), fillTwoDays(unpartitioned!.db, events, owners)]);
    const count = async (db: Database) => Number(rowsOf<{ n: string }>(await db.execute(sql`select count(*)::text as n from events`))[0]!.n);
    const before = await count(partitioned!.db);
    const cutoff = new Date(FIRST_DAY + DAY);
    const drop = await timed(partitioned!.db, () => dropOldestEventPartition(partitioned!.db, cutoff));
    const deleted = before - (await count(partitioned!.db));
    const rows = await timed(unpartitioned!.db, async () => {
      while ((await pruneEvents(unpartitioned!.db, cutoff)) > 0);
    });
    if ((await count(unpartitioned!.db)) !== before - deleted) throw new Error('the two ways removed different rows');
    const vacuumStarted = performance.now();
    await unpartitioned!.db.execute(sql`vacuum events_default`);
    return { drop: { ...drop, vacuumMs: 0 }, rows: { ...rows, vacuumMs: performance.now() - vacuumStarted }, deleted };
  } finally {
    await partitioned!.close();
    await unpartitioned!.close();
  }
}

export { median, spread };
