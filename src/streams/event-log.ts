/** Reads the durable event log: replay, gap repair and the `events` polling query. */
import { and, asc, desc, eq, gt, inArray, lte, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { readsOn, type Reads } from '../db/replicas.ts';
import { events, owners } from '../db/schema.ts';
import type { EventType, WalletEvent } from '../domain/events.ts';

/** Narrows a log read; both fields are optional. */
export interface LogQuery {
  types?: readonly EventType[] | null;
  walletId?: string | null;
  /** Read no further than this sequence (inclusive). */
  upTo?: number | null;
}

/** The servable range of an owner's log: see {@link EventLog.bounds}. */
export interface LogBounds {
  first: number;
  last: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The columns an event is made of: a page read leaves out the firehose's own (`tenant_id`,
 * `tx_id`), which every replayed row would otherwise carry and parse for nothing.
 */
const EVENT_COLUMNS = {
  eventId: events.eventId,
  ownerId: events.ownerId,
  walletId: events.walletId,
  sequence: events.sequence,
  occurredAt: events.occurredAt,
  type: events.type,
  data: events.data,
};

function toEvent(row: Pick<typeof events.$inferSelect, keyof typeof EVENT_COLUMNS>): WalletEvent {
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

/**
 * The owner's log. Pages and lookups go through `reads` (a replica when there are some);
 * the head and the watermark are read on the primary, where they are the truth a reader's
 * position is checked against.
 */
export class EventLog {
  constructor(
    private readonly db: Database,
    private readonly reads: Reads = readsOn(db),
  ) {}

  /** Up to `limit` of the owner's events after `afterSequence`, in sequence order. */
  async read(ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    const rows = await this.reads.run((db) => this.readQuery(ownerId, afterSequence, limit, query, db));
    return rows.map(toEvent);
  }

  /** The query {@link read} runs, unexecuted (so its plan can be examined). */
  readQuery(ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}, db: Database = this.db) {
    const conditions = [...matching(ownerId, query), gt(events.sequence, afterSequence)];
    if (query.upTo != null) conditions.push(lte(events.sequence, query.upTo));
    return db
      .select(EVENT_COLUMNS)
      .from(events)
      .where(and(...conditions))
      .orderBy(asc(events.sequence))
      .limit(limit);
  }

  /** The newest `limit` events of the owner matching `query`, oldest first. */
  async readLatest(ownerId: string, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    const rows = await this.reads.run((db) =>
      db
        .select(EVENT_COLUMNS)
        .from(events)
        .where(and(...matching(ownerId, query)))
        .orderBy(desc(events.sequence))
        .limit(limit),
    );
    return rows.reverse().map(toEvent);
  }

  /** One event by id, or null (unknown or pruned). */
  async find(eventId: string): Promise<WalletEvent | null> {
    if (!UUID.test(eventId)) return null;
    const [row] = await this.reads.run((db) => db.select().from(events).where(eq(events.eventId, eventId)));
    return row ? toEvent(row) : null;
  }

  /**
   * What the owner's log can serve: every sequence from `first` (the retention watermark)
   * to `last` (the head) is present. An owner with no events has `{ first: 1, last: 0 }`.
   */
  async bounds(ownerId: string): Promise<LogBounds> {
    const [row] = await this.db.select({ first: owners.firstSequence, last: owners.lastSequence }).from(owners).where(eq(owners.ownerId, ownerId));
    return row ?? { first: 1, last: 0 };
  }

  /** Log heads of several owners in one query (owners without events are left out). */
  async heads(ownerIds: readonly string[]): Promise<Map<string, number>> {
    if (ownerIds.length === 0) return new Map();
    const rows = await this.db.select().from(owners).where(inArray(owners.ownerId, [...ownerIds]));
    return new Map(rows.map((row) => [row.ownerId, row.lastSequence]));
  }

  /** The owner's last committed sequence; 0 when they have no events. */
  async head(ownerId: string): Promise<number> {
    const [row] = await this.db.select({ last: owners.lastSequence }).from(owners).where(eq(owners.ownerId, ownerId));
    return row?.last ?? 0;
  }
}

/** The conditions for an owner's events that `query` asks for (its types and wallet). */
function matching(ownerId: string, query: LogQuery): SQL[] {
  const conditions: SQL[] = [eq(events.ownerId, ownerId)];
  if (query.types?.length) conditions.push(inArray(events.type, [...query.types]));
  if (query.walletId) conditions.push(eq(events.walletId, query.walletId));
  return conditions;
}

/** What feeds and streams read of the log: the head, and pages after a position. */
export type LogReader = Pick<EventLog, 'head' | 'read'>;
