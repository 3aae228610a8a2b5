/**
 * One owner's feed on this instance (docs/ARCHITECTURE.md, "OwnerFeeds"): the unit of delivery
 * work is the owner, not the subscriber. A feed listens to the owner's topic once, knows
 * the owner's log up to `head` with no gap, repairs a lost or reordered publish and heals a
 * quiet stream with one log read for all its subscribers, and keeps a bounded, contiguous
 * ring of the owner's latest events from which its subscribers read.
 *
 * Ordering rules:
 * - The topic subscription is made before the log head is read, so anything committed after
 *   that read is heard. If the backbone does not confirm the subscription in time (Redis
 *   away), the feed starts anyway and the periodic head check carries it, seconds late,
 *   until the backbone is back: degraded, never silent.
 * - Events are taken strictly in sequence: an event at or below the head is a duplicate;
 *   one beyond head+1 means a publish was lost or reordered, and the missing range is read
 *   from the log first. Every step runs on one chain, so the ring is always contiguous.
 */
import type { WalletEvent } from '../domain/events.ts';
import { checkContiguous } from './cursor-check.ts';
import type { LogReader } from './event-log.ts';
import type { Signal } from '../backbone/topic-messages.ts';

/** Why the log was read: for the `wallet_events_log_reads_total{reason}` counter. */
export type LogReadReason = 'gap' | 'head' | 'replay';

/** A subscriber of a feed: told when events were appended, and of the owner's other signals. */
export interface OwnerFeedSubscriber {
  /** New events are in the ring (the subscriber pulls them at its own pace). */
  wake(): void;
  /** Ack and preference notices, revocations, clock ticks. */
  signal(signal: Signal): void;
}

/** What a feed needs from the instance. */
export interface OwnerFeedDeps {
  log: LogReader;
  /** Most bytes this feed's ring may hold now (the per-feed bound, shared out under the total). */
  ringBytes: () => number;
  /** Told how the ring's size changed, for the instance-wide total. */
  onRingBytes: (delta: number) => void;
  onLogRead: (reason: LogReadReason) => void;
  /** Events read from the log because their publish was lost or late. */
  onRepaired: (events: number) => void;
  /** Called when a step of the feed failed (a database error): subscribers fall back to the log. */
  onError: (error: Error) => void;
  /** Called when the last subscriber left (the feed is then dropped, unless it already was). */
  onEmpty: (feed: OwnerFeed) => void;
}

/** Events per log read when a feed catches up. */
const PAGE = 500;

interface RingEntry {
  event: WalletEvent;
  bytes: number;
}

export class OwnerFeed {
  /** The last sequence this feed holds with nothing missing before it; -1 until started. */
  private known = -1;
  private readonly ring: RingEntry[] = [];
  private ringStart = 0;
  private bytes = 0;
  private readonly subscribers = new Set<OwnerFeedSubscriber>();
  private chain: Promise<void> = Promise.resolve();
  /** The highest head a catch-up is already scheduled for, so repeated signals queue nothing. */
  private scheduled = 0;
  private stopped = false;
  /** Log pages being read for subscribers behind the ring, by the sequence each starts after. */
  private readonly pagesInFlight = new Map<number, { max: number; page: Promise<WalletEvent[]> }>();

  constructor(
    readonly ownerId: string,
    private readonly deps: OwnerFeedDeps,
  ) {}

  /**
   * Fixes the head once the topic subscription is active (or `attached` timed out): until
   * then, arriving events wait on the chain. Resolves when the feed is positioned.
   */
  start(attached: Promise<unknown>): Promise<void> {
    return this.step(async () => {
      await attached;
      this.known = await this.deps.log.head(this.ownerId);
      this.scheduled = this.known;
    });
  }

  /** The last sequence the feed holds with nothing missing before it (-1 before it started). */
  get head(): number {
    return this.known;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  add(subscriber: OwnerFeedSubscriber): void {
    this.subscribers.add(subscriber);
  }

  /**
   * Removes `subscriber`; the last to leave a running feed has it dropped (`onEmpty`).
   * Safe to call more than once. A subscriber holds its feed and leaves through it, so a
   * subscription keeps no membership object or closure of its own.
   */
  leave(subscriber: OwnerFeedSubscriber): void {
    if (this.subscribers.delete(subscriber) && this.subscribers.size === 0 && !this.stopped) this.deps.onEmpty(this);
  }

  /** Drops the ring; the feed takes nothing more. */
  stop(): void {
    this.stopped = true;
    this.trimTo(0);
  }

  /** A message from the owner's topic, or a local signal for the owner. */
  receive(signal: Signal): void {
    if (this.stopped) return;
    switch (signal.kind) {
      case 'events':
        this.step(() => this.accept(signal.events));
        return;
      case 'head':
        this.catchUpToHead(signal.sequence);
        return;
      default:
        for (const subscriber of this.subscribers) subscriber.signal(signal);
    }
  }

  /** Reads up to the head the periodic check found, unless a read that far is already scheduled. */
  private catchUpToHead(sequence: number): void {
    if (this.stopped || sequence <= this.scheduled) return;
    this.scheduled = sequence;
    this.step(() => this.catchUp(sequence, 'head'));
  }

  /**
   * The ring's events after `position`, or null when the ring does not reach back that far
   * (the caller reads the log). Empty when there is nothing after `position` yet.
   */
  after(position: number, max: number): WalletEvent[] | null {
    if (position >= this.known) return [];
    if (this.ring.length === 0 || position + 1 < this.ringStart) return null;
    const from = position + 1 - this.ringStart;
    return this.ring.slice(from, from + max).map((entry) => entry.event);
  }

  /**
   * A page of the log after `after` (at most `max` events, none past `upTo`) for a
   * subscriber behind the ring. Subscribers that ask for the same page while it is being
   * read share the read and its event objects: when delivery falls behind, the hundred
   * subscribers of an owner cost one read per page, not a hundred. A sharer may get a page
   * that stops at the first reader's `upTo`; its next read goes on from there.
   */
  readPage(after: number, max: number, upTo: number): Promise<WalletEvent[]> {
    const pending = this.pagesInFlight.get(after);
    if (pending && pending.max === max) return pending.page;
    this.deps.onLogRead('replay');
    const entry = { max, page: this.deps.log.read(this.ownerId, after, max, { upTo }) };
    this.pagesInFlight.set(after, entry);
    const settled = () => {
      if (this.pagesInFlight.get(after) === entry) this.pagesInFlight.delete(after);
    };
    entry.page.then(settled, settled);
    return entry.page;
  }

  private step(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.stopped ? undefined : work()));
    this.chain = run.catch((error: Error) => {
      // The next head signal or event schedules the read again.
      this.scheduled = this.known;
      this.deps.onError(error);
    });
    return run;
  }

  private async accept(batch: readonly WalletEvent[]): Promise<void> {
    const before = this.known;
    for (const event of batch) {
      if (event.sequence <= this.known) continue;
      if (event.sequence > this.known + 1) await this.catchUp(event.sequence - 1, 'gap');
      if (event.sequence === this.known + 1) this.append(event);
    }
    this.scheduled = Math.max(this.scheduled, this.known);
    if (this.known > before) this.wakeAll();
  }

  /** Reads the log from the head up to `upTo` (inclusive): one read per page, for every subscriber. */
  private async catchUp(upTo: number, reason: 'head' | 'gap'): Promise<void> {
    let repaired = 0;
    let skipped = false;
    while (!this.stopped && this.known < upTo) {
      const page = await this.deps.log.read(this.ownerId, this.known, PAGE, { upTo });
      this.deps.onLogRead(reason);
      // Pruning removes a prefix of the log: events missing before the page (or no page at
      // all below a head we know of) were pruned before this feed could read them. Stepping
      // over them is what keeps the feed alive; its subscribers still behind them find the
      // hole when they read the log, and end with CURSOR_EXPIRED rather than wait for ever.
      const first = page[0]?.sequence ?? upTo + 1;
      if (first > this.known + 1) {
        this.skipTo(first - 1);
        skipped = true;
      }
      if (page.length === 0) break;
      checkContiguous(this.known, page);
      for (const event of page) this.append(event);
      repaired += page.length;
      if (page.length < PAGE) break;
    }
    if (repaired > 0) this.deps.onRepaired(repaired);
    if (repaired > 0 || skipped) this.wakeAll();
  }

  /** Moves the head past events the log no longer has; the ring, now discontinuous, is emptied. */
  private skipTo(sequence: number): void {
    this.trimTo(0);
    this.known = sequence;
  }

  private append(event: WalletEvent): void {
    // The ring is sized by an estimate of what an event holds in memory: its JSON text.
    const bytes = 256 + JSON.stringify(event.data).length * 2;
    if (this.ring.length === 0) this.ringStart = event.sequence;
    this.ring.push({ event, bytes });
    this.bytes += bytes;
    this.deps.onRingBytes(bytes);
    this.known = event.sequence;
    this.trimTo(this.deps.ringBytes());
  }

  /** Drops the oldest events until the ring holds at most `limit` bytes. */
  private trimTo(limit: number): void {
    let drop = 0;
    let freed = 0;
    while (drop < this.ring.length && this.bytes - freed > limit) freed += this.ring[drop++]!.bytes;
    if (drop === 0) return;
    this.ring.splice(0, drop);
    this.ringStart += drop;
    this.bytes -= freed;
    this.deps.onRingBytes(-freed);
  }

  private wakeAll(): void {
    for (const subscriber of this.subscribers) subscriber.wake();
  }
}
