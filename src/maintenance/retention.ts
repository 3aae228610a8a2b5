/**
 * What is deleted, and when: one timer runs every pruning task of an instance in turn
 * (events past retention, forgotten idempotency keys and consumers, revocations no token
 * can match any more). Tasks are given by the composition root; each deletes in batches.
 *
 * Events go by a prefix of each owner's log, never by time alone: `occurred_at` is taken
 * when a writing transaction starts, so it is not monotonic in sequence, and deleting by
 * time could remove sequence n+1 and keep n. Here an owner's log is cut just before its
 * first event that is still young, and the owner's retention watermark moves there in the
 * same statement, so what a reader finds between the watermark and the head has no hole.
 * The same statement raises each tenant's firehose watermark past the pruned events, so a
 * feed cursor behind it is told CURSOR_EXPIRED instead of skipping them.
 */
import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/client.ts';
import { events, firehoseWatermarks, owners } from '../db/schema.ts';
import type { Logger } from '../logging/logger.ts';

/** One kind of thing to delete: returns how many rows went. */
export interface PruneTask {
  name: string;
  run(now: number): Promise<number>;
}

/** Events per round of {@link pruneEvents}, and most events one owner loses per round. */
export const EVENT_PRUNE_BATCH = 5_000;

/**
 * Deletes, for owners with events older than `before` in the default partition (written
 * outside every partition's range; the partitions themselves go whole, see
 * partition-retention.ts), the prefix of their log up to their
 * first event at or after `before` (at most `batch` events per owner), and raises their
 * watermark to match. Returns how many events went; call again while it returns any.
 */
export async function pruneEvents(db: Database, before: Date, batch = EVENT_PRUNE_BATCH): Promise<number> {
  const cutoff = before.toISOString();
  const result = await db.execute(sql`
    with candidates as (
      select distinct owner_id from (select owner_id from events_default where occurred_at < ${cutoff}::timestamptz limit ${batch}) old
    ), cuts as (
      select o.owner_id, least(
        coalesce((select min(e.sequence) from ${events} e where e.owner_id = o.owner_id and e.sequence >= o.first_sequence and e.occurred_at >= ${cutoff}::timestamptz), o.last_sequence + 1),
        o.first_sequence + ${batch}
      ) as keep_from
      from ${owners} o join candidates c on c.owner_id = o.owner_id
    ), moved as (
      update ${owners} o set first_sequence = cuts.keep_from from cuts
      where o.owner_id = cuts.owner_id and cuts.keep_from > o.first_sequence
      returning o.owner_id, o.first_sequence
    ), deleted as (
      delete from ${events} e using ${owners} o
      where e.owner_id = o.owner_id and o.owner_id in (select owner_id from candidates) and e.sequence < coalesce((select m.first_sequence from moved m where m.owner_id = o.owner_id), o.first_sequence)
      returning e.tenant_id, e.tx_id
    ), floors as (
      insert into ${firehoseWatermarks} (tenant_id, tx_id) select tenant_id, max(tx_id) from deleted group by tenant_id
      on conflict (tenant_id) do update set tx_id = greatest(${firehoseWatermarks.txId}, excluded.tx_id)
      returning 1
    )
    select (select count(*)::int from deleted) as removed, (select count(*) from floors) as floors`);
  return Number(rowsOf<{ removed: number | string }>(result)[0]?.removed ?? 0);
}

/** Runs every task every `intervalMs`, each until it has nothing left; returns the stop function. */
export function startRetentionJob(tasks: readonly PruneTask[], intervalMs: number, logger: Logger): () => void {
  let running = false;
  const prune = async () => {
    if (running) return; // a slow database must not pile runs up
    running = true;
    const now = Date.now();
    for (const task of tasks) {
      try {
        let total = 0;
        for (let removed = -1; removed !== 0; total += removed) removed = Math.max(0, await task.run(now));
        if (total > 0) logger.info('pruned', { what: task.name, removed: total });
      } catch (error) {
        logger.warn('pruning failed', { what: task.name, error: (error as Error).message });
      }
    }
    running = false;
  };
  const timer = setInterval(prune, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
