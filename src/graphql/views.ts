/**
 * What resolvers receive as parents. A transaction arrives either from a table row
 * (bigint amount, Date times) or from an event payload (digit strings, ISO strings); the
 * scalars serialize both forms, so one GraphQL type serves both without copying.
 */
import type { BalanceEventData, TransactionEventData } from '../domain/events.ts';
import type { Transaction } from '../domain/ledger-types.ts';
import type { EventCriteria } from '../domain/event-filter.ts';
import type { StoredFilter } from '../webhooks/endpoint-rules.ts';
import type { DeliveryRow, EndpointRow } from '../webhooks/store.ts';
import type { DeviceRow } from '../push/push-store.ts';

export type TransactionView = Transaction | TransactionEventData;
export type BalanceView = BalanceEventData;

/** A consumer's saved criteria, flattened the way the SDL shows them. */
export interface PreferencesView {
  consumer: string;
  criteria: EventCriteria;
}

/** A webhook endpoint as stored (its secrets are never resolved). */
export type WebhookEndpointView = EndpointRow;
/** A webhook delivery as stored. */
export type WebhookDeliveryView = DeliveryRow;
/** An endpoint's filter as stored (amounts as digit strings). */
export type WebhookFilterView = StoredFilter;
/** A push device as stored (its token or endpoint is never resolved). */
export type PushDeviceView = DeviceRow;
