/**
 * One tenant's firehose on this instance (or every tenant's, for admins): the events read
 * from the log in feed order, kept in a ring its readers take from. A wake (a commit of
 * that tenant, on any instance) makes one read for all of them, not one per reader. When
 * a commit the feed was told of is not readable yet (an older transaction still runs), the
 * feed looks again shortly after, until it is.
 */
import type { FirehosePosition, WalletEvent } from '../domain/events.ts';
import type { FirehoseEvent, FirehoseLog } from './firehose-log.ts';
import type { Signal } from '../backbone/topic-messages.ts';

/** A reader the feed wakes when it has appended events, and hands clock ticks and revocations. */
export interface FirehoseReader {
  wake(): void;
  signal(signal: Signal): void;
}

/** Why the firehose read the log. */
export type FirehoseReadReason = 'wake' | 'retry' | 'look' | 'replay';

/** What the firehose reports (metrics). */
export interface FirehoseObserver {
  read(reason: FirehoseReadReason): void;
  /** `event` became readable and reached the feed. */
  reached(event: WalletEvent): void;
}

export interface TenantFirehoseOptions {
  /** Events the ring keeps; a reader further behind reads the log. */
  ringSize: number;
  /** Events one log read takes. */
  pageSize: number;
  /** How soon to look again when a known commit is not readable yet. */
  retryMs: number;
}

function key(position: FirehosePosition): string {
  return `${position.txId}:${position.sequence}:${position.ownerId}`;
}

export class TenantFirehose {
  private readonly ring: FirehoseEvent[] = [];
  /** Ring index of each event's position, offset by {@link dropped}. */
  private readonly indexOf = new Map<string, number>();
  private dropped = 0;
  private readonly readers = new Set<FirehoseReader>();
  /** The last event read into the ring; null before any (the feed starts at the beginning). */
  private last: FirehosePosition | null;
  /** The highest commit a wake announced. */
  private announced = 0;
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    readonly tenant: string | null,
    private readonly log: FirehoseLog,
    private readonly options: TenantFirehoseOptions,
    start: FirehosePosition | null,
    private readonly observer?: FirehoseObserver,
  ) {
    this.last = start;
  }

  /** Where the feed stands: readers that start "now" start here. */
  get head(): FirehosePosition | null {
    return this.last;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  add(reader: FirehoseReader): void {
    this.readers.add(reader);
  }

  /** Removes `reader`; true when it was the last one. */
  remove(reader: FirehoseReader): boolean {
    this.readers.delete(reader);
    return this.readers.size === 0;
  }

  /**
   * The ring's events after `position` (at most `limit`), or null when the ring cannot
   * tell: `position` is older than the ring, or not an event the ring holds. The reader then
   * reads the log, which orders positions the way the database does.
   */
  after(position: FirehosePosition | null, limit: number): FirehoseEvent[] | null {
    if (position === null) return this.last === null ? [] : null;
    const at = this.indexOf.get(key(position));
    if (at === undefined) return this.last !== null && key(this.last) === key(position) ? [] : null;
    const start = at - this.dropped + 1;
    return this.ring.slice(start, start + limit);
  }

  /** Hands `signal` to every reader. */
  broadcast(signal: Signal): void {
    for (const reader of this.readers) reader.signal(signal);
  }

  /** A commit of `txId` (0: none known, just look) may have made events readable. */
  wake(txId = 0, reason: FirehoseReadReason = txId ? 'wake' : 'look'): void {
    if (txId > this.announced) this.announced = txId;
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.pull(reason).finally(() => {
      this.reading = null;
      if (this.readAgain) this.wake(0, 'wake');
    });
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Reads everything readable after the ring's end, then tells the readers. */
  private async pull(reason: FirehoseReadReason): Promise<void> {
    this.readAgain = false;
    try {
      for (;;) {
        this.observer?.read(reason);
        const rows = await this.log.read(this.last, this.options.pageSize, { tenant: this.tenant }, false);
        if (rows.length) this.append(rows);
        if (rows.length < this.options.pageSize) break;
      }
    } catch {
      // The database is away: the next wake or the periodic look tries again.
    }
    // A commit we were told of is still below the horizon's reach: look again soon.
    if (this.announced > (this.last?.txId ?? 0) && !this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.wake(0, 'retry');
      }, this.options.retryMs);
    }
  }

  private append(rows: FirehoseEvent[]): void {
    for (const row of rows) {
      this.indexOf.set(key(row.position), this.dropped + this.ring.length);
      this.ring.push(row);
      this.observer?.reached(row.event);
    }
    const excess = this.ring.length - this.options.ringSize;
    if (excess > 0) {
      for (const row of this.ring.splice(0, excess)) this.indexOf.delete(key(row.position));
      this.dropped += excess;
    }
    this.last = rows.at(-1)!.position;
    for (const reader of this.readers) reader.wake();
  }
}
