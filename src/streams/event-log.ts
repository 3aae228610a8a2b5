/** Reads the durable event log: replay, gap repair and the `events` polling query. */
import { and, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/client.ts';
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
 * An event's columns as the driver returns them. Reads are plain statements rather than
 * drizzle's query builder: a replay turns thousands of rows into events, and the
 * builder's per-row mapping cost about 40 % on top of the driver's own parse. A page read
 * leaves out the firehose's own columns (`tenant_id`, `tx_id`), and `owner_id`, which the
 * reader already knows; the firehose's reads select them (firehose-log.ts).
 */
export interface EventRow {
  event_id: string;
  /** Selected where the reader does not know the owner. */
  owner_id?: string;
  wallet_id: string | null;
  /** int8: a string from postgres.js, a number or bigint from PGlite. */
  sequence: string | number | bigint;
  occurred_at: Date | string;
  type: string;
  /** jsonb: parsed by postgres.js, text from some PGlite paths. */
  data: unknown;
}

const EVENT_COLUMNS = sql.raw('event_id, wallet_id, sequence, occurred_at, type, data');

/** A row that selected its `owner_id`, for readers that do not know the owner. */
export type OwnedEventRow = EventRow & { owner_id: string };

/**
 * The events `rows` hold, of `ownerId`, or of each row's own `owner_id` when the read
 * selected it (the overloads make a caller give one or the other). The events of one
 * transaction share its timestamp, so a run of rows formats each distinct `occurred_at`
 * once (`toISOString` is a fair share of a row's cost).
 */
export function eventsOf(rows: readonly OwnedEventRow[]): WalletEvent[];
export function eventsOf(rows: readonly EventRow[], ownerId: string): WalletEvent[];
export function eventsOf(rows: readonly EventRow[], ownerId?: string): WalletEvent[] {
  let lastMs = Number.NaN;
  let lastText = '';
  return rows.map((row) => {
    const at = row.occurred_at;
    const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
    if (ms !== lastMs) lastText = new Date((lastMs = ms)).toISOString();
    return {
      eventId: row.event_id,
      ownerId: ownerId ?? row.owner_id!,
      walletId: row.wallet_id,
      sequence: Number(row.sequence),
      occurredAt: lastText,
      type: row.type,
      data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    } as WalletEvent;
  });
}

/**
 * The owner's log. Pages and lookups go through `reads` (a replica when there are some);
 * the head and the watermark are read on the primary, where they are the truth a reader's
 * position is checked against.
 */
export class EventLog {
  /**
   * The owner's bounds and head, built once: every subscription reads the bounds as it
   * opens, and drizzle's builder made about 20 KB of garbage per query built afresh.
   */
  private readonly boundsQuery;
  private readonly headQuery;

  constructor(
    private readonly db: Database,
    private readonly reads: Reads = readsOn(db),
  ) {
    const ofOwner = eq(owners.ownerId, sql.placeholder('ownerId'));
    this.boundsQuery = db.select({ first: owners.firstSequence, last: owners.lastSequence }).from(owners).where(ofOwner).prepare('event_log_bounds');
    this.headQuery = db.select({ last: owners.lastSequence }).from(owners).where(ofOwner).prepare('event_log_head');
  }

  /** Up to `limit` of the owner's events after `afterSequence`, in sequence order. */
  async read(ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    const result = await this.reads.run((db) => db.execute(this.readQuery(ownerId, afterSequence, limit, query)));
    return eventsOf(rowsOf<EventRow>(result), ownerId);
  }

  /** The statement {@link read} runs (so its plan can be examined). */
  readQuery(ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}): SQL {
    const conditions = [...matching(ownerId, query), gt(events.sequence, afterSequence)];
    if (query.upTo != null) conditions.push(lte(events.sequence, query.upTo));
    return sql`select ${EVENT_COLUMNS} from ${events} where ${and(...conditions)} order by ${events.sequence} limit ${limit}`;
  }

  /** The newest `limit` events of the owner matching `query`, oldest first. */
  async readLatest(ownerId: string, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    const result = await this.reads.run((db) =>
      db.execute(sql`select ${EVENT_COLUMNS} from ${events} where ${and(...matching(ownerId, query))} order by ${events.sequence} desc limit ${limit}`),
    );
    return eventsOf(rowsOf<EventRow>(result).reverse(), ownerId);
  }

  /** One event by id, or null (unknown or pruned). */
  async find(eventId: string): Promise<WalletEvent | null> {
    if (!UUID.test(eventId)) return null;
    const result = await this.reads.run((db) => db.execute(sql`select owner_id, ${EVENT_COLUMNS} from ${events} where ${eq(events.eventId, eventId)}`));
    const [event] = eventsOf(rowsOf<OwnedEventRow>(result));
    return event ?? null;
  }

  /**
   * What the owner's log can serve: every sequence from `first` (the retention watermark)
   * to `last` (the head) is present. An owner with no events has `{ first: 1, last: 0 }`.
   */
  async bounds(ownerId: string): Promise<LogBounds> {
    const [row] = await this.boundsQuery.execute({ ownerId });
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
    const [row] = await this.headQuery.execute({ ownerId });
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
