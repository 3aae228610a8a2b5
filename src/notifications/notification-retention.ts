/**
 * Notifications and fraud flags are kept as long as events (EVENT_RETENTION): a
 * notification outliving the event that caused it would point at nothing.
 */
import { lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { fraudFlags, notificationInboxes, notifications } from '../db/schema.ts';
import { rowsOf } from '../db/client.ts';

/**
 * Deletes up to `batch` notifications made before `before`, lowering their owners' unread
 * counts by the unread ones among them (in owner order, as every change of several inboxes
 * does). Returns how many went.
 */
export async function pruneNotifications(db: Database, before: Date, batch = 5_000): Promise<number> {
  return db.transaction(async (tx) => {
    const result = await tx.execute(
      sql`with doomed as (
            select id from ${notifications} where ${notifications.createdAt} < ${before.toISOString()}::timestamptz order by ${notifications.position} limit ${batch}
          ), gone as (
            delete from ${notifications} n using doomed where n.id = doomed.id returning n.owner_id, n.read_at
          ), unread as (
            select owner_id, count(*) as count from gone where read_at is null group by owner_id
          ), lowered as (
            update ${notificationInboxes} i set unread = greatest(i.unread - unread.count, 0) from unread where i.owner_id = unread.owner_id returning i.owner_id
          )
          select (select count(*) from gone) as removed`,
    );
    return Number(rowsOf<{ removed: number | string }>(result)[0]!.removed);
  });
}

/** Deletes up to `batch` fraud flags raised before `before`; returns how many went. */
export async function pruneFraudFlags(db: Database, before: Date, batch = 5_000): Promise<number> {
  const doomed = db.select({ id: fraudFlags.id }).from(fraudFlags).where(lt(fraudFlags.createdAt, before)).limit(batch);
  const gone = await db.delete(fraudFlags).where(sql`${fraudFlags.id} in (${doomed})`).returning({ id: fraudFlags.id });
  return gone.length;
}
