/**
 * The partitions of the event log. `events` is partitioned by range of `occurred_at`
 * (migration 0015); this file makes the partitions ahead of the writers' clock, so that a
 * write lands in a partition of its period and retention can drop a period whole. A row
 * outside every partition (a writer whose clock is far off) lands in `events_default`
 * rather than failing; making a partition moves the default's rows of its range into it.
 *
 * Creating and dropping partitions take one advisory lock, so instances doing it at once
 * take turns, and each records the partition in `event_partitions` in the same transaction.
 */
import { asc, sql } from 'drizzle-orm';
import type { Database, Tx } from './client.ts';
import { eventPartitions } from './schema.ts';

/** How the log is cut: each partition spans `intervalMs`, and `ahead` of them are made in advance of the current one. */
export interface PartitionPlan {
  intervalMs: number;
  ahead: number;
}

/** One partition of the log: rows with `occurred_at` in [startsAt, endsAt). */
export interface EventPartition {
  name: string;
  startsAt: Date;
  endsAt: Date;
}

/** Serializes every change to the partitions across instances. */
const PARTITION_LOCK_KEY = 7_261_554_222;

/** Takes the partitions' lock for the rest of `tx`. */
export async function lockPartitions(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK_KEY})`);
}

/** The partitions, oldest first (the default partition is not listed). */
export async function listEventPartitions(db: Database | Tx): Promise<EventPartition[]> {
  return db.select().from(eventPartitions).orderBy(asc(eventPartitions.endsAt));
}

/** The start of the period holding `at`: periods are aligned on multiples of the interval since the epoch (midnight UTC for days). */
export function periodStart(at: number, intervalMs: number): number {
  return Math.floor(at / intervalMs) * intervalMs;
}

/** A partition's name from its start: `events_p20261206t000000z`. */
export function partitionName(startsAt: number): string {
  return `events_p${new Date(startsAt).toISOString().slice(0, 19).replace(/[-:]/g, '').toLowerCase()}z`;
}

/**
 * The partitions to make so that the log is partitioned for `now`'s period and the `ahead`
 * periods after it, following on from `last` (the end of the newest partition).
 * A log whose partitions stopped before now's period (the server was down) starts again
 * at now's period: what was written in between stays in the default partition.
 */
export function partitionsToMake(last: number | null, now: number, plan: PartitionPlan): { startsAt: number; endsAt: number }[] {
  const until = periodStart(now, plan.intervalMs) + (plan.ahead + 1) * plan.intervalMs;
  let start = Math.max(last ?? -Infinity, periodStart(now, plan.intervalMs));
  const made: { startsAt: number; endsAt: number }[] = [];
  while (start < until) {
    const end = periodStart(start, plan.intervalMs) + plan.intervalMs;
    made.push({ startsAt: start, endsAt: end });
    start = end;
  }
  return made;
}

/** Makes the partitions {@link partitionsToMake} names; returns how many it made. */
export async function ensureEventPartitions(db: Database, plan: PartitionPlan, now = Date.now()): Promise<number> {
  return db.transaction(async (tx) => {
    await lockPartitions(tx);
    const newest = (await listEventPartitions(tx)).at(-1);
    const due = partitionsToMake(newest ? newest.endsAt.getTime() : null, now, plan);
    for (const range of due) await makePartition(tx, range.startsAt, range.endsAt);
    return due.length;
  });
}

async function makePartition(tx: Tx, startsAt: number, endsAt: number): Promise<void> {
  const name = partitionName(startsAt);
  // Bounds of a partition are literals in DDL, not parameters; these are ISO strings we made.
  const from = sql.raw(`'${new Date(startsAt).toISOString()}'::timestamptz`);
  const to = sql.raw(`'${new Date(endsAt).toISOString()}'::timestamptz`);
  // A partition cannot be made while the default one holds rows of its range: lift them out
  // first and put them back through the parent once the partition exists.
  await tx.execute(sql`create temporary table if not exists partition_move (like events) on commit delete rows`);
  await tx.execute(sql`with moved as (delete from events_default where occurred_at >= ${from} and occurred_at < ${to} returning *) insert into partition_move select * from moved`);
  await tx.execute(sql`create table ${sql.identifier(name)} partition of events for values from (${from}) to (${to})`);
  await tx.execute(sql`insert into events select * from partition_move`);
  await tx.execute(sql`delete from partition_move`);
  await tx.insert(eventPartitions).values({ name, startsAt: new Date(startsAt), endsAt: new Date(endsAt) });
}
