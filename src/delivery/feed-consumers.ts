/**
 * Durable firehose consumers: a stored position in feed order per (tenant, principal,
 * name), moved forward only by acks. A back-office worker that names one and no `after`
 * restarts where it acked, whichever instance it reaches.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { feedConsumers } from '../db/schema.ts';
import { FEED_START, type FeedPosition } from '../domain/events.ts';
import { createFeedConsumerWithinQuota } from './consumer-quota.ts';

/** Which firehose consumer: the tenant feed it follows (null: every tenant's, an admin's), whose it is, its name. */
export interface FeedConsumerKey {
  tenant: string | null;
  principal: string;
  name: string;
}

/** The stored tenant of a consumer of every tenant's feed (not a tenant name: those cannot contain `*`). */
const ALL_TENANTS = '*';


export class FeedConsumers {
  constructor(
    private readonly db: Database,
    /** Firehose consumers one principal may keep per tenant. */
    private readonly limit: number,
  ) {}

  /** The consumer's position, refreshing its lifetime; null for a consumer not seen before. */
  async positionOf(key: FeedConsumerKey): Promise<FeedPosition | null> {
    const [row] = await this.db.update(feedConsumers).set({ updatedAt: new Date() }).where(this.keyIs(key)).returning();
    return row ? { txId: row.txId, ownerId: row.ownerId, sequence: row.sequence } : null;
  }

  /** Stores a new consumer at `start` (the feed's end when it first subscribed); LIMIT_EXCEEDED past the quota. */
  async create(key: FeedConsumerKey, start: FeedPosition | null): Promise<void> {
    const at = start ?? FEED_START;
    const tenantId = key.tenant ?? ALL_TENANTS;
    await createFeedConsumerWithinQuota(this.db, { tenantId, principal: key.principal }, this.limit, (tx) =>
      tx
        .insert(feedConsumers)
        .values({ tenantId, principal: key.principal, name: key.name, txId: at.txId, ownerId: at.ownerId, sequence: at.sequence, updatedAt: new Date() })
        .onConflictDoNothing(),
    );
  }

  /**
   * Moves the consumers named `name` of `principal` that follow `tenant` (or every tenant)
   * to `position`, unless they are there or beyond. Returns the position stored for the
   * tenant's consumer, or null when the principal has no firehose consumer of that name.
   */
  async ack(tenant: string, principal: string, name: string, position: FeedPosition): Promise<FeedPosition | null> {
    const theirs = and(sql`${feedConsumers.tenantId} in (${tenant}, ${ALL_TENANTS})`, eq(feedConsumers.principal, principal), eq(feedConsumers.name, name));
    const behind = sql`(${feedConsumers.txId}, ${feedConsumers.ownerId}, ${feedConsumers.sequence}) < (${position.txId}, ${position.ownerId}, ${position.sequence})`;
    await this.db.update(feedConsumers).set({ txId: position.txId, ownerId: position.ownerId, sequence: position.sequence, updatedAt: new Date() }).where(and(theirs, behind));
    const rows = await this.db.select().from(feedConsumers).where(theirs);
    const row = rows.find((r) => r.tenantId === tenant) ?? rows[0];
    return row ? { txId: row.txId, ownerId: row.ownerId, sequence: row.sequence } : null;
  }

  /** Forgets consumers neither used nor acked since `before`; returns how many went. */
  async prune(before: Date): Promise<number> {
    const gone = await this.db.delete(feedConsumers).where(lt(feedConsumers.updatedAt, before)).returning({ name: feedConsumers.name });
    return gone.length;
  }

  private keyIs(key: FeedConsumerKey) {
    return and(eq(feedConsumers.tenantId, key.tenant ?? ALL_TENANTS), eq(feedConsumers.principal, key.principal), eq(feedConsumers.name, key.name));
  }
}
