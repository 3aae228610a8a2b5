/**
 * Retention by partition: the log's oldest partition goes whole once all of it is older
 * than the cutoff. Dropping a partition costs the same for a thousand rows or a billion: no
 * row is deleted, so no dead tuples, no vacuum, and a few kilobytes of WAL.
 *
 * What the readers' watermarks must learn is found without reading the partition's rows:
 * a loose scan of its (owner, sequence) index visits each owner once and takes the last
 * sequence it holds, and the same over (tenant, tx id) gives each tenant's firehose floor.
 * Each owner's watermark moves past that sequence. `occurred_at` is not monotonic in
 * sequence (see retention.ts), so a later partition may hold a few of the owner's events
 * below it (a transaction that started before the boundary and committed after a later
 * one): those go too, so the owner's log stays exactly its watermark to its head.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { listEventPartitions, lockPartitions } from '../db/event-partitions.ts';
import { eventPartitions } from '../db/schema.ts';
import { eq } from 'drizzle-orm';

/** How long a drop waits for readers and writers of the log to let go before it tries again on the next run. */
const DROP_LOCK_TIMEOUT = '2s';

/**
 * Drops the oldest partition that ends at or before `before`, moving every watermark past
 * its events in the same transaction. Returns 1 when it dropped one, 0 when none was due.
 */
export async function dropOldestEventPartition(db: Database, before: Date): Promise<number> {
  return db.transaction(async (tx) => {
    await lockPartitions(tx);
    const [oldest] = await listEventPartitions(tx);
    if (!oldest || oldest.endsAt.getTime() > before.getTime()) return 0;
    const part = sql.identifier(oldest.name);
    await tx.execute(sql.raw(`set local lock_timeout = '${DROP_LOCK_TIMEOUT}'`));
    await tx.execute(sql`
      with recursive owners_in(owner_id) as (
        (select owner_id from ${part} order by owner_id limit 1)
        union all
        select (select p.owner_id from ${part} p where p.owner_id > o.owner_id order by p.owner_id limit 1) from owners_in o where o.owner_id is not null
      ), cuts as (
        select o.owner_id, (select max(p.sequence) from ${part} p where p.owner_id = o.owner_id) as last from owners_in o where o.owner_id is not null
      ), tenants_in(tenant_id) as (
        (select tenant_id from ${part} order by tenant_id limit 1)
        union all
        select (select p.tenant_id from ${part} p where p.tenant_id > t.tenant_id order by p.tenant_id limit 1) from tenants_in t where t.tenant_id is not null
      ), moved as (
        update owners w set first_sequence = cuts.last + 1 from cuts where w.owner_id = cuts.owner_id and w.first_sequence <= cuts.last
        returning w.owner_id
      ), stragglers as (
        delete from events e using cuts
        where e.owner_id = cuts.owner_id and e.sequence <= cuts.last and e.occurred_at >= ${oldest.endsAt.toISOString()}::timestamptz
        returning e.tenant_id, e.tx_id
      ), floors as (
        select t.tenant_id, (select max(p.tx_id) from ${part} p where p.tenant_id = t.tenant_id) as tx_id from tenants_in t where t.tenant_id is not null
        union all
        select tenant_id, tx_id from stragglers
      )
      insert into feed_watermarks (tenant_id, tx_id) select tenant_id, max(tx_id) from floors group by tenant_id
      on conflict (tenant_id) do update set tx_id = greatest(feed_watermarks.tx_id, excluded.tx_id)`);
    await tx.execute(sql`drop table ${part}`);
    await tx.delete(eventPartitions).where(eq(eventPartitions.name, oldest.name));
    return 1;
  });
}
