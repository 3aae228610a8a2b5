/**
 * A subscription: a position in its owner's feed, plus its filter (docs/ARCHITECTURE.md,
 * "OwnerFeeds"). It holds no queue of its own: each `next()` takes the events after its
 * position from the feed's ring, or, when the ring no longer reaches back that far (a
 * resume from an old cursor, a reader that fell behind), a page from the log. Replay and
 * lag are therefore one path, paced by the reader. Filtered-out events still advance the
 * position, so a filter never looks like a gap.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { WalletEvent } from '../domain/events.ts';
import { checkContiguous, cursorExpired } from './cursor-check.ts';
import { loadCriteria, narrowed, type EventFilter } from '../domain/event-filter.ts';
import type { OwnerFeed, OwnerFeedSubscriber } from './owner-feed.ts';
import type { ConsumerKey, Signal } from '../backbone/topic-messages.ts';
import type { ClientConnection, StreamOpener } from './client-connection.ts';
import { StreamGuard, type GuardLimits, type StreamClient } from './stream-guard.ts';
import { resumeWaiter, type Resumable, type Waiter } from './resumable.ts';

/**
 * What every stream its opener makes shares: limits, and whom to tell. One object for all
 * of them, so a waiting subscription holds only what is its own.
 */
export interface StreamSettings extends GuardLimits {
  /** Most events taken from the ring or the log at once. */
  pageSize: number;
  /** Consumer streams: end the stream if a delivered event stays unacked this long (0 = never). */
  ackTimeoutMs?: number;
  /** With an ack timeout: at most this many delivered events wait for their ack (SLOW_CONSUMER past it). */
  maxUnacked?: number;
  observer?: StreamObserver;
  /** Called once when a stream ends, however it ends. */
  onEnd?: (stream: OwnerStream) => void;
}

/** What one subscription is: its filter, its consumer, its client. */
export interface StreamSubscription extends StreamClient {
  filter: EventFilter;
  /** The durable consumer this stream serves, if any (its acks arrive as topic notices). */
  consumer?: ConsumerKey | null;
  /**
   * With a consumer and no criteria of its own: the field's filter, which that consumer's
   * saved preferences narrow (the filter is rebuilt when they change).
   */
  followsPreferencesOf?: EventFilter | null;
}

/** What a stream reports (for metrics). */
export interface StreamObserver {
  /** `replayed`: the event came from a page of the log, not from the live feed. */
  delivered(event: WalletEvent, replayed: boolean): void;
  replayed(): void;
  /** A replay reached the head the stream found when it opened: `events` replayed in `ms`. */
  replayFinished(ms: number, events: number): void;
  ended(code: string): void;
  /** The stream paused because its client's connection held too many unsent bytes. */
  paused(): void;
}

/** A subscription's iterator, with the hooks its opener uses to place it. */
export class OwnerStream implements AsyncIterableIterator<WalletEvent>, OwnerFeedSubscriber {
  private position = 0;
  private filter: EventFilter;
  /** Events taken from the ring or the log, not yet looked at. */
  private batch: readonly WalletEvent[] = NO_EVENTS;
  private batchIndex = 0;
  /** The batch is a page of the log (a replay), not the live ring. */
  private batchFromLog = false;
  /** Delivered events not yet acked (consumer streams with an ack timeout only; made at the first). */
  private unacked: { sequence: number; at: number }[] | null = null;
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private closed = false;
  private feed: OwnerFeed | null = null;
  private replay: { from: number; to: number; started: number } | null = null;
  /** The log page after `after`, read while the page before it is handed out. */
  private prefetched: { after: number; page: Promise<WalletEvent[]> } | null = null;
  private readonly guard: StreamGuard;
  private readonly consumer: ConsumerKey | null;
  private readonly followsPreferencesOf: EventFilter | null;
  readonly connection: ClientConnection | null;
  readonly openedBy: StreamOpener | null;

  constructor(
    private readonly settings: StreamSettings,
    subscription: StreamSubscription,
  ) {
    this.filter = subscription.filter;
    this.consumer = subscription.consumer ?? null;
    this.followsPreferencesOf = subscription.followsPreferencesOf ?? null;
    this.connection = subscription.connection ?? null;
    this.openedBy = subscription.openedBy ?? null;
    this.guard = new StreamGuard(settings, this, settings.observer);
  }

  private get observer(): StreamObserver | undefined {
    return this.settings.observer;
  }

  /** Joined `feed` (through `OwnerFeeds.join`): signals reach this stream from now on. */
  joined(feed: OwnerFeed): void {
    this.feed = feed;
    if (this.closed) feed.leave(this);
  }

  /** Places the stream after `sequence`; `head` is the owner's head when it opened (for replay metrics). */
  place(sequence: number, head: number): void {
    this.position = sequence;
    if (sequence < head) {
      this.observer?.replayed();
      this.replay = { from: sequence, to: head, started: performance.now() };
    }
  }

  /** The event handed out last came from a page of the log (a replay), not from its feed's ring. */
  get lastFromLog(): boolean {
    return this.batchFromLog;
  }

  /** The stream's failure if it already ended while opening, else null. */
  get endedWith(): Error | null {
    return this.closed ? (this.failure ?? new DomainError(ErrorCode.BAD_USER_INPUT, 'the subscription was closed while it opened')) : null;
  }

  async next(): Promise<IteratorResult<WalletEvent>> {
    for (;;) {
      if (this.failure) {
        // Report the failure once; afterwards the iterator is simply done.
        const failure = this.failure;
        this.failure = null;
        throw failure;
      }
      if (this.closed) return { value: undefined, done: true };
      if (this.guard.backedUp()) {
        // Paused: the ring or the log has the rest when the client reads again.
        await this.guard.pause(() => new Promise<void>((resolve) => (this.waiter = resolve)));
        continue;
      }
      this.guard.flowing();
      const event = this.nextInBatch();
      if (event) return this.handOut(event);
      try {
        await this.refill();
      } catch (error) {
        this.fail(error as Error);
      }
    }
  }

  /**
   * The next event if it can be had without waiting (from the batch or the ring), else
   * null: then `next()` is the way on. Lets a transport drain what is ready in one go
   * instead of a promise per event per subscriber.
   */
  takeNow(): IteratorResult<WalletEvent> | null {
    for (;;) {
      if (this.failure) return null; // next() reports it
      if (this.closed) return { value: undefined, done: true };
      if (this.guard.backedUp()) return null; // next() pauses
      this.guard.flowing();
      const event = this.nextInBatch();
      if (event) return this.handOut(event);
      const fromRing = this.feed?.after(this.position, this.settings.pageSize);
      if (!fromRing || fromRing.length === 0) return null; // the log, or a wait: next() does both
      this.setBatch(fromRing);
    }
  }

  /**
   * Parks the stream until its feed appends (or it ends, or a tick looks again):
   * `reader.resume()` is called then, and `takeNow()` is the way on. True when parked;
   * false when only `next()` can go on (a failure to report, a pause, a log read). A
   * waiting subscription thus holds its reader, not a chain of suspended async calls.
   */
  whenReady(reader: Resumable): boolean {
    if (this.failure || this.closed || this.guard.backedUp() || this.batchIndex < this.batch.length) return false;
    const fromRing = this.feed?.after(this.position, this.settings.pageSize);
    if (!fromRing || fromRing.length > 0) return false;
    this.waiter = reader;
    return true;
  }

  return(): Promise<IteratorResult<WalletEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<WalletEvent>> {
    this.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WalletEvent> {
    return this;
  }

  /** The feed appended events. */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    resumeWaiter(waiter);
  }

  signal(signal: Signal): void {
    switch (signal.kind) {
      case 'ack':
        if (this.isMine(signal)) this.acked(signal.sequence);
        return;
      case 'preferences':
        if (this.isMine(signal) && this.followsPreferencesOf) this.filter = narrowed(this.followsPreferencesOf, signal.criteria && loadCriteria(signal.criteria));
        return;
      case 'tick':
        this.checkDeadlines(signal.now);
        return;
      case 'revoked':
        return this.guard.revoked(signal);
      default:
        return;
    }
  }

  /** Fills the batch from the ring, else from the log, else waits for the feed. */
  private async refill(): Promise<void> {
    const feed = this.feed!;
    const fromRing = feed.after(this.position, this.settings.pageSize);
    if (fromRing === null) {
      // Behind the ring: read the log, one page at a time, at the reader's pace.
      const page = await this.readPage(feed.head);
      // Pruned under our feet (a hole, or nothing where the feed knows events): say so rather than skip.
      if (page.length === 0) throw cursorExpired(this.position);
      checkContiguous(this.position, page);
      this.setBatch(page, true);
      const last = page[page.length - 1]!.sequence;
      // A full page short of the head: the next one is read while this one is handed out,
      // so the database's time and ours overlap (one page ahead at most).
      if (page.length === this.settings.pageSize && last < feed.head) {
        this.prefetched = { after: last, page: this.readLog(last, feed.head) };
        this.prefetched.page.catch(() => {}); // reported when it is awaited
      }
      return;
    }
    if (fromRing.length > 0) {
      this.setBatch(fromRing);
      return;
    }
    await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** The log page after the position: the one read ahead for it, else a read now. */
  private readPage(upTo: number): Promise<WalletEvent[]> {
    const ahead = this.prefetched?.after === this.position ? this.prefetched.page : null;
    this.prefetched = null;
    return ahead ?? this.readLog(this.position, upTo);
  }

  private readLog(after: number, upTo: number): Promise<WalletEvent[]> {
    return this.feed!.readPage(after, this.settings.pageSize, upTo);
  }

  /**
   * The batch's next event that passes the filter, or null at the batch's end. Events the
   * filter skips still advance the position, so a filter never looks like a gap.
   */
  private nextInBatch(): WalletEvent | null {
    for (let event = this.batch[this.batchIndex]; event; event = this.batch[this.batchIndex]) {
      this.batchIndex++;
      this.position = event.sequence;
      this.noteReplayProgress();
      if (this.filter(event)) return event;
    }
    return null;
  }

  private setBatch(events: readonly WalletEvent[], fromLog = false): void {
    this.batch = events;
    this.batchIndex = 0;
    this.batchFromLog = fromLog;
  }

  private noteReplayProgress(): void {
    if (this.replay && this.position >= this.replay.to) {
      this.observer?.replayFinished(performance.now() - this.replay.started, this.replay.to - this.replay.from);
      this.replay = null;
    }
  }

  /** True when a notice is about this stream's consumer (same principal, same name). */
  private isMine(notice: { principal: string; consumer: string }): boolean {
    const mine = this.consumer;
    return mine != null && notice.principal === mine.principal && notice.consumer === mine.name;
  }

  /** Marks `event` as delivered (for ack deadlines) and wraps it for the iterator. */
  private handOut(event: WalletEvent): IteratorResult<WalletEvent> {
    this.observer?.delivered(event, this.batchFromLog);
    if (this.consumer && this.settings.ackTimeoutMs) {
      const max = this.settings.maxUnacked ?? Number.POSITIVE_INFINITY;
      const unacked = (this.unacked ??= []);
      if (unacked.length >= max) this.fail(this.slowConsumer(`more than ${max} delivered events waited for their ack`));
      else unacked.push({ sequence: event.sequence, at: Date.now() });
    }
    return { value: event, done: false };
  }

  private acked(sequence: number): void {
    const unacked = this.unacked;
    while (unacked && unacked.length > 0 && unacked[0]!.sequence <= sequence) unacked.shift();
  }

  private checkDeadlines(now: number): void {
    this.guard.tick(now);
    if (this.closed) return;
    const oldest = this.unacked?.[0];
    const timeout = this.settings.ackTimeoutMs ?? 0;
    if (oldest && timeout > 0 && now - oldest.at > timeout) {
      this.fail(
        new DomainError(ErrorCode.ACK_TIMEOUT, `event ${oldest.sequence} was not acknowledged within ${timeout} ms; resubscribe to receive unacked events again`, {
          sequence: oldest.sequence,
        }),
      );
    }
  }

  /** The SLOW_CONSUMER refusal, with where this stream stood. */
  slowConsumer(why: string): DomainError {
    return new DomainError(ErrorCode.SLOW_CONSUMER, `${why} for this subscriber; resume from your last cursor (or your consumer's acked position)`, {
      lastSequence: this.position,
    });
  }

  /** Ends the stream with `error`, reported by the next `next()`. */
  fail(error: Error): void {
    if (this.closed) return;
    if (error instanceof DomainError) this.observer?.ended(error.code);
    this.failure = error;
    this.shutdown();
  }

  private close(): void {
    if (this.closed) return;
    this.failure = null;
    this.shutdown();
  }

  /** The one place a stream ends: leaves its feed, drops its batch, releases a waiting `next()`. */
  private shutdown(): void {
    this.closed = true;
    this.settings.onEnd?.(this);
    this.feed?.leave(this);
    this.batch = NO_EVENTS;
    this.prefetched = null;
    this.wake();
  }
}

/** The batch of a stream that has taken nothing yet: one empty array for all of them. */
const NO_EVENTS: readonly WalletEvent[] = Object.freeze([]);
