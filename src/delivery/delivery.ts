/**
 * The delivery service resolvers use: opens positioned, filtered streams for an owner,
 * records acks and saved preferences, and tells every instance about them.
 */
import { badInput } from '../domain/errors.ts';
import { decodeCursor, type EventType, type WalletEvent } from '../domain/events.ts';
import type { Logger } from '../logger.ts';
import type { ConsumerCursors } from './consumers.ts';
import { checkCursor } from './cursor-check.ts';
import type { EventLog } from './event-log.ts';
import { openEventStream, type StreamObserver } from './event-stream.ts';
import { bothFilters, eventFilter, loadCriteria, storeCriteria, type EventCriteria, type EventFilter, type StoredCriteria } from './filters.ts';
import type { OwnerHub } from './owner-hub.ts';
import type { PreferenceStore } from './preferences.ts';
import { publishNotice } from './publisher.ts';
import type { PubSub } from './pubsub.ts';

/** Limits applied to every stream. */
export interface DeliveryLimits {
  tokenClockSkewMs: number;
  queueLimit: number;
  ackTimeoutMs: number;
  maxBufferedBytes: number;
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
  consumer: string | null;
  /** Bytes queued on the client's connection, when the transport can tell. */
  bufferedBytes?: (() => number) | null;
  /** Who asks: the stream ends if their access is revoked or their token expires. */
  openedBy?: { subject: string; tokenId: string | null; expiresAt: number | null } | null;
  /** The subscription field it serves, for the per-field counts. */
  field?: string;
}

export class Delivery {
  private readonly openByField = new Map<string, number>();

  constructor(
    private readonly deps: {
      hub: OwnerHub;
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

  /** Opens a stream positioned after `after`, else after the consumer's ack, else at the head. */
  async open(request: StreamRequest): Promise<AsyncIterableIterator<WalletEvent>> {
    const { hub, log, consumers, preferences, limits } = this.deps;
    const { ownerId, consumer } = request;
    let afterSequence: number | null = null;
    if (request.after) {
      const position = decodeCursor(request.after);
      if (position.ownerId !== ownerId) throw badInput('after is a cursor of another owner’s log', 'after');
      afterSequence = position.sequence;
    } else if (consumer) {
      afterSequence = await consumers.startFor(ownerId, consumer, await log.head(ownerId));
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
    try {
      const stream = await openEventStream(
        { hub, log, observer: this.deps.observer },
        {
          ownerId,
          afterSequence,
          filter: withBase(request.criteria ?? (saved ? loadCriteria(saved) : null)),
          queueLimit: limits.queueLimit,
          consumer,
          ackTimeoutMs: consumer ? limits.ackTimeoutMs : 0,
          onPreferences: followPreferences ? (criteria) => withBase(criteria ? loadCriteria(criteria) : null) : null,
          bufferedBytes: request.bufferedBytes ?? null,
          maxBufferedBytes: limits.maxBufferedBytes,
          openedBy: request.openedBy ?? null,
          tokenClockSkewMs: limits.tokenClockSkewMs,
          onEnd: release,
        },
      );
      if (state === 'opening') {
        state = 'counted';
        this.openByField.set(field, (this.openByField.get(field) ?? 0) + 1);
      }
      return stream;
    } catch (error) {
      release();
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

  /** CURSOR_EXPIRED (or BAD_USER_INPUT) unless the log still holds everything after `afterSequence`. */
  async checkCursor(ownerId: string, afterSequence: number): Promise<void> {
    await checkCursor(this.deps.log, ownerId, afterSequence, await this.deps.log.head(ownerId));
  }

  /** Looks an event up for an ack (null when unknown or pruned). */
  findEvent(eventId: string): Promise<WalletEvent | null> {
    return this.deps.log.find(eventId);
  }

  /** Acknowledges `event` and everything before it for `consumer`; returns the stored position. */
  async ack(event: WalletEvent, consumer: string): Promise<number> {
    const sequence = await this.deps.consumers.ack(event.ownerId, consumer, event.sequence);
    this.deps.onAck?.();
    await publishNotice(this.deps.pubsub, this.deps.logger, event.ownerId, { kind: 'ack', consumer, sequence });
    return sequence;
  }

  /** The consumer's saved criteria, or null. */
  async preferencesOf(ownerId: string, consumer: string): Promise<EventCriteria | null> {
    const saved = await this.deps.preferences.get(ownerId, consumer);
    return saved ? loadCriteria(saved) : null;
  }

  /** Saves the consumer's criteria and applies them to its live streams on every instance. */
  async savePreferences(ownerId: string, consumer: string, criteria: EventCriteria): Promise<void> {
    const stored: StoredCriteria = storeCriteria(criteria);
    await this.deps.preferences.put(ownerId, consumer, stored);
    await publishNotice(this.deps.pubsub, this.deps.logger, ownerId, { kind: 'preferences', consumer, criteria: stored });
  }
}
