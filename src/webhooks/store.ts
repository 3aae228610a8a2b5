/**
 * The webhook tables: endpoints (with their feed position and lease) and deliveries (the
 * record of each send, and the queue of those still to make). Every write a worker makes
 * for one step goes through {@link WebhookStore.commitStep}: one transaction, applied only
 * while the worker still holds the endpoint's lease.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { insertJsonRows, type Column } from '../db/bulk-insert.ts';
import { rowsOf } from '../db/client.ts';
import { webhookDeliveries, webhookEndpoints } from '../db/schema.ts';
import type { FirehosePosition } from '../domain/events.ts';

/** An endpoint as stored. */
export type EndpointRow = typeof webhookEndpoints.$inferSelect;
/** A delivery as stored. */
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliveryStatus = DeliveryRow['status'];
/** A delivery to record in a step. */
export type NewDelivery = Omit<typeof webhookDeliveries.$inferInsert, 'id' | 'endpointId' | 'createdAt' | 'updatedAt'>;

/** What a step changes on a delivery already queued. */
export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  responseExcerpt: string | null;
}

/** What a step changes on its endpoint. */
export interface EndpointChange {
  position: FirehosePosition;
  consecutiveFailures: number;
  state: EndpointRow['state'];
  pausedUntil: Date | null;
  disabledReason: string | null;
}

/** The queue head of one owner: its oldest delivery not yet made. */
export type QueueHead = Pick<DeliveryRow, 'id' | 'eventId' | 'ownerId' | 'sequence' | 'status' | 'attempts' | 'nextAttemptAt' | 'body' | 'occurredAt'>;

/** The columns a step inserts, as one JSON parameter (a step records up to a page of deliveries). */
const DELIVERY_COLUMNS: Column[] = [
  ['id', 'uuid'],
  ['endpoint_id', 'uuid'],
  ['event_id', 'uuid'],
  ['owner_id', 'text'],
  ['sequence', 'bigint'],
  ['type', 'text'],
  ['occurred_at', 'timestamptz'],
  ['body', 'text'],
  ['status', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_at', 'timestamptz'],
  ['last_status', 'integer'],
  ['last_error', 'text'],
  ['response_excerpt', 'text'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['delivered_at', 'timestamptz'],
];

export class WebhookStore {
  constructor(private readonly db: Database) {}

  insertEndpoint(values: Omit<typeof webhookEndpoints.$inferInsert, 'id' | 'createdAt' | 'updatedAt'>): Promise<EndpointRow> {
    const now = new Date();
    return this.db
      .insert(webhookEndpoints)
      .values({ ...values, id: randomUUID(), createdAt: now, updatedAt: now })
      .returning()
      .then((rows) => rows[0]!);
  }

  async countEndpoints(tenant: string): Promise<number> {
    const result = await this.db.execute(sql`select count(*)::int as n from webhook_endpoints where tenant_id = ${tenant}`);
    return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  }

  async endpoint(id: string): Promise<EndpointRow | null> {
    const [row] = await this.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    return row ?? null;
  }

  /** A tenant's endpoints (every tenant's for null), oldest first. */
  endpoints(tenant: string | null): Promise<EndpointRow[]> {
    const query = this.db.select().from(webhookEndpoints);
    return (tenant === null ? query : query.where(eq(webhookEndpoints.tenantId, tenant))).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
  }

  async updateEndpoint(id: string, patch: Partial<typeof webhookEndpoints.$inferInsert>): Promise<EndpointRow | null> {
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    return row ?? null;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const gone = await this.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
    return gone.length > 0;
  }

  /**
   * One lease round of `holder`: it says it is alive, renews its leases, and takes free
   * endpoints (never held, or let expire by a dead holder) up to its fair share: active
   * endpoints ÷ live instances, rounded up. Returns what it holds, and how many of those
   * are beyond its share (another instance joined: give them back so it can take them).
   */
  async leaseRound(holder: string, ttlMs: number): Promise<{ held: EndpointRow[]; excess: number }> {
    const ttl = sql`${`${ttlMs} milliseconds`}::interval`;
    await this.db.execute(sql`insert into webhook_instances (holder, seen_at) values (${holder}, now()) on conflict (holder) do update set seen_at = now()`);
    await this.db.execute(sql`delete from webhook_instances where seen_at < now() - ${ttl} * 10`);
    const active = sql`${webhookEndpoints.state} <> 'disabled'`;
    const renewed = await this.db
      .update(webhookEndpoints)
      .set({ leaseExpiresAt: sql`now() + ${ttl}` })
      .where(and(eq(webhookEndpoints.leaseHolder, holder), active))
      .returning();
    const counts = await this.db.execute(
      sql`select (select count(*) from webhook_endpoints where state <> 'disabled')::int as total,
                 (select count(*) from webhook_instances where seen_at > now() - ${ttl})::int as live`,
    );
    const { total, live } = rowsOf<{ total: number; live: number }>(counts)[0]!;
    const share = Math.ceil(Number(total) / Math.max(1, Number(live)));
    if (renewed.length >= share) return { held: renewed, excess: renewed.length - share };
    const free = sql`select id from webhook_endpoints where state <> 'disabled' and (lease_holder is null or lease_expires_at < now())
                     order by created_at limit ${share - renewed.length} for update skip locked`;
    const taken = await this.db
      .update(webhookEndpoints)
      .set({ leaseHolder: holder, leaseExpiresAt: sql`now() + ${ttl}` })
      .where(sql`${webhookEndpoints.id} in (${free})`)
      .returning();
    return { held: [...renewed, ...taken], excess: 0 };
  }

  /** Gives one lease back (the endpoint goes to another instance at its next round). */
  async releaseLease(endpointId: string, holder: string): Promise<void> {
    await this.db
      .update(webhookEndpoints)
      .set({ leaseHolder: null, leaseExpiresAt: null })
      .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.leaseHolder, holder)));
  }

  /** Lets `holder`'s leases go at once (a clean shutdown), so another instance takes over without waiting. */
  async releaseLeases(holder: string): Promise<void> {
    await this.db.update(webhookEndpoints).set({ leaseHolder: null, leaseExpiresAt: null }).where(eq(webhookEndpoints.leaseHolder, holder));
    await this.db.execute(sql`delete from webhook_instances where holder = ${holder}`);
  }

  /** Each owner's oldest queued delivery (due or not), for every owner with one. */
  async queueHeads(endpointId: string): Promise<QueueHead[]> {
    const result = await this.db.execute(
      sql`select distinct on (owner_id) id, event_id, owner_id, sequence, status, attempts, next_attempt_at, body, occurred_at
          from webhook_deliveries where endpoint_id = ${endpointId} and status in ('pending', 'retrying')
          order by owner_id, sequence`,
    );
    return rowsOf<Record<string, unknown>>(result).map((row) => ({
      id: String(row.id),
      eventId: String(row.event_id),
      ownerId: String(row.owner_id),
      sequence: Number(row.sequence),
      status: row.status as DeliveryStatus,
      attempts: Number(row.attempts),
      nextAttemptAt: row.next_attempt_at == null ? null : new Date(row.next_attempt_at as string),
      body: row.body as string | null,
      occurredAt: new Date(row.occurred_at as string),
    }));
  }

  /**
   * Applies one step of a worker: new deliveries, changes to queued ones, the endpoint's
   * new position and breaker state. False (and nothing written) when `holder` no longer
   * holds the lease (another instance has taken the endpoint over) or the endpoint was
   * disabled or deleted meanwhile.
   */
  commitStep(endpointId: string, holder: string, step: { inserts: NewDelivery[]; changes: DeliveryChange[]; endpoint: EndpointChange }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { position, ...state } = step.endpoint;
      const held = await tx
        .update(webhookEndpoints)
        .set({ ...state, txId: position.txId, ownerId: position.ownerId, sequence: position.sequence })
        .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.leaseHolder, holder), sql`${webhookEndpoints.state} <> 'disabled'`))
        .returning({ id: webhookEndpoints.id });
      if (held.length === 0) return false;
      const now = new Date();
      if (step.inserts.length) {
        const at = now.toISOString();
        const rows = step.inserts.map((row) => ({
          id: randomUUID(),
          endpoint_id: endpointId,
          event_id: row.eventId,
          owner_id: row.ownerId,
          sequence: row.sequence,
          type: row.type,
          occurred_at: row.occurredAt.toISOString(),
          body: row.body ?? null,
          status: row.status,
          attempts: row.attempts ?? 0,
          next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
          last_status: row.lastStatus ?? null,
          last_error: row.lastError ?? null,
          response_excerpt: row.responseExcerpt ?? null,
          created_at: at,
          updated_at: at,
          delivered_at: row.deliveredAt?.toISOString() ?? null,
        }));
        await tx.execute(insertJsonRows('webhook_deliveries', DELIVERY_COLUMNS, rows, sql`on conflict do nothing`));
      }
      for (const change of step.changes) {
        const delivered = change.status === 'delivered';
        await tx
          .update(webhookDeliveries)
          .set({ ...change, updatedAt: now, ...(delivered ? { deliveredAt: now, body: null } : {}) })
          .where(eq(webhookDeliveries.id, change.id));
      }
      return true;
    });
  }

  async delivery(id: string): Promise<DeliveryRow | null> {
    const [row] = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    return row ?? null;
  }

  /** A page of an endpoint's deliveries, newest first, after the `after` key. */
  deliveries(endpointId: string, status: DeliveryStatus | null, size: number, after: { createdAt: Date; id: string } | null): Promise<DeliveryRow[]> {
    const conditions: SQL[] = [eq(webhookDeliveries.endpointId, endpointId)];
    if (status) conditions.push(eq(webhookDeliveries.status, status));
    if (after) conditions.push(sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`);
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(and(...conditions))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(size);
  }

  /** Sends dead deliveries again from a fresh schedule; `ids` narrows them. Returns those requeued. */
  async requeueDead(endpointId: string, ids: string[] | null): Promise<DeliveryRow[]> {
    const conditions = [eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, 'dead')];
    if (ids) conditions.push(inArray(webhookDeliveries.id, ids));
    return this.db
      .update(webhookDeliveries)
      .set({ status: 'retrying', attempts: 0, nextAttemptAt: new Date(), updatedAt: new Date() })
      .where(and(...conditions))
      .returning();
  }

  /** Dead deliveries per endpoint of `endpointIds`. */
  async deadCounts(endpointIds: string[]): Promise<Map<string, number>> {
    if (endpointIds.length === 0) return new Map();
    const rows = await this.db
      .select({ endpointId: webhookDeliveries.endpointId, n: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(and(inArray(webhookDeliveries.endpointId, endpointIds), eq(webhookDeliveries.status, 'dead')))
      .groupBy(webhookDeliveries.endpointId);
    return new Map(rows.map((row) => [row.endpointId, Number(row.n)]));
  }

  /**
   * When the oldest event `endpoint` has not delivered yet was written: the first one of its
   * tenant after its position, or the oldest still queued; null when it is caught up.
   */
  async oldestUndelivered(endpoint: EndpointRow): Promise<Date | null> {
    const result = await this.db.execute(
      sql`select least(
            (select min(occurred_at) from webhook_deliveries where endpoint_id = ${endpoint.id} and status in ('pending', 'retrying')),
            (select occurred_at from events where tenant_id = ${endpoint.tenantId}
               and (tx_id, owner_id, sequence) > (${endpoint.txId}, ${endpoint.ownerId}, ${endpoint.sequence})
             order by tx_id, owner_id, sequence limit 1)) as at`,
    );
    const at = rowsOf<{ at: string | Date | null }>(result)[0]?.at;
    return at == null ? null : new Date(at);
  }

  /** Forgets delivered records older than `before` (queued and dead ones stay); returns how many went. */
  async pruneDelivered(before: Date): Promise<number> {
    const gone = await this.db
      .delete(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, 'delivered'), lt(webhookDeliveries.updatedAt, before)))
      .returning({ id: webhookDeliveries.id });
    return gone.length;
  }
}
