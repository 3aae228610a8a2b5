/**
 * What travels on an owner's topic, and what the hub hands its listeners. Besides events,
 * the topic carries ack and preference notices, so a consumer's subscriptions on every
 * instance learn of an ack or a filter change made through any instance.
 */
import type { WalletEvent } from '../domain/events.ts';
import type { StoredCriteria } from './filters.ts';

export type TopicMessage =
  | { kind: 'events'; events: WalletEvent[] }
  | { kind: 'ack'; consumer: string; sequence: number }
  | { kind: 'preferences'; consumer: string; criteria: StoredCriteria | null };

/** Topic messages plus the signals an instance raises locally for its own listeners. */
export type Signal =
  | TopicMessage
  /** The owner's committed log head, from the periodic check: heals lost publishes on quiet streams. */
  | { kind: 'head'; sequence: number }
  /** A clock tick, for deadlines (ACK_TIMEOUT) without a timer per subscriber. */
  | { kind: 'tick'; now: number }
  /** Access was revoked: streams opened by this subject (or token id) end. */
  | { kind: 'revoked'; subject?: string; jti?: string };
