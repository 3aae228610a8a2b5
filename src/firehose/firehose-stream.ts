/**
 * A firehose subscription: a position in its tenant's feed, with its filters. Like an
 * owner stream it holds no queue: each `next()` takes what follows its position from the
 * feed's ring or, when the ring does not reach back that far (a resume, a reader that fell
 * behind), a page of the log filtered in the database. A full connection pauses it in
 * place; SLOW_CONSUMER only past the time bound.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { FirehosePosition, WalletEvent } from '../domain/events.ts';
import { inPartition, type FirehoseEvent, type FirehoseLog, type FirehoseScope } from './firehose-log.ts';
import type { EventFilter } from '../domain/event-filter.ts';
import type { FirehoseReader, TenantFirehose } from './tenant-firehose.ts';
import type { Signal } from '../backbone/topic-messages.ts';
import { StreamGuard, type GuardLimits, type StreamClient } from '../streams/stream-guard.ts';
import type { ClientConnection, StreamOpener } from '../streams/client-connection.ts';
import { resumeWaiter, type Resumable, type Waiter } from '../streams/resumable.ts';

/** Events one log read takes when a reader is behind its feed's ring. */
const REPLAY_PAGE = 2_000;

export interface FirehoseStreamOptions extends GuardLimits, StreamClient {
  scope: FirehoseScope;
  /** What an event must match (the scope's types and criteria); the partition is checked besides. */
  filter: EventFilter;
  pageSize: number;
  /** Called before each read of the log (metrics). */
  onReplay?: () => void;
  /** Called once when the stream ends. */
  onEnd?: () => void;
}

export class FirehoseStream implements AsyncIterableIterator<WalletEvent>, FirehoseReader {
  private batch: FirehoseEvent[] = [];
  private batchIndex = 0;
  /** The batch is a page of the log (a replay), not the live ring. */
  private batchFromLog = false;
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly guard: StreamGuard;
  private leave: (() => void) | null = null;
  /** The log page after the one being handed out, already asked for (replay). */
  private prefetched: { from: FirehosePosition; page: Promise<FirehoseEvent[]> } | null = null;
  /** Where the stream started: what a new durable consumer stores. */
  readonly startedAt: FirehosePosition | null;

  constructor(
    private readonly feed: TenantFirehose,
    private readonly log: FirehoseLog,
    private position: FirehosePosition | null,
    private readonly options: FirehoseStreamOptions,
  ) {
    this.startedAt = position;
    this.guard = new StreamGuard(options, this);
  }

  get connection(): ClientConnection | null {
    return this.options.connection ?? null;
  }

  get openedBy(): StreamOpener | null {
    return this.options.openedBy ?? null;
  }

  /** The event handed out last came from a page of the log this stream read, not from its feed's ring. */
  get lastFromLog(): boolean {
    return this.batchFromLog;
  }

  /** Called by the registry once the stream is among the feed's readers. */
  joined(leave: () => void): void {
    this.leave = leave;
    if (this.closed) leave();
  }

  async next(): Promise<IteratorResult<WalletEvent>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        throw failure;
      }
      if (this.closed) return { value: undefined, done: true };
      if (this.guard.backedUp()) {
        await this.guard.pause(() => new Promise<void>((resolve) => (this.waiter = resolve)));
        continue;
      }
      this.guard.flowing();
      const event = this.nextInBatch();
      if (event) return { value: event, done: false };
      try {
        await this.refill();
      } catch (error) {
        this.end(error as Error);
      }
    }
  }

  /** The next event if it is ready without waiting (in the batch or the ring), else null. */
  takeNow(): IteratorResult<WalletEvent> | null {
    for (;;) {
      if (this.failure) return null;
      if (this.closed) return { value: undefined, done: true };
      if (this.guard.backedUp()) return null;
      this.guard.flowing();
      const event = this.nextInBatch();
      if (event) return { value: event, done: false };
      const fromRing = this.feed.after(this.position, this.options.pageSize);
      if (!fromRing || fromRing.length === 0) return null;
      this.setBatch(fromRing);
    }
  }

  /** Parks the stream until its feed appends; see OwnerStream's `whenReady`. */
  whenReady(reader: Resumable): boolean {
    if (this.failure || this.closed || this.guard.backedUp() || this.batchIndex < this.batch.length) return false;
    const fromRing = this.feed.after(this.position, this.options.pageSize);
    if (!fromRing || fromRing.length > 0) return false;
    this.waiter = reader;
    return true;
  }

  return(): Promise<IteratorResult<WalletEvent>> {
    this.end(null);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<WalletEvent>> {
    this.end(null);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WalletEvent> {
    return this;
  }

  /** The feed appended events, or the connection drained. */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    resumeWaiter(waiter);
  }

  /** Clock ticks and revocations, as owner streams get them. */
  signal(signal: Signal): void {
    if (signal.kind === 'tick') this.guard.tick(signal.now);
    else if (signal.kind === 'revoked') this.guard.revoked(signal);
  }

  fail(error: DomainError): void {
    this.end(error);
  }

  slowConsumer(why: string): DomainError {
    return new DomainError(ErrorCode.SLOW_CONSUMER, `${why} for this reader; resume from your last feed cursor (or your consumer's acked position)`, {});
  }

  private async refill(): Promise<void> {
    const fromRing = this.feed.after(this.position, this.options.pageSize);
    if (fromRing === null) {
      // Behind the ring (or somewhere it cannot place): a page of the log, filtered there.
      const before = this.feed.head;
      const prefetched = this.prefetched?.from === this.position ? this.prefetched.page : null;
      this.prefetched = null;
      const page = await (prefetched ?? this.readLog(this.position));
      if (page.length === REPLAY_PAGE) {
        // A full page: the next one is read while this one is handed out.
        const from = page.at(-1)!.position;
        this.prefetched = { from, page: this.readLog(from) };
        this.prefetched.page.catch(() => {}); // reported when it is awaited
      }
      if (page.length) return this.setBatch(page, true);
      // Nothing of ours up to what the feed had read before this page: stand at its end.
      if (before && (this.position === null || before.txId > this.position.txId)) this.position = before;
    } else if (fromRing.length) {
      return this.setBatch(fromRing);
    }
    await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  private readLog(from: FirehosePosition | null): Promise<FirehoseEvent[]> {
    this.options.onReplay?.();
    return this.log.read(from, REPLAY_PAGE, this.options.scope);
  }

  private setBatch(events: FirehoseEvent[], fromLog = false): void {
    this.batch = events;
    this.batchIndex = 0;
    this.batchFromLog = fromLog;
  }

  /** The batch's next event that passes the filters; the position moves past every event looked at. */
  private nextInBatch(): WalletEvent | null {
    // Log pages were narrowed by the database already; ring events were not. Checking every
    // row is cheap and keeps one rule for both.
    const { scope, filter } = this.options;
    for (let row = this.batch[this.batchIndex]; row; row = this.batch[this.batchIndex]) {
      this.batchIndex++;
      this.position = row.position;
      if (inPartition(row, scope.partition) && filter(row.event)) return row.event;
    }
    return null;
  }

  /** Ends the stream; `failure`, if any, is what the next `next()` reports. */
  private end(failure: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = failure;
    this.options.onEnd?.();
    this.leave?.();
    this.batch = [];
    this.wake();
  }
}
