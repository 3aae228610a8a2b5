/** Reads the durable event log: replay, gap repair and the `events` polling query. */
import { and, asc, eq, gt, inArray, lte, type SQL } from 'drizzle-orm';
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
    return rows.map(
      (row) =>
        ({
          eventId: row.eventId,
          ownerId: row.ownerId,
          walletId: row.walletId,
          sequence: row.sequence,
          occurredAt: row.occurredAt.toISOString(),
          type: row.type,
          data: row.data,
        }) as WalletEvent,
    );
  }

  /** The owner's last committed sequence; 0 when they have no events. */
  async head(ownerId: string): Promise<number> {
    const [row] = await this.db.select({ last: owners.lastSequence }).from(owners).where(eq(owners.ownerId, ownerId));
    return row?.last ?? 0;
  }
}
