/**
 * One subscriber's ordered view of an owner's log. It attaches to the live topic first,
 * then fixes its starting position, so nothing committed in between can fall through.
 * Every incoming batch is checked against the position: an event at or before it is a
 * duplicate and dropped; one beyond position+1 means a publish was lost or reordered,
 * and the missing range is read from the log before going on (gap repair). Filtered-out
 * events still advance the position, so filters never look like gaps.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { WalletEvent } from '../domain/events.ts';
import type { EventLog } from './event-log.ts';
import type { EventFilter } from './filters.ts';
import type { OwnerHub } from './owner-hub.ts';

export interface EventStreamOptions {
  ownerId: string;
  filter: EventFilter;
  /** Deliver events after this sequence; null starts at the log head (live only). */
  afterSequence: number | null;
  /** Matching events allowed to wait for the client before it is ended as SLOW_CONSUMER. */
  queueLimit: number;
  /** Log page size for replay and gap repair. */
  pageSize?: number;
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

class OrderedEventStream implements AsyncIterableIterator<WalletEvent> {
  private position = 0;
  private readonly ready: WalletEvent[] = [];
  private waiter: { resolve: (result: IteratorResult<WalletEvent>) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private closed = false;
  private detach: () => void = () => {};
  /** Serializes replay, repair and live handling so delivery stays in sequence order. */
  private work: Promise<void> = Promise.resolve();
  private readonly pageSize: number;

  constructor(
    private readonly deps: EventStreamDeps,
    private readonly options: EventStreamOptions,
  ) {
    this.pageSize = options.pageSize ?? 500;
  }

  async start(): Promise<void> {
    // Attach before reading the head: a commit after the head read is then surely heard.
    this.detach = await this.deps.hub.attach(this.options.ownerId, (events) => this.enqueue(() => this.accept(events)));
    try {
      const { afterSequence } = this.options;
      this.position = afterSequence ?? (await this.deps.log.head(this.options.ownerId));
      if (afterSequence !== null) this.enqueue(() => this.catchUp(Number.MAX_SAFE_INTEGER));
    } catch (error) {
      this.detach();
      throw error;
    }
  }

  next(): Promise<IteratorResult<WalletEvent>> {
    const event = this.ready.shift();
    if (event) return Promise.resolve({ value: event, done: false });
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

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(() => (this.closed ? undefined : step())).catch((error: unknown) => this.fail(error as Error));
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
      for (const event of page) this.deliver(event);
      if (page.length < this.pageSize) return;
    }
  }

  private deliver(event: WalletEvent): void {
    this.position = event.sequence;
    if (!this.options.filter(event)) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value: event, done: false });
      return;
    }
    this.ready.push(event);
    if (this.ready.length > this.options.queueLimit) {
      this.fail(
        new DomainError(ErrorCode.SLOW_CONSUMER, `more than ${this.options.queueLimit} events waited for this subscriber; resume from your last cursor`, {
          limit: this.options.queueLimit,
        }),
      );
    }
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
