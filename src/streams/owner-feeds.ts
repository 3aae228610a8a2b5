/**
 * The feeds of this instance: one {@link OwnerFeed} per owner with local subscribers,
 * created by the first and dropped with the last. Fan-out cost therefore grows with an
 * owner's own subscribers, never with the total, and the instance listens to an owner's
 * topic only while someone local does. Every message read from the topic is checked here
 * before the feed sees it (see `readTopicMessage`).
 */
import { ownerTopic } from '../domain/events.ts';
import type { Logger } from '../logging/logger.ts';
import type { DroppedMessages } from '../backbone/dropped-messages.ts';
import type { EventLog } from './event-log.ts';
import { OwnerFeed, type OwnerFeedSubscriber, type LogReadReason } from './owner-feed.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import { readTopicMessage, type Signal } from '../backbone/topic-messages.ts';

/** Bounds and timings of the feeds; see docs/reference/configuration.md. */
export interface OwnerFeedOptions {
  /** Larger backbone messages are dropped unread. */
  maxMessageBytes: number;
  /** Most bytes one owner's ring holds. */
  ringBytesPerOwner: number;
  /** Most bytes all rings of the instance hold together. */
  ringBytesTotal: number;
  /** How long a new feed waits for the backbone to confirm its topic before it starts degraded. */
  attachTimeoutMs: number;
}

/** What the feeds report (metrics). */
export interface OwnerFeedObserver {
  logRead(reason: LogReadReason): void;
  gapRepaired(events: number): void;
}

interface Entry {
  feed: OwnerFeed;
  /** Resolves to the topic's unsubscribe function, or null if the subscription failed. */
  topic: Promise<(() => void) | null>;
  ready: Promise<void>;
}

/** A subscriber's place in its owner's feed, as `join` returns it. */
export interface Membership {
  /** The feed: the subscriber reads its ring and leaves through `feed.leave(subscriber)`. */
  feed: OwnerFeed;
  /** Resolves once the feed knows its head (rejects if it could not read it). */
  ready: Promise<void>;
}

export class OwnerFeeds {
  private readonly entries = new Map<string, Entry>();
  private ringTotal = 0;

  constructor(
    private readonly deps: { pubsub: PubSub; log: EventLog; dropped: DroppedMessages; logger: Logger; observer?: OwnerFeedObserver },
    private readonly options: OwnerFeedOptions,
  ) {}

  /** Adds `subscriber` to `ownerId`'s feed, creating the feed (and its topic subscription) if needed. */
  join(ownerId: string, subscriber: OwnerFeedSubscriber): Membership {
    const entry = this.entries.get(ownerId) ?? this.create(ownerId);
    entry.feed.add(subscriber);
    return { feed: entry.feed, ready: entry.ready };
  }

  /** Hands `signal` to `ownerId`'s feed, if this instance has one (the head check). */
  signal(ownerId: string, signal: Signal): void {
    this.entries.get(ownerId)?.feed.receive(signal);
  }

  private readonly broadcastListeners = new Set<(signal: Signal) => void>();

  /** Hands `signal` to every feed's subscribers (clock ticks, revocations), and to the listeners (the firehose). */
  broadcast(signal: Signal): void {
    for (const { feed } of this.entries.values()) feed.receive(signal);
    for (const listener of this.broadcastListeners) listener(signal);
  }

  /** Calls `listener` with every broadcast signal from now on. */
  onBroadcast(listener: (signal: Signal) => void): void {
    this.broadcastListeners.add(listener);
  }

  /** Owners with a feed here (for the head check). */
  owners(): string[] {
    return [...this.entries.keys()];
  }

  get ownerCount(): number {
    return this.entries.size;
  }

  /** Subscribers across all feeds. */
  get subscriberCount(): number {
    let count = 0;
    for (const { feed } of this.entries.values()) count += feed.subscriberCount;
    return count;
  }

  /** Bytes held by all rings. */
  get ringBytes(): number {
    return this.ringTotal;
  }

  private create(ownerId: string): Entry {
    const { pubsub, log, logger, observer } = this.deps;
    const feed = new OwnerFeed(ownerId, {
      log,
      ringBytes: () => Math.min(this.options.ringBytesPerOwner, Math.floor(this.options.ringBytesTotal / Math.max(1, this.entries.size))),
      onRingBytes: (delta) => (this.ringTotal += delta),
      onLogRead: (reason) => observer?.logRead(reason),
      onRepaired: (events) => observer?.gapRepaired(events),
      onError: (error) => logger.warn('feed step failed; the next signal retries', { ownerId, error: error.message }),
      onEmpty: (emptied) => {
        const current = this.entries.get(ownerId);
        if (current?.feed === emptied) this.drop(ownerId, current);
      },
    });
    const topic = pubsub
      .subscribe(ownerTopic(ownerId), (raw) => {
        const message = readTopicMessage(raw, ownerId, this.options.maxMessageBytes);
        if ('refused' in message) this.deps.dropped.drop(ownerTopic(ownerId), message.refused);
        else feed.receive(message);
      })
      .then(
        (unsubscribe) => unsubscribe,
        (error: Error) => {
          logger.warn('owner topic subscription failed; the feed follows the log head', { ownerId, error: error.message });
          return null;
        },
      );
    const entry: Entry = { feed, topic, ready: feed.start(withTimeout(topic, this.options.attachTimeoutMs)) };
    // A feed that could not read its head is of no use: its subscribers' opens fail, and the next opener starts afresh.
    entry.ready.catch(() => {
      if (this.entries.get(ownerId) === entry) this.drop(ownerId, entry);
    });
    this.entries.set(ownerId, entry);
    return entry;
  }

  private drop(ownerId: string, entry: Entry): void {
    this.entries.delete(ownerId);
    entry.feed.stop();
    void entry.topic.then((unsubscribe) => unsubscribe?.());
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
