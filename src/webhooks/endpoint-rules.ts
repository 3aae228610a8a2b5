/**
 * What an endpoint's stored `types` and `criteria` select. The criteria are stored as the
 * `filter` was given (amounts as digit strings, so the JSON column holds them exactly).
 */
import type { EventType } from '../domain/events.ts';
import type { Direction, TransactionStatus, TransactionType } from '../domain/ledger-types.ts';
import type { EventCriteria } from '../domain/event-filter.ts';

/** A webhook filter as stored: the GraphQL `WalletEventFilter` with amounts as strings. */
export interface StoredFilter {
  status?: TransactionStatus[] | null;
  direction?: Direction | null;
  transactionTypes?: TransactionType[] | null;
  minAmount?: string | null;
  maxAmount?: string | null;
  currency?: string | null;
}

/** The criteria an endpoint's events must match. */
export function criteriaOf(endpoint: { types: EventType[] | null; criteria: unknown }): EventCriteria {
  const filter = (endpoint.criteria ?? {}) as StoredFilter;
  const amount = (value: string | null | undefined) => (value == null ? null : BigInt(value));
  return {
    types: endpoint.types,
    currency: filter.currency ?? null,
    transaction: {
      status: filter.status ?? null,
      direction: filter.direction ?? null,
      transactionTypes: filter.transactionTypes ?? null,
      minAmount: amount(filter.minAmount),
      maxAmount: amount(filter.maxAmount),
    },
  };
}
