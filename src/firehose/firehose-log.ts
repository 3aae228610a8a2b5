/**
 * Reads the firehose from the log: a tenant's events (or every tenant's) in feed order,
 * (txId, ownerId, sequence), only below the horizon, the oldest transaction still running.
 * Every transaction with a smaller id has ended, so once an event is readable nothing can
 * commit before it in feed order: a reader never passes an event that commits later (the
 * gap a timestamp or an auto-increment cursor leaves when transactions commit out of order).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/client.ts';
import { readsOn, type Reads } from '../db/replicas.ts';
import { eventsOf, type OwnedEventRow } from '../streams/event-log.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import { FIREHOSE_START, type EventType, type FirehosePosition, type WalletEvent } from '../domain/events.ts';
import { eventFilter, type EventCriteria } from '../domain/event-filter.ts';

/** `index` of `count`: the owners whose hash falls there (per-owner order is kept). */
export interface Partition {
  index: number;
  count: number;
}

/** What a feed read selects; absent fields select everything. */
export interface FirehoseScope {
  /** Narrows events further (currency, transaction fields); applied after the read. */
  criteria?: EventCriteria | null;
  /** The tenant whose events to read; null for every tenant (admins). */
  tenant: string | null;
  types?: readonly EventType[] | null;
  partition?: Partition | null;
}

/** One page of the feed for polling: the matching events, and where the reading stopped. */
export interface FirehosePage {
  events: FirehoseEvent[];
  /** Where to go on from: after the last event returned, or past what was scanned without a match. */
  end: FirehosePosition;
  /** True when there may be more readable events after `end` now. */
  more: boolean;
}

/** Events read per batch while a filtered page fills, and batches one page may read. */
const SCAN_BATCH = 500;
const MAX_SCAN_BATCHES = 20;

/** An event with its place in the feed. */
export interface FirehoseEvent {
  /** The event, its `firehosePosition` set. */
  event: WalletEvent;
  position: FirehosePosition;
  tenant: string;
  /** The owner's partition hash (see {@link inPartition}). */
  ownerHash: number;
}

/** True when `event` falls in `partition` (the same rule the log reads apply in SQL). */
export function inPartition(event: FirehoseEvent, partition: Partition | null | undefined): boolean {
  return !partition || event.ownerHash % partition.count === partition.index;
}

/** An event's row with the firehose's own columns. */
interface FirehoseRow extends OwnedEventRow {
  tenant_id: string;
  tx_id: string | number;
  owner_hash: string | number;
}

/** The partition an owner falls in: the same in SQL (`hashtext`) for every reader and backend. */
export const OWNER_PARTITION_HASH = sql`(hashtext(owner_id)::bigint & 2147483647)`;

/** The firehose's reads of the log: pages through `reads` (a replica when there are some), the live end on the primary. */
export class FirehoseLog {
  constructor(
    private readonly db: Database,
    private readonly reads: Reads = readsOn(db),
  ) {}

  /**
   * Up to `limit` events after `after` (from the start when null), in feed order, below the
   * horizon. A reader's position is checked against retention first (CURSOR_EXPIRED when
   * events after it were pruned); the feed's own reads at its live end skip that check.
   * The watermark is read after the page, on the same server, so a prune that raced the
   * read is seen rather than skipped over.
   */
  async read(after: FirehosePosition | null, limit: number, scope: FirehoseScope, checkRetention = true): Promise<FirehoseEvent[]> {
    return this.reads.run(async (db) => {
      const page = await this.readPage(db, after, limit, scope);
      if (checkRetention) await this.assertNotPruned(db, after, scope.tenant);
      return page;
    });
  }

  private async readPage(db: Database, after: FirehosePosition | null, limit: number, scope: FirehoseScope): Promise<FirehoseEvent[]> {
    const conditions: SQL[] = [sql`tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`];
    if (scope.tenant !== null) conditions.push(sql`tenant_id = ${scope.tenant}`);
    if (after) conditions.push(sql`(tx_id, owner_id, sequence) > (${after.txId}, ${after.ownerId}, ${after.sequence})`);
    if (scope.types?.length) conditions.push(sql`type in (select jsonb_array_elements_text(${JSON.stringify(scope.types)}::jsonb))`);
    if (scope.partition) conditions.push(sql`${OWNER_PARTITION_HASH} % ${scope.partition.count} = ${scope.partition.index}`);
    const result = await db.execute(
      sql`select event_id, owner_id, sequence, wallet_id, type, occurred_at, data, tenant_id, tx_id, ${OWNER_PARTITION_HASH} as owner_hash from events
          where ${sql.join(conditions, sql` and `)}
          order by tx_id, owner_id, sequence limit ${limit}`,
    );
    const rows = rowsOf<FirehoseRow>(result);
    const events = eventsOf(rows);
    return rows.map((row, i) => toFirehoseEvent(row, events[i]!));
  }

  /**
   * Up to `size` events after `after` that pass the scope's criteria. Without any, one read
   * answers; with some, reads go on until the page fills, the readable feed ends, or the
   * scan bound is reached (the end then skips what was scanned, so the next page does not
   * scan it again).
   */
  async page(after: FirehosePosition | null, size: number, scope: FirehoseScope): Promise<FirehosePage> {
    const filter = scope.criteria ? eventFilter(scope.criteria) : null;
    let scanned = after;
    const matches: FirehoseEvent[] = [];
    let readableEnd = false;
    for (let batch = 0; batch < MAX_SCAN_BATCHES && matches.length <= size; batch++) {
      const limit = filter ? SCAN_BATCH : size + 1;
      const rows = await this.read(scanned, limit, scope);
      for (const row of rows) if (!filter || filter(row.event)) matches.push(row);
      scanned = rows.at(-1)?.position ?? scanned;
      if (rows.length < limit) {
        readableEnd = true;
        break;
      }
      if (!filter) break;
    }
    const full = matches.length > size;
    const events = matches.slice(0, size);
    // An empty feed read from its start still gives a cursor: the start, to stream from.
    return { events, end: full ? events.at(-1)!.position : (scanned ?? FIREHOSE_START), more: full || !readableEnd };
  }

  /**
   * CURSOR_EXPIRED when retention pruned events of `tenant` (any, for null) after `after`.
   * Reading from the start (no position, or the start cursor) reads what is retained.
   */
  private async assertNotPruned(db: Database, after: FirehosePosition | null, tenant: string | null): Promise<void> {
    if (!after || after.txId === 0) return;
    const result = await db.execute(
      tenant === null ? sql`select max(tx_id) as tx_id from feed_watermarks` : sql`select tx_id from feed_watermarks where tenant_id = ${tenant}`,
    );
    const floor = Number(rowsOf<{ tx_id: string | number | null }>(result)[0]?.tx_id ?? 0);
    if (after.txId < floor) {
      throw new DomainError(ErrorCode.CURSOR_EXPIRED, 'events after this feed cursor are older than the retention period; resync with the queries, then follow the feed from now', { txId: after.txId });
    }
  }

  /** The first position retention has kept in `tenant`'s feed: just before its oldest retained event. */
  async retainedFrom(tenant: string): Promise<FirehosePosition> {
    const result = await this.db.execute(sql`select tx_id from feed_watermarks where tenant_id = ${tenant}`);
    const floor = Number(rowsOf<{ tx_id: string | number | null }>(result)[0]?.tx_id ?? 0);
    return { txId: floor, ownerId: '', sequence: 0 };
  }

  /** An event's place in the feed and its tenant, or null (unknown or pruned). */
  async positionOf(eventId: string): Promise<{ position: FirehosePosition; tenant: string } | null> {
    const result = await this.db.execute(sql`select tx_id, owner_id, sequence, tenant_id from events where event_id = ${eventId}`);
    const [row] = rowsOf<{ tx_id: string | number; owner_id: string; sequence: string | number; tenant_id: string }>(result);
    return row ? { position: { txId: Number(row.tx_id), ownerId: row.owner_id, sequence: Number(row.sequence) }, tenant: row.tenant_id } : null;
  }

  /** The position of the last event readable now in `tenant`'s feed (null: none yet). */
  async lastPosition(tenant: string | null): Promise<FirehosePosition | null> {
    const result = await this.db.execute(
      sql`select tx_id, owner_id, sequence from events
          where tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint ${tenant === null ? sql`` : sql`and tenant_id = ${tenant}`}
          order by tx_id desc, owner_id desc, sequence desc limit 1`,
    );
    const [row] = rowsOf<{ tx_id: string | number; owner_id: string; sequence: string | number }>(result);
    return row ? { txId: Number(row.tx_id), ownerId: row.owner_id, sequence: Number(row.sequence) } : null;
  }
}

/** `event` (the row's) with its place in the feed. */
function toFirehoseEvent(row: FirehoseRow, event: WalletEvent): FirehoseEvent {
  const position = { txId: Number(row.tx_id), ownerId: row.owner_id, sequence: event.sequence };
  event.firehosePosition = position;
  return { event, position, tenant: row.tenant_id, ownerHash: Number(row.owner_hash) };
}
