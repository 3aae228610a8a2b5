import { badInput } from './errors.ts';
import type { Direction, TransactionStatus, TransactionType, WalletStatus } from './ledger-types.ts';

/** The kinds of event in the log; also the values of the GraphQL `WalletEventType` enum. */
export type EventType = 'TRANSACTION' | 'BALANCE' | 'WALLET_STATUS' | 'FRAUD' | 'NOTIFICATION';
export const EVENT_TYPES: readonly EventType[] = ['TRANSACTION', 'BALANCE', 'WALLET_STATUS', 'FRAUD', 'NOTIFICATION'];

/** What happened to a wallet's status. */
export type WalletStatusChange = 'CREATED' | 'FROZEN' | 'UNFROZEN' | 'CLOSED';

/** The full state of a transaction after the change (never a diff). Amounts are digit strings. */
export interface TransactionEventData {
  id: string;
  walletId: string;
  direction: Direction;
  type: TransactionType;
  amount: string;
  currency: string;
  status: TransactionStatus;
  previousStatus: TransactionStatus | null;
  counterparty: string | null;
  description: string | null;
  reversalReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A wallet's balances after the change. */
export interface BalanceEventData {
  walletId: string;
  currency: string;
  available: string;
  ledger: string;
  pending: string;
}

/** A wallet's status after the change, with what changed and why. */
export interface WalletStatusEventData {
  walletId: string;
  change: WalletStatusChange;
  status: WalletStatus;
  currency: string;
  reason: string | null;
}

/** A risk service's verdict on a transaction: the transaction as it stood when flagged. */
export interface FraudEventData {
  walletId: string;
  currency: string;
  /** The flag's id (`FraudFlag.id`). */
  flagId: string;
  transaction: TransactionEventData;
  /** 0 (no risk seen) to 100 (certain fraud). */
  score: number;
  reason: string;
  /** The flagging service token's subject. */
  flaggedBy: string;
}

/** Why a notification was made: a fraud flag, or the kind of alert rule that fired. */
export type NotificationKind = 'FRAUD_FLAG' | 'BALANCE_BELOW' | 'TRANSACTION_ABOVE' | 'DAILY_SPEND_ABOVE';
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['FRAUD_FLAG', 'BALANCE_BELOW', 'TRANSACTION_ABOVE', 'DAILY_SPEND_ABOVE'];

/** One entry of an owner's notification centre, as stored and as carried by its event. */
export interface NotificationData {
  id: string;
  ownerId: string;
  walletId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  /** The event that caused it: the fraud event, or the transaction or balance event a rule fired on. */
  causeEventId: string;
  /** The rule that fired; null for a fraud flag. */
  ruleId: string | null;
  /** The transaction concerned, when there is one. */
  transactionId: string | null;
  createdAt: string;
  readAt: string | null;
}

/** What happened in the notification centre. */
export type NotificationChange = 'CREATED' | 'READ';

/**
 * A change to the owner's notifications: one created, or some marked read. A read change
 * of notifications of several wallets is one event per wallet. `unreadCount` is the
 * owner's whole unread count after the change: the badge every device shows.
 */
export interface NotificationEventData {
  walletId: string;
  currency: string;
  change: NotificationChange;
  /** The notification created; null for READ. */
  notification: NotificationData | null;
  /** The notifications this change marked read (READ); empty for CREATED. */
  readIds: string[];
  /** When they were marked read (READ); null for CREATED. */
  readAt: string | null;
  unreadCount: number;
}

/** Fields every event carries. */
interface EventEnvelope {
  /** Globally unique and stable: the id clients deduplicate on. */
  eventId: string;
  ownerId: string;
  walletId: string;
  /** Per owner, gap-free, allocated in commit order. */
  sequence: number;
  /** ISO 8601 UTC. */
  occurredAt: string;
  /** Its place in the firehose, on events read from it (their cursor is then a feed cursor). */
  firehosePosition?: FirehosePosition;
}

/** One entry of the event log, as stored, published and delivered. */
export type WalletEvent =
  | (EventEnvelope & { type: 'TRANSACTION'; data: TransactionEventData })
  | (EventEnvelope & { type: 'BALANCE'; data: BalanceEventData })
  | (EventEnvelope & { type: 'WALLET_STATUS'; data: WalletStatusEventData })
  | (EventEnvelope & { type: 'FRAUD'; data: FraudEventData })
  | (EventEnvelope & { type: 'NOTIFICATION'; data: NotificationEventData });

/**
 * An event before the log has given it a sequence and a time. Its id is given by the log
 * too, unless something written in the same transaction must name it first (a
 * notification names the event that caused it).
 */
export type EventDraft = { eventId?: string } & (
  | { type: 'TRANSACTION'; walletId: string; data: TransactionEventData }
  | { type: 'BALANCE'; walletId: string; data: BalanceEventData }
  | { type: 'WALLET_STATUS'; walletId: string; data: WalletStatusEventData }
  | { type: 'FRAUD'; walletId: string; data: FraudEventData }
  | { type: 'NOTIFICATION'; walletId: string; data: NotificationEventData }
);

/** Where a reader stands in one owner's log. */
export interface LogPosition {
  ownerId: string;
  sequence: number;
}

const CURSOR_PREFIX = 'v1:';

/**
 * The cursor is opaque to clients but carries the owner, so a cursor replayed against
 * another owner's stream is refused instead of silently skipping or repeating events.
 */
export function encodeCursor(position: LogPosition): string {
  return Buffer.from(`${CURSOR_PREFIX}${position.sequence}:${position.ownerId}`, 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; anything else is BAD_USER_INPUT. */
export function decodeCursor(cursor: string, field = 'after'): LogPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^v1:(\d{1,15}):(.+)$/s.exec(text);
  if (!match) throw badInput(`${field} is not a cursor issued by this server`, field);
  return { sequence: Number(match[1]), ownerId: match[2]! };
}

/** The cursor of an event: the same token in subscriptions, the `events` query and SSE ids. */
export function cursorOf(event: Pick<WalletEvent, 'ownerId' | 'sequence'>): string {
  return encodeCursor({ ownerId: event.ownerId, sequence: event.sequence });
}

/** The topic an owner's events are published on. */
export function ownerTopic(ownerId: string): string {
  return `owner:${ownerId}`;
}

/**
 * Where the ledger hands committed events. The ledger calls it only after its database
 * transaction commits, so a subscriber never sees an event that could still roll back.
 */
export interface EventPublisher {
  publish(ownerId: string, events: readonly WalletEvent[]): Promise<void>;
  /**
   * Tells firehose readers on every instance that transaction `txId` committed events of
   * `tenants` (a hint: they read the log, in feed order, themselves).
   */
  publishCommitWake?(tenants: readonly string[], txId: number): Promise<void>;
}

/** The event variants, by name. */
export type TransactionEvent = Extract<WalletEvent, { type: 'TRANSACTION' }>;
export type BalanceEvent = Extract<WalletEvent, { type: 'BALANCE' }>;
export type WalletStatusEvent = Extract<WalletEvent, { type: 'WALLET_STATUS' }>;
export type FraudEvent = Extract<WalletEvent, { type: 'FRAUD' }>;
export type NotificationEvent = Extract<WalletEvent, { type: 'NOTIFICATION' }>;

/**
 * Where a reader stands in the firehose: feed order is (txId, ownerId, sequence), the
 * writing transaction's id first, so it is the same for every reader and never changes.
 */
export interface FirehosePosition {
  txId: number;
  ownerId: string;
  sequence: number;
}

const FEED_CURSOR = /^f1:(\d{1,17}):(\d{1,15}):(.*)$/s;

/** The position before every event: a feed cursor of it reads a feed from its very beginning. */
export const FIREHOSE_START: FirehosePosition = { txId: 0, ownerId: '', sequence: 0 };

/** The opaque feed cursor of `position` (the `cursor` of `feed` edges and results). */
export function encodeFirehoseCursor(position: FirehosePosition): string {
  return Buffer.from(`f1:${position.txId}:${position.sequence}:${position.ownerId}`, 'utf8').toString('base64url');
}

/** Decodes a feed cursor; anything else (an owner cursor included) is BAD_USER_INPUT. */
export function decodeFirehoseCursor(cursor: string, field = 'after'): FirehosePosition {
  const match = FEED_CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput(`${field} is not a feed cursor issued by this server (owner cursors from \`events\` and owner subscriptions do not work here)`, field);
  return { txId: Number(match[1]), sequence: Number(match[2]), ownerId: match[3]! };
}
