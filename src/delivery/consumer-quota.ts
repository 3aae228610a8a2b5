/**
 * The bound on durable consumers: one principal may keep at most a configured number of
 * consumers (and of saved preferences) per owner, so a client that invents a new consumer
 * name per connection cannot grow the tables without limit.
 */
import { and, count, eq, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client.ts';
import { consumerCursors, subscriptionPreferences } from '../db/schema.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';

type ConsumerTable = typeof consumerCursors | typeof subscriptionPreferences;

/**
 * Runs `create` (which inserts one new row for `ownerId` and `principal` into `table`)
 * unless that principal already has `limit` rows for the owner: then LIMIT_EXCEEDED.
 * An advisory lock on (table, owner, principal) makes concurrent creations count exactly.
 */
export async function createWithinQuota<T>(
  db: Database,
  table: ConsumerTable,
  key: { ownerId: string; principal: string },
  limit: number,
  create: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const name = table === consumerCursors ? 'consumer_cursors' : 'subscription_preferences';
    // JSON keeps the three parts apart whatever characters they hold (text may not contain NUL).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${JSON.stringify([name, key.ownerId, key.principal])}, 0))`);
    const [row] = await tx
      .select({ n: count() })
      .from(table)
      .where(and(eq(table.ownerId, key.ownerId), eq(table.principal, key.principal)));
    if ((row?.n ?? 0) >= limit) {
      throw new DomainError(
        ErrorCode.LIMIT_EXCEEDED,
        `at most ${limit} consumers per owner for one token subject; reuse a consumer name (unused ones are forgotten after CONSUMER_RETENTION)`,
        { limit },
      );
    }
    return create(tx);
  });
}
