/** What every resolver receives: who is calling, the services it may use, and transport facts. */
import type { Delivery } from '../streams/delivery.ts';
import type { AccessRevoker } from '../auth/revocations.ts';
import type { EventLog } from '../streams/event-log.ts';
import type { FirehoseLog } from '../firehose/firehose-log.ts';
import type { TenantFirehoses } from '../firehose/tenant-firehoses.ts';
import type { FirehoseConsumers } from '../firehose/firehose-consumers.ts';
import type { DomainError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { Limits } from '../config/load.ts';
import type { ClientConnection } from '../streams/client-connection.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import type { Tenancy } from '../ledger/tenancy.ts';
import type { WebhookEndpoints } from '../webhooks/endpoints.ts';
import type { AlertRules } from '../notifications/alert-rule-store.ts';
import type { NotificationReads } from '../notifications/notification-reads.ts';
import type { PushDevices } from '../push/push-devices.ts';

/** The application services resolvers call; built once by the composition root. */
export interface Services {
  ledger: Ledger;
  queries: LedgerQueries;
  /** Alert rules: create, list, delete. */
  alertRules: AlertRules;
  /** The notification centre's reads. */
  notifications: NotificationReads;
  /** Push devices, and the VAPID public key browsers subscribe with (null: Web Push is off). */
  push: { devices: PushDevices; webPushPublicKey: string | null };
  /** Owners' tenants and wallets' owners, for the access rules. */
  tenancy: Tenancy;
  /** Owners' logs: polling reads and ack look-ups. */
  eventLog: EventLog;
  /** The firehose's reads (feed order, below the horizon). */
  firehoseLog: FirehoseLog;
  /** Firehose streams (one feed per tenant with readers on this instance). */
  firehose: TenantFirehoses;
  /** Durable firehose consumers' positions. */
  firehoseConsumers: FirehoseConsumers;
  /** Webhook endpoints and their deliveries. */
  webhooks: WebhookEndpoints;
  delivery: Delivery;
  access: AccessRevoker;
  maxPageSize: number;
  /** The request limits resolvers apply: inputs per `postTransactions`, items per list argument. */
  limits: Pick<Limits, 'maxBatchSize' | 'maxListItems'>;
  /** This instance's live figures, for the `serverStats` query. */
  serverStats: () => ServerStatsSnapshot;
}

/** What `serverStats` reports; see schema/operations.graphql. */
export interface ServerStatsSnapshot {
  instance: string;
  startedAt: Date;
  connections: { transport: string; count: number }[];
  subscriptions: { field: string; count: number }[];
  eventsInPerSecond: number;
  eventsOutPerSecond: number;
  commitToSendMs: { p50: number; p95: number; p99: number; max: number; samples: number };
}

export interface GraphQLContext {
  /** The verified caller; null when the request carried no token. */
  principal: Principal | null;
  /** Why a token that was presented was refused; reported by the first field that needs auth. */
  authError: DomainError | null;
  services: Services;
  /** SSE reconnects: the `Last-Event-ID` header, which takes precedence over `after`. */
  lastEventId?: string | null;
  /** The client connection a subscription's events go out on (its sink); null for a plain HTTP request. */
  connection: ClientConnection | null;
}
