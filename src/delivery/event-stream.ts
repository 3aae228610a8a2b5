/**
 * One subscriber's ordered view of an owner's log (DESIGN.md §5).
 *
 * It attaches to the live topic first (buffering), then fixes its position: the log head
 * for a live-only stream, or the given cursor, from which it replays the log. Every
 * incoming batch is checked against the position: an event at or before it is a
 * duplicate and dropped; one beyond position+1 means a publish was lost or reordered, and
 * the missing range is read from the log first (gap repair). The periodic head signal
 * does the same for a quiet stream whose last publish never came. Filtered-out events
 * still advance the position, so filters never look like gaps.
 */
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { WalletEvent } from '../domain/events.ts';
import type { EventLog } from './event-log.ts';
import type { EventFilter, StoredCriteria } from './filters.ts';
import type { OwnerHub } from './owner-hub.ts';
import type { Signal } from './topic-messages.ts';

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
  consumer?: string | null;
  /** With a consumer: end the stream if a delivered event stays unacked this long (0 = never). */
  ackTimeoutMs?: number;
  /** With a consumer: rebuilds the filter when that consumer's saved preferences change. */
  onPreferences?: ((criteria: StoredCriteria | null) => EventFilter) | null;
  /** Bytes the transport holds unsent for this client; beyond `maxBufferedBytes` it is SLOW_CONSUMER. */
  bufferedBytes?: (() => number) | null;
  maxBufferedBytes?: number;
}

/** Collaborators the stream needs; given by the composition root. */
export interface EventStreamDeps {
  hub: OwnerHub;
  log: EventLog;
}

/** Opens a stream; resolves once it is attached to the live topic and positioned. */
export async function openEventStream(deps: EventStreamDeps, options: EventStreamOptions): Promise<AsyncIterableIterator<WalletEvent>> {
  const stream = new OrderedEventStream(deps, options);
  await stream.start();
  return stream;
}

/** Refuses a cursor the log can no longer serve without a gap, or one it never issued. */
async function checkCursor(log: EventLog, ownerId: string, after: number, head: number): Promise<void> {
  if (after > head) throw badInput('after is ahead of this owner’s log: it was not issued by this deployment', 'after');
  if (after === head) return;
  const first = await log.firstSequence(ownerId);
  if (first === null || first > after + 1) throw cursorExpired(after);
}

function cursorExpired(after: number): DomainError {
  return new DomainError(ErrorCode.CURSOR_EXPIRED, 'events after this cursor are older than the retention period; resync with the queries, then subscribe without a cursor', {
    sequence: after,
  });
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
  private readonly pageSize: number;

  constructor(
    private readonly deps: EventStreamDeps,
    private readonly options: EventStreamOptions,
  ) {
    this.pageSize = options.pageSize ?? 500;
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
      const head = await this.deps.log.head(ownerId);
      if (afterSequence === null) {
        this.position = head;
      } else {
        await checkCursor(this.deps.log, ownerId, afterSequence, head);
        this.position = afterSequence;
        this.scheduleCatchUp(head);
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
        if (signal.consumer === this.options.consumer) this.acked(signal.sequence);
        return;
      case 'preferences':
        if (signal.consumer === this.options.consumer && this.options.onPreferences) this.filter = this.options.onPreferences(signal.criteria);
        return;
      case 'tick':
        this.checkDeadlines(signal.now);
        return;
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(() => (this.closed ? undefined : step())).catch((error: unknown) => this.fail(error as Error));
  }

  private scheduleCatchUp(head: number): void {
    if (head <= Math.max(this.position, this.scheduledHead)) return;
    this.scheduledHead = head;
    this.enqueue(() => this.catchUp(head));
  }

  private async accept(batch: readonly WalletEvent[]): Promise<void> {
    for (const event of batch) {
      if (event.sequence <= this.position) continue;
      if (event.sequence > this.position + 1) await this.catchUp(event.sequence - 1);
      if (event.sequence === this.position + 1) this.deliver(event);
    }
  }

  /** Reads the log from the current position up to `upTo` (inclusive), delivering as it goes. */
  private async catchUp(upTo: number): Promise<void> {
    while (!this.closed && this.position < upTo) {
      const page = await this.deps.log.read(this.options.ownerId, this.position, this.pageSize, { upTo });
      if (page.length === 0) return;
      // Pruned under our feet: say so rather than skip.
      if (page[0]!.sequence !== this.position + 1) throw cursorExpired(this.position);
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
    if (this.options.consumer && this.options.ackTimeoutMs) this.unacked.push({ sequence: event.sequence, at: Date.now() });
    const { bufferedBytes, maxBufferedBytes } = this.options;
    if (bufferedBytes && maxBufferedBytes && bufferedBytes() > maxBufferedBytes) {
      this.slowConsumer(`more than ${maxBufferedBytes} bytes waited in the connection`);
    }
    return { value: event, done: false };
  }

  private acked(sequence: number): void {
    while (this.unacked.length > 0 && this.unacked[0]!.sequence <= sequence) this.unacked.shift();
  }

  private checkDeadlines(now: number): void {
    const oldest = this.unacked[0];
    const timeout = this.options.ackTimeoutMs ?? 0;
    if (oldest && timeout > 0 && now - oldest.at > timeout) {
      this.fail(
        new DomainError(ErrorCode.ACK_TIMEOUT, `event ${oldest.sequence} was not acknowledged within ${timeout} ms; resubscribe to receive unacked events again`, {
          sequence: oldest.sequence,
        }),
      );
    }
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
    this.closed = true;
    this.detach();
  }
}
