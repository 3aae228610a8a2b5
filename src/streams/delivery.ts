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
import { OwnerStream, type StreamObserver } from './owner-stream.ts';
import type { OwnerFeeds } from './owner-feeds.ts';
import { bothFilters, eventFilter, loadCriteria, storeCriteria, type EventCriteria, type EventFilter, type StoredCriteria } from '../domain/event-filter.ts';
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
  private readonly openByField = new Map<string, number>();

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
  ) {}

  /**
   * Opens a stream positioned after `after`, else after the consumer's ack, else at the
   * head. The stream joins its owner's feed first and its position is read after the feed
   * is attached, so nothing committed after that read can be missed.
   */
  async open(request: StreamRequest): Promise<AsyncIterableIterator<WalletEvent>> {
    const { feeds, log, consumers, preferences, limits } = this.deps;
    const { ownerId, consumer } = request;
    let afterCursor: number | null = null;
    if (request.after) {
      const position = decodeCursor(request.after);
      if (position.ownerId !== ownerId) throw badInput('after is a cursor of another owner’s log', 'after');
      afterCursor = position.sequence;
    }

    const base = eventFilter({ types: request.fieldTypes });
    const withBase = (criteria: EventCriteria | null): EventFilter => (criteria ? bothFilters(base, eventFilter(criteria)) : base);
    const followPreferences = consumer !== null && request.criteria === null;
    const saved = followPreferences ? await preferences.get(ownerId, consumer) : null;

    // A stream counts once it is positioned (open resolved), until it ends, however it ends.
    const field = request.field ?? 'other';
    let state: 'opening' | 'counted' | 'ended' = 'opening';
    const release = () => {
      if (state === 'counted') {
        const left = this.openByField.get(field)! - 1;
        if (left > 0) this.openByField.set(field, left);
        else this.openByField.delete(field);
      }
      state = 'ended';
    };
    const stream = new OwnerStream(
      {
        ownerId,
        filter: withBase(request.criteria ?? (saved ? loadCriteria(saved) : null)),
        pageSize: limits.pageSize,
        consumer,
        ackTimeoutMs: consumer ? limits.ackTimeoutMs : 0,
        maxUnacked: limits.maxUnacked,
        onPreferences: followPreferences ? (criteria) => withBase(criteria ? loadCriteria(criteria) : null) : null,
        connection: request.connection ?? null,
        maxBufferedBytes: limits.maxBufferedBytes,
        slowConsumerTimeoutMs: limits.slowConsumerTimeoutMs,
        openedBy: request.openedBy ?? null,
        tokenClockSkewMs: limits.tokenClockSkewMs,
        onEnd: release,
      },
      this.deps.observer,
    );
    // Joined before anything is awaited: a revocation or a close from now on reaches the
    // stream, and however it ends, it leaves the feed.
    const membership = feeds.join(ownerId, stream);
    stream.joined(membership);
    try {
      await membership.ready;
      const bounds = await log.bounds(ownerId);
      const after = afterCursor ?? (consumer ? await consumers.startFor(ownerId, consumer, bounds.last) : bounds.last);
      checkCursor(after, bounds);
      const ended = stream.endedWith;
      if (ended) throw ended;
      stream.place(after, bounds.last);
      state = 'counted';
      this.openByField.set(field, (this.openByField.get(field) ?? 0) + 1);
      return stream;
    } catch (error) {
      await stream.return(); // ends it in its one place: leaves the feed, runs `release`
      throw error;
    }
  }

  /** Positioned streams on this instance, in all. */
  get streamCount(): number {
    let count = 0;
    for (const n of this.openByField.values()) count += n;
    return count;
  }

  /** Positioned streams on this instance per subscription field. */
  streamsByField(): Record<string, number> {
    return Object.fromEntries(this.openByField);
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
