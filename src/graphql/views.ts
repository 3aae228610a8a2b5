/**
 * What resolvers receive as parents. A transaction arrives either from a table row
 * (bigint amount, Date times) or from an event payload (digit strings, ISO strings); the
 * scalars serialize both forms, so one GraphQL type serves both without copying.
 */
import type { BalanceEventData, TransactionEventData } from '../domain/events.ts';
import type { Transaction } from '../domain/ledger-types.ts';
import type { EventCriteria } from '../delivery/filters.ts';

export type TransactionView = Transaction | TransactionEventData;
export type BalanceView = BalanceEventData;

/** A consumer's saved criteria, flattened the way the SDL shows them. */
export interface PreferencesView {
  consumer: string;
  criteria: EventCriteria;
}
