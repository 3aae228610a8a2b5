/** What every resolver receives: who is calling, the services it may use, and transport facts. */
import type { Delivery } from '../delivery/delivery.ts';
import type { AccessRevoker } from '../transport/revocation-broadcast.ts';
import type { EventLog } from '../delivery/event-log.ts';
import type { FeedLog } from '../delivery/feed-log.ts';
import type { TenantFeeds } from '../delivery/tenant-feeds.ts';
import type { FeedConsumers } from '../delivery/feed-consumers.ts';
import type { DomainError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import type { Tenancy } from '../ledger/tenancy.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';

/** The application services resolvers call; built once by the composition root. */
export interface Services {
  ledger: Ledger;
  queries: LedgerQueries;
  /** Owners' tenants and wallets' owners, for the access rules. */
  tenancy: Tenancy;
  log: EventLog;
  /** The firehose's reads (feed order, below the horizon). */
  feedLog: FeedLog;
  /** Firehose streams (one feed per tenant with readers on this instance). */
  firehose: TenantFeeds;
  /** Durable firehose consumers' positions. */
  feedConsumers: FeedConsumers;
  /** Webhook endpoints and their deliveries. */
  webhooks: Webhooks;
  delivery: Delivery;
  access: AccessRevoker;
  maxPageSize: number;
  /** Most inputs one `postTransactions` call may carry. */
  maxBatchSize: number;
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
  /** Bytes waiting in this client's connection, when the transport can tell. */
  bufferedBytes?: (() => number) | null;
  /** Subscribes to the connection flushing its backlog; returns the unsubscribe function. */
  onDrain?: ((listener: () => void) => () => void) | null;
  /** True where the connection itself is closed at token expiry (graphql-ws), so streams need not end. */
  connectionEnforcesExpiry?: boolean;
}
