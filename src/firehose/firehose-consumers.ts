/**
 * Durable firehose consumers: a stored position in feed order per (tenant, principal,
 * name), moved forward only by acks. A back-office worker that names one and no `after`
 * restarts where it acked, whichever instance it reaches.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { firehoseConsumers } from '../db/schema.ts';
import { FIREHOSE_START, type FirehosePosition } from '../domain/events.ts';
import { createFeedConsumerWithinQuota } from '../streams/consumer-quota.ts';

/** Which firehose consumer: the tenant feed it follows (null: every tenant's, an admin's), whose it is, its name. */
export interface FirehoseConsumerKey {
  tenant: string | null;
  principal: string;
  name: string;
}

/** The stored tenant of a consumer of every tenant's feed (not a tenant name: those cannot contain `*`). */
const ALL_TENANTS = '*';


export class FirehoseConsumers {
  constructor(
    private readonly db: Database,
    /** Firehose consumers one principal may keep per tenant. */
    private readonly limit: number,
  ) {}

  /** The consumer's position, refreshing its lifetime; null for a consumer not seen before. */
  async positionOf(key: FirehoseConsumerKey): Promise<FirehosePosition | null> {
    const [row] = await this.db.update(firehoseConsumers).set({ updatedAt: new Date() }).where(this.keyIs(key)).returning();
    return row ? { txId: row.txId, ownerId: row.ownerId, sequence: row.sequence } : null;
  }

  /** Stores a new consumer at `start` (the feed's end when it first subscribed); LIMIT_EXCEEDED past the quota. */
  async create(key: FirehoseConsumerKey, start: FirehosePosition | null): Promise<void> {
    const at = start ?? FIREHOSE_START;
    const tenantId = key.tenant ?? ALL_TENANTS;
    await createFeedConsumerWithinQuota(this.db, { tenantId, principal: key.principal }, this.limit, (tx) =>
      tx
        .insert(firehoseConsumers)
        .values({ tenantId, principal: key.principal, name: key.name, txId: at.txId, ownerId: at.ownerId, sequence: at.sequence, updatedAt: new Date() })
        .onConflictDoNothing(),
    );
  }

  /**
   * Moves the consumers named `name` of `principal` that follow `tenant` (or every tenant)
   * to `position`, unless they are there or beyond. Returns the position stored for the
   * tenant's consumer, or null when the principal has no firehose consumer of that name.
   */
  async ack(tenant: string, principal: string, name: string, position: FirehosePosition): Promise<FirehosePosition | null> {
    const theirs = and(sql`${firehoseConsumers.tenantId} in (${tenant}, ${ALL_TENANTS})`, eq(firehoseConsumers.principal, principal), eq(firehoseConsumers.name, name));
    const behind = sql`(${firehoseConsumers.txId}, ${firehoseConsumers.ownerId}, ${firehoseConsumers.sequence}) < (${position.txId}, ${position.ownerId}, ${position.sequence})`;
    await this.db.update(firehoseConsumers).set({ txId: position.txId, ownerId: position.ownerId, sequence: position.sequence, updatedAt: new Date() }).where(and(theirs, behind));
    const rows = await this.db.select().from(firehoseConsumers).where(theirs);
    const row = rows.find((r) => r.tenantId === tenant) ?? rows[0];
    return row ? { txId: row.txId, ownerId: row.ownerId, sequence: row.sequence } : null;
  }

  /** Forgets consumers neither used nor acked since `before`; returns how many went. */
  async prune(before: Date): Promise<number> {
    const gone = await this.db.delete(firehoseConsumers).where(lt(firehoseConsumers.updatedAt, before)).returning({ name: firehoseConsumers.name });
    return gone.length;
  }

  private keyIs(key: FirehoseConsumerKey) {
    return and(eq(firehoseConsumers.tenantId, key.tenant ?? ALL_TENANTS), eq(firehoseConsumers.principal, key.principal), eq(firehoseConsumers.name, key.name));
  }
}
