/**
 * What travels on an owner's topic, and what the hub hands its listeners. Besides events,
 * the topic carries ack and preference notices, so a consumer's subscriptions on every
 * instance learn of an ack or a filter change made through any instance.
 *
 * Everything read from the backbone is untrusted input (a shared Redis, a neighbour on
 * the same prefix, a bad deploy): {@link readTopicMessage} checks the whole shape before
 * any listener sees it, so a malformed message is dropped instead of failing streams.
 */
import { EVENT_TYPES, NOTIFICATION_KINDS, type WalletEvent } from '../domain/events.ts';
import { DIRECTIONS, TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../domain/ledger-types.ts';
import { isListOf, isMoneyText, isOneOf, isOptionalText, isRecord, isText, isUuid, isWhole } from '../domain/shape.ts';
import type { StoredCriteria } from '../domain/event-filter.ts';

/** Who a durable consumer belongs to, and its name (see docs/ARCHITECTURE.md, "Consumers"). */
export interface ConsumerKey {
  /** The `sub` of the tokens that use it. */
  principal: string;
  name: string;
}

export type TopicMessage =
  | { kind: 'events'; events: WalletEvent[] }
  | { kind: 'ack'; principal: string; consumer: string; sequence: number }
  | { kind: 'preferences'; principal: string; consumer: string; criteria: StoredCriteria | null };

/** Topic messages plus the signals an instance raises locally for its own listeners. */
export type Signal =
  | TopicMessage
  /** The owner's committed log head, from the periodic check: heals lost publishes on quiet streams. */
  | { kind: 'head'; sequence: number }
  /** A clock tick, for deadlines (ACK_TIMEOUT) without a timer per subscriber. */
  | { kind: 'tick'; now: number }
  /** Access was revoked: streams opened by this subject (or token id) end. */
  | { kind: 'revoked'; subject?: string; jti?: string };

/** Most events one published message carries; larger commits are published in several. */
export const EVENTS_PER_MESSAGE = 500;

const STATUS_CHANGES = ['CREATED', 'FROZEN', 'UNFROZEN', 'CLOSED'] as const;
const NOTIFICATION_CHANGES = ['CREATED', 'READ'] as const;
const WALLET_STATUSES = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;

/** The JSON value of a backbone message, or why it was refused (too large, not JSON), unread past `maxBytes`. */
export function parseBackboneJson(raw: string, maxBytes: number): { value: unknown } | { refused: string } {
  if (raw.length > maxBytes) return { refused: `larger than ${maxBytes} bytes` };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { refused: 'not JSON' };
  }
}

/**
 * Parses a message read from `ownerId`'s topic. Returns the message, or the reason it was
 * refused (too large, not JSON, or not of a known shape, including events of another owner).
 */
export function readTopicMessage(raw: string, ownerId: string, maxBytes: number): TopicMessage | { refused: string } {
  const parsed = parseBackboneJson(raw, maxBytes);
  if ('refused' in parsed) return parsed;
  const message = parsed.value;
  if (!isRecord(message)) return { refused: 'not an object' };
  switch (message.kind) {
    case 'events':
      return isListOf(message.events, (event): event is WalletEvent => isEventOf(event, ownerId), EVENTS_PER_MESSAGE) && message.events.length > 0
        ? { kind: 'events', events: message.events }
        : { refused: 'events that are not well-formed events of this owner' };
    case 'ack':
      return isText(message.principal, 256) && isText(message.consumer, 256) && isWhole(message.sequence)
        ? { kind: 'ack', principal: message.principal, consumer: message.consumer, sequence: message.sequence }
        : { refused: 'a malformed ack notice' };
    case 'preferences':
      return isText(message.principal, 256) && isText(message.consumer, 256) && (message.criteria === null || isStoredCriteria(message.criteria))
        ? { kind: 'preferences', principal: message.principal, consumer: message.consumer, criteria: message.criteria }
        : { refused: 'a malformed preferences notice' };
    default:
      return { refused: 'an unknown kind' };
  }
}

function isTransactionData(data: Record<string, unknown>): boolean {
  return (
    isUuid(data.id) &&
    isOneOf(data.direction, DIRECTIONS) &&
    isOneOf(data.type, TRANSACTION_TYPES) &&
    isMoneyText(data.amount) &&
    isOneOf(data.status, TRANSACTION_STATUSES) &&
    (data.previousStatus === null || isOneOf(data.previousStatus, TRANSACTION_STATUSES)) &&
    isOptionalText(data.counterparty) &&
    isOptionalText(data.description) &&
    isOptionalText(data.reversalReason) &&
    isText(data.createdAt, 64) &&
    isText(data.updatedAt, 64)
  );
}

function isNotificationOf(value: unknown, ownerId: string, walletId: unknown): boolean {
  if (!isRecord(value)) return false;
  return (
    isUuid(value.id) &&
    value.ownerId === ownerId &&
    value.walletId === walletId &&
    isOneOf(value.kind, NOTIFICATION_KINDS) &&
    isText(value.title, 1_024) &&
    isText(value.body, 4_096) &&
    isUuid(value.causeEventId) &&
    (value.ruleId === null || isUuid(value.ruleId)) &&
    (value.transactionId === null || isUuid(value.transactionId)) &&
    isText(value.createdAt, 64) &&
    (value.readAt === null || isText(value.readAt, 64))
  );
}

function isEventOf(value: unknown, ownerId: string): boolean {
  if (!isRecord(value)) return false;
  if (!isUuid(value.eventId) || value.ownerId !== ownerId || !isUuid(value.walletId) || !isWhole(value.sequence, 1)) return false;
  if (!isText(value.occurredAt, 64) || Number.isNaN(Date.parse(value.occurredAt)) || !isRecord(value.data)) return false;
  const data = value.data;
  if (data.walletId !== value.walletId || !isText(data.currency, 8)) return false;
  switch (value.type) {
    case 'TRANSACTION':
      return isTransactionData(data);
    case 'BALANCE':
      return isMoneyText(data.available) && isMoneyText(data.ledger) && isMoneyText(data.pending);
    case 'WALLET_STATUS':
      return isOneOf(data.change, STATUS_CHANGES) && isOneOf(data.status, WALLET_STATUSES) && isOptionalText(data.reason);
    case 'FRAUD':
      return (
        isUuid(data.flagId) &&
        isRecord(data.transaction) &&
        data.transaction.walletId === value.walletId &&
        isTransactionData(data.transaction) &&
        isWhole(data.score) &&
        data.score <= 100 &&
        isText(data.reason, 1_024) &&
        isText(data.flaggedBy, 256)
      );
    case 'NOTIFICATION':
      return (
        isOneOf(data.change, NOTIFICATION_CHANGES) &&
        (data.change === 'CREATED' ? isNotificationOf(data.notification, ownerId, value.walletId) : data.notification === null) &&
        isListOf(data.readIds, (id): id is string => isUuid(id), 1_000) &&
        (data.readAt === null || isText(data.readAt, 64)) &&
        isWhole(data.unreadCount)
      );
    default:
      return false;
  }
}

function isStoredCriteria(value: unknown): value is StoredCriteria {
  if (!isRecord(value)) return false;
  const optional = (v: unknown, check: (x: unknown) => boolean) => v === undefined || v === null || check(v);
  const transaction = value.transaction;
  return (
    optional(value.types, (v) => isListOf(v, (t): t is string => isOneOf(t, EVENT_TYPES), 10)) &&
    optional(value.walletId, isUuid) &&
    optional(value.currency, (v) => isText(v, 8)) &&
    optional(transaction, (t) => {
      if (!isRecord(t)) return false;
      return (
        optional(t.status, (v) => isListOf(v, (s): s is string => isOneOf(s, TRANSACTION_STATUSES), 10)) &&
        optional(t.direction, (v) => isOneOf(v, DIRECTIONS)) &&
        optional(t.transactionTypes, (v) => isListOf(v, (s): s is string => isOneOf(s, TRANSACTION_TYPES), 10)) &&
        optional(t.minAmount, isMoneyText) &&
        optional(t.maxAmount, isMoneyText)
      );
    })
  );
}
