/**
 * The delivery service resolvers use: opens positioned, filtered streams for an owner,
 * records acks and saved preferences, and tells every instance about them.
 */
import { badInput } from '../domain/errors.ts';
import { decodeCursor, type EventType, type WalletEvent } from '../domain/events.ts';
import type { Logger } from '../logging/logger.ts';
import type { ClientConnection, StreamOpener } from './client-connection.ts';
import type { ConsumerCursors } from './consumers.ts';
import { checkContiguous, checkCursor, cursorExpired } from './cursor-check.ts';
import type { EventLog, LogQuery } from './event-log.ts';
import { OwnerStream, type StreamObserver, type StreamSettings } from './owner-stream.ts';
import type { OwnerFeeds } from './owner-feeds.ts';
import { eventFilter, loadCriteria, narrowed, storeCriteria, type EventCriteria, type StoredCriteria } from '../domain/event-filter.ts';
import type { PreferenceStore } from './preferences.ts';
import { publishNotice } from '../backbone/publisher.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import type { ConsumerKey } from '../backbone/topic-messages.ts';

/** Limits applied to every stream. */
export interface DeliveryLimits {
  tokenClockSkewMs: number;
  /** Most events a stream takes from its feed's ring or the log at once. */
  pageSize: number;
  ackTimeoutMs: number;
  maxBufferedBytes: number;
  /** A stream paused on a full connection this long ends with SLOW_CONSUMER. */
  slowConsumerTimeoutMs: number;
  /** With an ack timeout: delivered, unacked events a stream tracks before SLOW_CONSUMER. */
  maxUnacked: number;
}

/** What a subscription asks for. */
export interface StreamRequest {
  ownerId: string;
  /** The event types the field itself carries (e.g. TRANSACTION for transactionUpdated); null for all. */
  fieldTypes: readonly EventType[] | null;
  /** Filters given as arguments; null when none was, so a consumer's saved preferences apply. */
  criteria: EventCriteria | null;
  /** A cursor to resume after (argument, or SSE Last-Event-ID). */
  after: string | null;
  /** The durable consumer, owned by the principal that asks. */
  consumer: ConsumerKey | null;
  /** The client's connection (its backlog pauses the stream); null where the transport has none to offer. */
  connection?: ClientConnection | null;
  /** Who asks: the stream ends if their access is revoked or their token expires. */
  openedBy?: StreamOpener | null;
  /** The subscription field it serves, for the per-field counts. */
  field?: string;
}

export class Delivery {
  /** Positioned streams by subscription field: a stream is counted from its open until it ends. */
  private readonly openByField = new Map<string, Set<OwnerStream>>();
  /** What every stream of this instance shares (one object, not a copy per subscription). */
  private readonly settings: StreamSettings;

  constructor(
    private readonly deps: {
      feeds: OwnerFeeds;
      log: EventLog;
      consumers: ConsumerCursors;
      preferences: PreferenceStore;
      pubsub: PubSub;
      logger: Logger;
      limits: DeliveryLimits;
      observer?: StreamObserver;
      onAck?: () => void;
    },
  ) {
    const { limits, observer } = deps;
    this.settings = { ...limits, observer, onEnd: (stream) => this.uncount(stream) };
  }

  /**
   * Opens a stream positioned after `after`, else after the consumer's ack, else at the
   * head. The stream joins its owner's feed first and its position is read after the feed
   * is attached, so nothing committed after that read can be missed.
   */
  async open(request: StreamRequest): Promise<AsyncIterableIterator<WalletEvent>> {
    const { feeds, log, consumers, preferences } = this.deps;
    const { ownerId, consumer } = request;
    let afterCursor: number | null = null;
    if (request.after) {
      const position = decodeCursor(request.after);
      if (position.ownerId !== ownerId) throw badInput('after is a cursor of another owner’s log', 'after');
      afterCursor = position.sequence;
    }

    // No closure per stream: the field's filter is shared unless criteria narrow it.
    const base = eventFilter({ types: request.fieldTypes });
    const followPreferences = consumer !== null && request.criteria === null;
    const saved = followPreferences ? await preferences.get(ownerId, consumer) : null;
    const stream = new OwnerStream(this.settings, {
      filter: narrowed(base, request.criteria ?? (saved ? loadCriteria(saved) : null)),
      consumer,
      followsPreferencesOf: followPreferences ? base : null,
      connection: request.connection ?? null,
      openedBy: request.openedBy ?? null,
    });
    // Joined before anything is awaited: a revocation or a close from now on reaches the
    // stream, and however it ends, it leaves the feed.
    const { feed, ready } = feeds.join(ownerId, stream);
    stream.joined(feed);
    try {
      await ready;
      const bounds = await log.bounds(ownerId);
      const after = afterCursor ?? (consumer ? await consumers.startFor(ownerId, consumer, bounds.last) : bounds.last);
      checkCursor(after, bounds);
      const ended = stream.endedWith;
      if (ended) throw ended;
      stream.place(after, bounds.last);
      const field = request.field ?? 'other';
      let counted = this.openByField.get(field);
      if (!counted) this.openByField.set(field, (counted = new Set()));
      counted.add(stream);
      return stream;
    } catch (error) {
      await stream.return(); // ends it in its one place: leaves the feed
      throw error;
    }
  }

  /** A stream ended: it no longer counts (a no-op for one that ended while it opened). */
  private uncount(stream: OwnerStream): void {
    for (const [field, streams] of this.openByField) {
      if (!streams.delete(stream)) continue;
      if (streams.size === 0) this.openByField.delete(field);
      return;
    }
  }

  /** Positioned streams on this instance, in all. */
  get streamCount(): number {
    let count = 0;
    for (const streams of this.openByField.values()) count += streams.size;
    return count;
  }

  /** Positioned streams on this instance per subscription field. */
  streamsByField(): Record<string, number> {
    return Object.fromEntries([...this.openByField].map(([field, streams]) => [field, streams.size]));
  }

  /**
   * Reads a page of the owner's log after `afterSequence` for polling: CURSOR_EXPIRED (or
   * BAD_USER_INPUT) unless the log still holds everything after it. The watermark is read
   * after the page, so a prune that raced the read is seen, never skipped over.
   */
  async readPage(ownerId: string, afterSequence: number, limit: number, query: LogQuery): Promise<WalletEvent[]> {
    const page = await this.deps.log.read(ownerId, afterSequence, limit, query);
    checkCursor(afterSequence, await this.deps.log.bounds(ownerId));
    if (!query.types?.length && !query.walletId) checkContiguous(afterSequence, page);
    return page;
  }

  /**
   * Looks an event up for an ack: null when unknown; CURSOR_EXPIRED when it lies below the
   * owner's retention watermark (the log no longer holds what leads up to it).
   */
  async findEvent(eventId: string): Promise<WalletEvent | null> {
    const event = await this.deps.log.find(eventId);
    if (event && event.sequence < (await this.deps.log.bounds(event.ownerId)).first) throw cursorExpired(event.sequence - 1);
    return event;
  }

  /** Acknowledges `event` and everything before it for `consumer`; returns the stored position. */
  async ack(event: WalletEvent, consumer: ConsumerKey): Promise<number> {
    const sequence = await this.deps.consumers.ack(event.ownerId, consumer, event.sequence);
    this.deps.onAck?.();
    await publishNotice(this.deps.pubsub, this.deps.logger, event.ownerId, { kind: 'ack', principal: consumer.principal, consumer: consumer.name, sequence });
    return sequence;
  }

  /** The consumer's saved criteria, or null. */
  async preferencesOf(ownerId: string, consumer: ConsumerKey): Promise<EventCriteria | null> {
    const saved = await this.deps.preferences.get(ownerId, consumer);
    return saved ? loadCriteria(saved) : null;
  }

  /** Saves the consumer's criteria and applies them to its live streams on every instance. */
  async savePreferences(ownerId: string, consumer: ConsumerKey, criteria: EventCriteria): Promise<void> {
    const stored: StoredCriteria = storeCriteria(criteria);
    await this.deps.preferences.put(ownerId, consumer, stored);
    await publishNotice(this.deps.pubsub, this.deps.logger, ownerId, { kind: 'preferences', principal: consumer.principal, consumer: consumer.name, criteria: stored });
  }
}
