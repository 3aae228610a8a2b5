/**
 * Subscription filters as plain predicates on a logged event. They run before any
 * GraphQL execution, so an event a subscriber doesn't want costs one function call.
 */
import type { EventType, WalletEvent } from './events.ts';
import type { Direction, TransactionStatus, TransactionType } from './ledger-types.ts';

export type EventFilter = (event: WalletEvent) => boolean;

/** What a transaction event must match; absent fields match anything. */
export interface TransactionCriteria {
  status?: readonly TransactionStatus[] | null;
  direction?: Direction | null;
  transactionTypes?: readonly TransactionType[] | null;
  minAmount?: bigint | null;
  maxAmount?: bigint | null;
}

/** What any event must match; absent fields match anything. */
export interface EventCriteria {
  types?: readonly EventType[] | null;
  walletId?: string | null;
  currency?: string | null;
  /** Applies to TRANSACTION events only. */
  transaction?: TransactionCriteria | null;
}

/** Builds the predicate for `criteria`. */
export function eventFilter(criteria: EventCriteria): EventFilter {
  const { types, walletId, currency, transaction } = criteria;
  // Every subscription field's base filter is one of these: shared, not one per subscriber.
  if (!walletId && !currency && !transaction) return typesFilter(types);
  const typeSet = types?.length ? new Set(types) : null;
  const matchTxn = transaction ? transactionMatcher(transaction) : null;
  return (event) => {
    if (typeSet && !typeSet.has(event.type)) return false;
    if (walletId && event.walletId !== walletId) return false;
    if (currency && event.data.currency !== currency) return false;
    if (matchTxn && event.type === 'TRANSACTION' && !matchTxn(event.data)) return false;
    return true;
  };
}

const acceptAll: EventFilter = () => true;
/** Filters of types alone, by their sorted names: at most one per subset of the event types. */
const byTypes = new Map<string, EventFilter>();

function typesFilter(types: readonly EventType[] | null | undefined): EventFilter {
  if (!types?.length) return acceptAll;
  const key = [...new Set(types)].sort().join(',');
  let filter = byTypes.get(key);
  if (!filter) {
    const typeSet = new Set(types);
    byTypes.set(key, (filter = (event) => typeSet.has(event.type)));
  }
  return filter;
}

function transactionMatcher(c: TransactionCriteria) {
  const statuses = c.status?.length ? new Set(c.status) : null;
  const kinds = c.transactionTypes?.length ? new Set(c.transactionTypes) : null;
  return (txn: Extract<WalletEvent, { type: 'TRANSACTION' }>['data']): boolean => {
    if (statuses && !statuses.has(txn.status)) return false;
    if (kinds && !kinds.has(txn.type)) return false;
    if (c.direction && txn.direction !== c.direction) return false;
    if (c.minAmount != null || c.maxAmount != null) {
      const amount = BigInt(txn.amount);
      if (c.minAmount != null && amount < c.minAmount) return false;
      if (c.maxAmount != null && amount > c.maxAmount) return false;
    }
    return true;
  };
}

/** {@link EventCriteria} as JSON (amounts as digit strings), for storage and the topic. */
export interface StoredCriteria {
  types?: EventType[] | null;
  walletId?: string | null;
  currency?: string | null;
  transaction?: {
    status?: TransactionStatus[] | null;
    direction?: Direction | null;
    transactionTypes?: TransactionType[] | null;
    minAmount?: string | null;
    maxAmount?: string | null;
  } | null;
}

/** Converts criteria to their JSON form. */
export function storeCriteria(c: EventCriteria): StoredCriteria {
  const t = c.transaction;
  return {
    types: c.types ? [...c.types] : null,
    walletId: c.walletId ?? null,
    currency: c.currency ?? null,
    transaction: t
      ? {
          status: t.status ? [...t.status] : null,
          direction: t.direction ?? null,
          transactionTypes: t.transactionTypes ? [...t.transactionTypes] : null,
          minAmount: t.minAmount != null ? t.minAmount.toString() : null,
          maxAmount: t.maxAmount != null ? t.maxAmount.toString() : null,
        }
      : null,
  };
}

/** Converts stored criteria back. */
export function loadCriteria(s: StoredCriteria): EventCriteria {
  const t = s.transaction;
  return {
    types: s.types ?? null,
    walletId: s.walletId ?? null,
    currency: s.currency ?? null,
    transaction: t
      ? {
          status: t.status ?? null,
          direction: t.direction ?? null,
          transactionTypes: t.transactionTypes ?? null,
          minAmount: t.minAmount != null ? BigInt(t.minAmount) : null,
          maxAmount: t.maxAmount != null ? BigInt(t.maxAmount) : null,
        }
      : null,
  };
}

/** Both predicates must hold. */
export function bothFilters(a: EventFilter, b: EventFilter): EventFilter {
  return (event) => a(event) && b(event);
}

/** `base` narrowed by `criteria` (none: `base` itself, shared rather than wrapped). */
export function narrowed(base: EventFilter, criteria: EventCriteria | null): EventFilter {
  return criteria ? bothFilters(base, eventFilter(criteria)) : base;
}
