/**
 * The bound on durable consumers: one principal may keep at most a configured number of
 * consumers (and of saved preferences) per owner, and of firehose consumers per tenant, so
 * a client that invents a new consumer name per connection cannot grow the tables without
 * limit.
 */
import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database, Tx } from '../db/client.ts';
import { consumerCursors, firehoseConsumers, subscriptionPreferences } from '../db/schema.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';

type ConsumerTable = typeof consumerCursors | typeof subscriptionPreferences;

/**
 * Runs `create` (which inserts one new row for `ownerId` and `principal` into `table`)
 * unless that principal already has `limit` rows for the owner: then LIMIT_EXCEEDED.
 */
export function createWithinQuota<T>(db: Database, table: ConsumerTable, key: { ownerId: string; principal: string }, limit: number, create: (tx: Tx) => Promise<T>): Promise<T> {
  const name = table === consumerCursors ? 'consumer_cursors' : 'subscription_preferences';
  const where = and(eq(table.ownerId, key.ownerId), eq(table.principal, key.principal))!;
  return withinQuota(db, [name, key.ownerId, key.principal], table, where, limit, `at most ${limit} consumers per owner for one token subject`, create);
}

/** The same for firehose consumers: at most `limit` per principal per tenant. */
export function createFeedConsumerWithinQuota<T>(db: Database, key: { tenantId: string; principal: string }, limit: number, create: (tx: Tx) => Promise<T>): Promise<T> {
  const where = and(eq(firehoseConsumers.tenantId, key.tenantId), eq(firehoseConsumers.principal, key.principal))!;
  return withinQuota(db, ['feed_consumers', key.tenantId, key.principal], firehoseConsumers, where, limit, `at most ${limit} firehose consumers per tenant for one token subject`, create);
}

/**
 * Counts the rows `where` selects in `table` and runs `create` below `limit`. An advisory
 * lock on `lockParts` makes concurrent creations count exactly.
 */
async function withinQuota<T>(db: Database, lockParts: string[], table: PgTable, where: SQL, limit: number, what: string, create: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // JSON keeps the parts apart whatever characters they hold (text may not contain NUL).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${JSON.stringify(lockParts)}, 0))`);
    const [row] = await tx.select({ n: count() }).from(table).where(where);
    if ((row?.n ?? 0) >= limit) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `${what}; reuse a consumer name (unused ones are forgotten after CONSUMER_RETENTION)`, { limit });
    }
    return create(tx);
  });
}
