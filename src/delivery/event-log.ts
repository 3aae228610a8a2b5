/** Reads the durable event log: replay, gap repair and the `events` polling query. */
import { and, asc, eq, gt, inArray, lt, lte, min, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events, owners } from '../db/schema.ts';
import type { EventType, WalletEvent } from '../domain/events.ts';

/** Narrows a log read; both fields are optional. */
export interface LogQuery {
  types?: readonly EventType[] | null;
  walletId?: string | null;
  /** Read no further than this sequence (inclusive). */
  upTo?: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toEvent(row: typeof events.$inferSelect): WalletEvent {
  return {
    eventId: row.eventId,
    ownerId: row.ownerId,
    walletId: row.walletId,
    sequence: row.sequence,
    occurredAt: row.occurredAt.toISOString(),
    type: row.type,
    data: row.data,
  } as WalletEvent;
}

export class EventLog {
  constructor(private readonly db: Database) {}

  /** Up to `limit` of the owner's events after `afterSequence`, in sequence order. */
  async read(ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    const conditions: SQL[] = [eq(events.ownerId, ownerId), gt(events.sequence, afterSequence)];
    if (query.upTo != null) conditions.push(lte(events.sequence, query.upTo));
    if (query.types?.length) conditions.push(inArray(events.type, [...query.types]));
    if (query.walletId) conditions.push(eq(events.walletId, query.walletId));
    const rows = await this.db
      .select()
      .from(events)
      .where(and(...conditions))
      .orderBy(asc(events.sequence))
      .limit(limit);
    return rows.map(toEvent);
  }

  /** One event by id, or null (unknown or pruned). */
  async find(eventId: string): Promise<WalletEvent | null> {
    if (!UUID.test(eventId)) return null;
    const [row] = await this.db.select().from(events).where(eq(events.eventId, eventId));
    return row ? toEvent(row) : null;
  }

  /** The oldest sequence still in the owner's log, or null when none is retained. */
  async firstSequence(ownerId: string): Promise<number | null> {
    const [row] = await this.db.select({ first: min(events.sequence) }).from(events).where(eq(events.ownerId, ownerId));
    return row?.first ?? null;
  }

  /** Log heads of several owners in one query (owners without events are left out). */
  async heads(ownerIds: readonly string[]): Promise<Map<string, number>> {
    if (ownerIds.length === 0) return new Map();
    const rows = await this.db.select().from(owners).where(inArray(owners.ownerId, [...ownerIds]));
    return new Map(rows.map((row) => [row.ownerId, row.lastSequence]));
  }

  /** Deletes up to `batch` events older than `before`; returns how many went. */
  async prune(before: Date, batch: number): Promise<number> {
    const doomed = this.db.select({ id: events.eventId }).from(events).where(lt(events.occurredAt, before)).limit(batch);
    const deleted = await this.db.delete(events).where(inArray(events.eventId, doomed)).returning({ id: events.eventId });
    return deleted.length;
  }

  /** The owner's last committed sequence; 0 when they have no events. */
  async head(ownerId: string): Promise<number> {
    const [row] = await this.db.select({ last: owners.lastSequence }).from(owners).where(eq(owners.ownerId, ownerId));
    return row?.last ?? 0;
  }
}
