/**
 * One subscriber's ordered view of an owner's log (docs/ARCHITECTURE.md, "Streams: ordering and repair").
 *
 * It attaches to the live topic first (buffering), then fixes its position: the log head
 * for a live-only stream, or the given cursor, from which it replays the log. Every
 * incoming batch is checked against the position: an event at or before it is a
 * duplicate and dropped; one beyond position+1 means a publish was lost or reordered, and
 * the missing range is read from the log first (gap repair). The periodic head signal
 * does the same for a quiet stream whose last publish never came. Filtered-out events
 * still advance the position, so filters never look like gaps.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import { checkContiguous, checkCursor } from './cursor-check.ts';
import type { WalletEvent } from '../domain/events.ts';
import type { EventLog } from './event-log.ts';
import type { EventFilter, StoredCriteria } from './filters.ts';
import type { OwnerHub } from './owner-hub.ts';
import type { ConsumerKey, Signal } from './topic-messages.ts';

export interface EventStreamOptions {
  ownerId: string;
  filter: EventFilter;
  /** Deliver events after this sequence (replaying the log); null starts at the head (live only). */
  afterSequence: number | null;
  /** Matching events allowed to wait for the client before it is ended as SLOW_CONSUMER. */
  queueLimit: number;
  /** Log page size for replay and gap repair. */
  pageSize?: number;
  /** The durable consumer this stream serves, if any (its acks arrive as topic notices). */
  consumer?: ConsumerKey | null;
  /** With a consumer: end the stream if a delivered event stays unacked this long (0 = never). */
  ackTimeoutMs?: number;
  /** With an ack timeout: at most this many delivered events wait for their ack (SLOW_CONSUMER past it). */
  maxUnacked?: number;
  /** With a consumer: rebuilds the filter when that consumer's saved preferences change. */
  onPreferences?: ((criteria: StoredCriteria | null) => EventFilter) | null;
  /** Who opened the stream: a revocation of their access, or their token's expiry, ends it. */
  openedBy?: { subject: string; tokenId: string | null; expiresAt: number | null } | null;
  /** Grace after the token's `exp` before the stream ends. */
  tokenClockSkewMs?: number;
  /** Bytes the transport holds unsent for this client; beyond `maxBufferedBytes` it is SLOW_CONSUMER. */
  bufferedBytes?: (() => number) | null;
  maxBufferedBytes?: number;
  /** Called once when the stream ends, however it ends. */
  onEnd?: () => void;
}

/** What a stream reports (for metrics); every method is optional to call sites. */
export interface StreamObserver {
  delivered(event: WalletEvent): void;
  replayed(): void;
  /** A replay reached the head the stream found when it opened: `events` replayed in `ms`. */
  replayFinished(ms: number, events: number): void;
  gapRepaired(events: number): void;
  ended(code: string): void;
}

/** Collaborators the stream needs; given by the composition root. */
export interface EventStreamDeps {
  hub: OwnerHub;
  log: EventLog;
  observer?: StreamObserver;
}

/** Opens a stream; resolves once it is attached to the live topic and positioned. */
export async function openEventStream(deps: EventStreamDeps, options: EventStreamOptions): Promise<AsyncIterableIterator<WalletEvent>> {
  const stream = new OrderedEventStream(deps, options);
  await stream.start();
  return stream;
}

class OrderedEventStream implements AsyncIterableIterator<WalletEvent> {
  private position = 0;
  private filter: EventFilter;
  private readonly ready: WalletEvent[] = [];
  /** Delivered events not yet acked (consumer streams with an ack timeout only). */
  private readonly unacked: { sequence: number; at: number }[] = [];
  private waiter: { resolve: (result: IteratorResult<WalletEvent>) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private closed = false;
  private detach: () => void = () => {};
  /** Serializes replay, repair and live handling so delivery stays in sequence order. */
  private work: Promise<void> = Promise.resolve();
  /** Highest head already scheduled for catching up, so repeated head signals queue nothing. */
  private scheduledHead = 0;
  /** Steps waiting on the work chain (live batches queued behind a replay, say). */
  private pendingSteps = 0;
  /** Replay waits for the client while more than this many events are ready. */
  private readonly lowWater: number;
  private readonly pageSize: number;
  private spaceWaiter: (() => void) | null = null;

  constructor(
    private readonly deps: EventStreamDeps,
    private readonly options: EventStreamOptions,
  ) {
    // Replay is paced by the client: a page is read only when the queue has room for it,
    // so a long resume never looks like a slow consumer.
    this.lowWater = Math.max(1, Math.floor(options.queueLimit / 2));
    this.pageSize = Math.min(options.pageSize ?? 500, options.queueLimit - this.lowWater);
    this.filter = options.filter;
  }

  async start(): Promise<void> {
    // Live batches may arrive as soon as we attach; they wait on the work chain until the
    // position is fixed, or they would be judged against position 0.
    let positioned!: () => void;
    this.work = new Promise((resolve) => (positioned = resolve));
    // Attach before reading the head: anything committed after the read is surely heard.
    this.detach = await this.deps.hub.attach(this.options.ownerId, (signal) => this.onSignal(signal));
    try {
      const { afterSequence, ownerId } = this.options;
      const bounds = await this.deps.log.bounds(ownerId);
      const head = bounds.last;
      if (afterSequence === null) {
        this.position = head;
      } else {
        checkCursor(afterSequence, bounds);
        this.position = afterSequence;
        if (afterSequence < head) this.replay(afterSequence, head);
      }
    } catch (error) {
      this.closed = true;
      this.detach();
      throw error;
    } finally {
      positioned();
    }
  }

  next(): Promise<IteratorResult<WalletEvent>> {
    const event = this.ready.shift();
    if (this.spaceWaiter && this.ready.length <= this.lowWater) this.releaseSpaceWaiter();
    if (event) return Promise.resolve(this.handOut(event));
    if (this.failure) {
      // Report the failure once; afterwards the iterator is simply done.
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
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

  private onSignal(signal: Signal): void {
    switch (signal.kind) {
      case 'events':
        this.enqueue(() => this.accept(signal.events));
        return;
      case 'head':
        this.scheduleCatchUp(signal.sequence);
        return;
      case 'ack':
        if (this.isMine(signal)) this.acked(signal.sequence);
        return;
      case 'preferences':
        if (this.isMine(signal) && this.options.onPreferences) this.filter = this.options.onPreferences(signal.criteria);
        return;
      case 'tick':
        this.checkDeadlines(signal.now);
        return;
      case 'revoked': {
        const by = this.options.openedBy;
        if (by && ((signal.subject && signal.subject === by.subject) || (signal.jti && signal.jti === by.tokenId))) {
          this.fail(new DomainError(ErrorCode.UNAUTHENTICATED, 'access with this token has been revoked; sign in again', { reason: 'revoked' }));
        }
        return;
      }
    }
  }

  /** True when a notice is about this stream's consumer (same principal, same name). */
  private isMine(notice: { principal: string; consumer: string }): boolean {
    const mine = this.options.consumer;
    return mine != null && notice.principal === mine.principal && notice.consumer === mine.name;
  }

  private enqueue(step: () => Promise<void>): void {
    if (++this.pendingSteps > this.options.queueLimit) {
      this.slowConsumer(`more than ${this.options.queueLimit} batches queued behind a replay`);
      return;
    }
    this.work = this.work
      .then(() => {
        this.pendingSteps--;
        return this.closed ? undefined : step();
      })
      .catch((error: unknown) => this.fail(error as Error));
  }

  /** Resolves once the client has taken the queue down to the low-water mark (or the stream ended). */
  private async roomForPage(): Promise<void> {
    while (!this.closed && this.ready.length > this.lowWater) await new Promise<void>((resolve) => (this.spaceWaiter = resolve));
  }

  private releaseSpaceWaiter(): void {
    const resume = this.spaceWaiter;
    this.spaceWaiter = null;
    resume?.();
  }

  /** Catches up to the head found at open, reporting how long the replay took. */
  private replay(from: number, head: number): void {
    const started = performance.now();
    this.deps.observer?.replayed();
    this.scheduledHead = head;
    this.enqueue(async () => {
      await this.catchUp(head);
      if (!this.closed) this.deps.observer?.replayFinished(performance.now() - started, head - from);
    });
  }

  private scheduleCatchUp(head: number): void {
    if (head <= Math.max(this.position, this.scheduledHead)) return;
    this.scheduledHead = head;
    this.enqueue(() => this.catchUp(head));
  }

  private async accept(batch: readonly WalletEvent[]): Promise<void> {
    for (const event of batch) {
      if (event.sequence <= this.position) continue;
      if (event.sequence > this.position + 1) {
        this.deps.observer?.gapRepaired(event.sequence - 1 - this.position);
        await this.catchUp(event.sequence - 1);
      }
      if (event.sequence === this.position + 1) this.deliver(event);
    }
  }

  /** Reads the log from the current position up to `upTo` (inclusive), delivering as it goes. */
  private async catchUp(upTo: number): Promise<void> {
    while (!this.closed && this.position < upTo) {
      await this.roomForPage();
      if (this.closed) return;
      const page = await this.deps.log.read(this.options.ownerId, this.position, this.pageSize, { upTo });
      if (page.length === 0) return;
      // Pruned under our feet: say so rather than skip.
      checkContiguous(this.position, page);
      for (const event of page) this.deliver(event);
      if (page.length < this.pageSize) return;
    }
  }

  private deliver(event: WalletEvent): void {
    this.position = event.sequence;
    if (!this.filter(event)) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve(this.handOut(event));
      return;
    }
    this.ready.push(event);
    if (this.ready.length > this.options.queueLimit) this.slowConsumer(`more than ${this.options.queueLimit} events waited`);
  }

  /** Marks `event` as delivered (for ack deadlines) and wraps it for the iterator. */
  private handOut(event: WalletEvent): IteratorResult<WalletEvent> {
    this.deps.observer?.delivered(event);
    if (this.options.consumer && this.options.ackTimeoutMs) {
      const max = this.options.maxUnacked ?? Number.POSITIVE_INFINITY;
      if (this.unacked.length >= max) {
        this.slowConsumer(`more than ${max} delivered events waited for their ack`);
        return { value: event, done: false };
      }
      this.unacked.push({ sequence: event.sequence, at: Date.now() });
    }
    this.checkConnectionBuffer();
    return { value: event, done: false };
  }

  private acked(sequence: number): void {
    while (this.unacked.length > 0 && this.unacked[0]!.sequence <= sequence) this.unacked.shift();
  }

  private checkDeadlines(now: number): void {
    const expiresAt = this.options.openedBy?.expiresAt;
    if (expiresAt != null && now > expiresAt * 1000 + (this.options.tokenClockSkewMs ?? 0)) {
      this.fail(new DomainError(ErrorCode.UNAUTHENTICATED, 'the token has expired; reconnect with a fresh one to resume', { reason: 'expired' }));
      return;
    }
    const oldest = this.unacked[0];
    const timeout = this.options.ackTimeoutMs ?? 0;
    if (oldest && timeout > 0 && now - oldest.at > timeout) {
      this.fail(
        new DomainError(ErrorCode.ACK_TIMEOUT, `event ${oldest.sequence} was not acknowledged within ${timeout} ms; resubscribe to receive unacked events again`, {
          sequence: oldest.sequence,
        }),
      );
    }
    this.checkConnectionBuffer();
  }

  /** SLOW_CONSUMER when the transport holds more unsent bytes for this client than allowed. */
  private checkConnectionBuffer(): void {
    const { bufferedBytes, maxBufferedBytes } = this.options;
    if (bufferedBytes && maxBufferedBytes && bufferedBytes() > maxBufferedBytes) this.slowConsumer(`more than ${maxBufferedBytes} bytes waited in the connection`);
  }

  private slowConsumer(why: string): void {
    this.fail(
      new DomainError(ErrorCode.SLOW_CONSUMER, `${why} for this subscriber; resume from your last cursor (or your consumer's acked position)`, {
        lastSequence: this.position,
      }),
    );
  }

  private fail(error: Error): void {
    if (this.closed) return;
    if (error instanceof DomainError) this.deps.observer?.ended(error.code);
    this.failure = error;
    this.ready.length = 0;
    this.shutdown();
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = null;
      this.failure = null;
      reject(error);
    }
  }

  private close(): void {
    if (this.closed) return;
    this.shutdown();
    this.ready.length = 0;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value: undefined, done: true });
    }
  }

  private shutdown(): void {
    if (!this.closed) this.options.onEnd?.();
    this.closed = true;
    this.detach();
    this.releaseSpaceWaiter();
  }
}
