/** The owner's notification inbox row: its unread count, and the lock that orders notification changes. */
import { sql } from 'drizzle-orm';
import { notificationInboxes } from '../db/schema.ts';
import { rowsOf, type Tx } from '../db/client.ts';

/**
 * Locks the owner's inbox row (creating it when missing) until the transaction ends and
 * returns its unread count. Whatever changes an owner's rules or notifications takes this
 * first, so two such changes of one owner queue here instead of crossing each other.
 */
export async function lockInbox(tx: Tx, ownerId: string): Promise<number> {
  const result = await tx.execute(
    sql`insert into ${notificationInboxes} (owner_id, unread) values (${ownerId}, 0)
        on conflict (owner_id) do update set unread = ${notificationInboxes.unread} returning unread`,
  );
  return Number(rowsOf<{ unread: number | string }>(result)[0]!.unread);
}
