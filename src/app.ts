/**
 * The composition root: the only place that picks concrete backends (PGlite or
 * PostgreSQL, in-process or Redis pub/sub) and wires the subsystems together, each with
 * its settings from the one configuration. It holds no logic of its own beyond the order
 * of start-up and shutdown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrCreateDevSecret } from './auth/dev-secret.ts';
import { RevocationList } from './auth/revocations.ts';
import { CLOCK_TOLERANCE_S, createVerifier } from './auth/verifier.ts';
import { MemoryPubSub } from './backbone/memory-pubsub.ts';
import { DroppedMessages } from './backbone/dropped-messages.ts';
import { PubSubPublisher } from './backbone/publisher.ts';
import type { PubSub } from './backbone/pubsub.ts';
import { RedisPubSub } from './backbone/redis-pubsub.ts';
import type { Config } from './config/load.ts';
import { openPglite, openPostgres, type DatabaseHandle } from './db/client.ts';
import { ensureEventPartitions } from './db/event-partitions.ts';
import { readsOn, ReplicaSet, type ReplicaState } from './db/replicas.ts';
import { FirehoseConsumers } from './firehose/firehose-consumers.ts';
import { FirehoseLog } from './firehose/firehose-log.ts';
import { TenantFirehoses } from './firehose/tenant-firehoses.ts';
import type { Services } from './graphql/context.ts';
import { LiveResults } from './graphql/render-once.ts';
import { createSchema } from './graphql/schema.ts';
import { Ledger } from './ledger/ledger.ts';
import { LedgerQueries } from './ledger/queries.ts';
import { Tenancy } from './ledger/tenancy.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { retentionTasks } from './maintenance/retention-jobs.ts';
import { startRetentionJob } from './maintenance/retention.ts';
import { Metrics } from './metrics/metrics.ts';
import { startStreamClock } from './streams/clock.ts';
import { ConsumerCursors } from './streams/consumers.ts';
import { Delivery } from './streams/delivery.ts';
import { EventLog } from './streams/event-log.ts';
import { startHeadCheck } from './streams/head-check.ts';
import { OwnerFeeds } from './streams/owner-feeds.ts';
import { PreferenceStore } from './streams/preferences.ts';
import { AddressGuard } from './transport/address-guard/address-guard.ts';
import { ConnectionRegistry } from './transport/core/connection-registry.ts';
import { operationRunner } from './transport/core/operations.ts';
import { startRevocationBroadcast } from './transport/core/revocation-broadcast.ts';
import { createYogaServer } from './transport/core/yoga.ts';
import { createGraphQLSseHandler } from './transport/graphql-sse/handler.ts';
import { attachWebSocket } from './transport/graphql-ws/server.ts';
import { renderGraphiQL } from './transport/http/graphiql-assets.ts';
import { GRAPHIQL_OPTIONS } from './transport/http/graphiql-tabs.ts';
import { createRouter } from './transport/http/router.ts';
import { createEventStreams, SSE_FRAMES } from './transport/sse/event-streams.ts';
import { WebhookEndpoints } from './webhooks/endpoints.ts';
import { AlertRules } from './notifications/alert-rule-store.ts';
import { NotificationReads } from './notifications/notification-reads.ts';
import { createPush } from './push/push-service.ts';
import { WebhookLeases } from './webhooks/leases.ts';
import { WebhookStore } from './webhooks/store.ts';
import { WEBHOOK_USER_AGENT } from './webhooks/sender.ts';

/** A wired, not yet listening server instance. */
export interface App {
  config: Config;
  logger: Logger;
  httpServer: Server;
  /** How the JWT key was obtained, for the start-up banner. */
  keySource: 'configured' | 'generated' | 'stored';
  /** Where a generated development secret is kept (null when configured or in memory). */
  devSecretPath: string | null;
  /** Listens on the configured host and port; resolves to the bound port. */
  listen(): Promise<number>;
  /**
   * Stops the instance. With 1001 (SIGTERM) it drains: /ready turns 503, no new
   * connections, in-flight requests finish, sockets close spread over DRAIN_WINDOW, SSE
   * streams end, writes finish, then the backends close. Other codes close at once.
   */
  stop(code?: number): Promise<void>;
  /**
   * Live counters for tests and diagnostics: `subscriptions` counts streams once they are
   * positioned (anything committed from then on reaches them); `listeners`, the streams
   * joined to a feed (a moment earlier, and gone when a stream ends); `ownersListened`, the
   * feeds (one per owner with local subscribers).
   */
  stats(): { ownersListened: number; subscriptions: number; listeners: number; webSockets: number };
}

/** Builds an instance from `config`. Opening the database applies migrations. */
export async function createApp(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<App> {
  const database: DatabaseHandle = config.databaseUrl ? await openPostgres(config.databaseUrl, config.databasePoolSize, config.databasePreparedStatements) : await openPglite(config.dataDir);
  // The log's partitions for now and the periods ahead exist before the first write.
  await ensureEventPartitions(database.db, { intervalMs: config.eventPartitionIntervalMs, ahead: config.eventPartitionsAhead });
  const pubsub: PubSub = config.redisClusterNodes
    ? RedisPubSub.cluster(config.redisClusterNodes, config.pubsubPrefix, logger, config.redisClusterSlotsRefreshMs)
    : config.redisUrl
      ? new RedisPubSub(config.redisUrl, config.pubsubPrefix, logger)
      : new MemoryPubSub();
  const key = await resolveKey(config);
  // A revocation is kept while a token issued before it could still be accepted.
  const revocations = new RevocationList(database.db, config.auth.maxTokenAgeMs + CLOCK_TOLERANCE_S * 1000 + config.limits.tokenClockSkewMs);
  const verifier = await createVerifier(config.auth, key.secret, revocations);

  // Gauges read the transports lazily, at scrape time, once they exist.
  const metrics = new Metrics({
    connections: () => ({ ws: ws.size, sse: registry.sseStreams + graphqlSse.streams }),
    subscriptionsByField: (): Record<string, number> => ({ ...delivery.streamsByField(), ...(firehose.streamCount ? { feed: firehose.streamCount } : {}) }),
    feeds: (): { owners: number; ringBytes: number } => ({ owners: feeds.ownerCount, ringBytes: feeds.ringBytes }),
    connectionLimit: config.limits.connectionsPerInstance,
  });
  // Reads that need not be on the primary go to its replicas, when there are some.
  const replicas = config.replicas.urls.length > 0 ? new ReplicaSet(database.db, { ...config.replicas, preparedStatements: config.databasePreparedStatements }, logger, metrics.reads) : null;
  await replicas?.start();
  metrics.watchReplicas(replicas ?? { states: () => [] });
  const reads = replicas ?? readsOn(database.db);
  const stream = { pageSize: config.streamPageSize, tokenClockSkewMs: config.limits.tokenClockSkewMs, maxBufferedBytes: config.slowConsumerBytes, slowConsumerTimeoutMs: config.slowConsumerTimeoutMs };

  // Owner streams: one feed per owner with local subscribers, streams positioned in it.
  const dropped = new DroppedMessages(logger, metrics.onDropped);
  const eventLog = new EventLog(database.db, reads);
  const feeds = new OwnerFeeds(
    { pubsub, log: eventLog, dropped, logger, observer: metrics.feeds },
    { maxMessageBytes: config.backboneMaxMessageBytes, ringBytesPerOwner: config.feedRingBytes, ringBytesTotal: config.feedRingTotalBytes, attachTimeoutMs: config.backboneAttachTimeoutMs },
  );
  const consumers = new ConsumerCursors(database.db, config.limits.consumersPerOwner);
  const preferences = new PreferenceStore(database.db, config.limits.consumersPerOwner);
  const delivery = new Delivery({
    feeds,
    log: eventLog,
    consumers,
    preferences,
    pubsub,
    logger,
    observer: metrics.stream,
    onAck: metrics.onAck,
    limits: { ...stream, ackTimeoutMs: config.ackTimeoutMs, maxUnacked: config.limits.maxUnackedEvents },
  });

  // The firehose: each tenant's events in commit order, for its readers and for webhooks.
  const firehoseLog = new FirehoseLog(database.db, reads);
  const firehose = new TenantFirehoses(
    { pubsub, log: firehoseLog, feeds, logger, observer: metrics.firehose },
    {
      ringSize: config.firehoseRingEvents,
      pageSize: config.firehosePageSize,
      retryMs: config.firehoseRetryMs,
      lookIntervalMs: config.headCheckIntervalMs,
      maxMessageBytes: config.backboneMaxMessageBytes,
      attachTimeoutMs: config.backboneAttachTimeoutMs,
      streams: stream,
    },
  );
  const firehoseConsumers = new FirehoseConsumers(database.db, config.limits.consumersPerOwner);

  // Webhooks: the API, and the lease loop that delivers.
  const hooks = config.webhooks;
  const outbound = { allowHttp: hooks.allowHttp, allowPrivateNetworks: hooks.allowPrivateNetworks };
  const webhookStore = new WebhookStore(database.db);
  const leases = new WebhookLeases(
    webhookStore,
    { firehoseLog, pubsub, logger, observer: metrics.webhooks, maxMessageBytes: config.backboneMaxMessageBytes },
    {
      leaseTtlMs: hooks.leaseTtlMs,
      deliver: hooks.deliver,
      worker: {
        batchSize: hooks.batchSize,
        concurrency: hooks.concurrency,
        retryScheduleMs: hooks.retryScheduleMs,
        breakerThreshold: hooks.breakerThreshold,
        breakerCooldownMs: hooks.breakerCooldownMs,
        lookIntervalMs: config.headCheckIntervalMs,
        horizonRetryMs: config.firehoseRetryMs,
        sender: { policy: outbound, timeoutMs: hooks.timeoutMs, excerptBytes: hooks.responseExcerptBytes, userAgent: WEBHOOK_USER_AGENT },
      },
    },
  );
  const webhooks = new WebhookEndpoints(webhookStore, { firehoseLog, logger, leases }, hooks);
  metrics.watchWebhooks(leases);

  // Push: devices, and the dispatcher that delivers notifications to them.
  const push = await createPush(config.push, {
    db: database.db,
    log: eventLog,
    pubsub,
    logger,
    observer: metrics.push,
    policy: outbound,
    embedded: config.databaseUrl ? null : { dataDir: config.dataDir },
    maxMessageBytes: config.backboneMaxMessageBytes,
    roundIntervalMs: config.headCheckIntervalMs,
  });

  const services: Services = {
    ledger: new Ledger(database.db, new PubSubPublisher(pubsub, logger, metrics.onPublished), {
      onAppended: metrics.onAppended,
      onTransaction: metrics.onTransaction,
      onNotified: metrics.onNotified,
      groupCommit: {
        maxGroup: config.groupCommitMax,
        // PGlite is one connection: concurrent groups would only queue for it.
        maxConcurrentGroups: config.databaseUrl ? Math.min(config.groupCommitConcurrency, config.databasePoolSize) : 1,
        maxWaitingPostings: config.limits.groupCommitQueueLimit,
      },
    }),
    queries: new LedgerQueries(database.db, reads),
    alertRules: new AlertRules(database.db, config.notifications.maxAlertRulesPerOwner),
    notifications: new NotificationReads(database.db),
    push: { devices: push.devices, webPushPublicKey: push.webPushPublicKey },
    tenancy: new Tenancy(database.db),
    eventLog,
    firehoseLog,
    firehose,
    firehoseConsumers,
    webhooks,
    delivery,
    // Bound below, once the WebSocket registry it closes sockets in exists.
    access: {
      revokeSubject: (subject, reason) => revoker.revokeSubject(subject, reason),
      revokeToken: (jti, expiresAt) => revoker.revokeToken(jti, expiresAt),
    },
    maxPageSize: config.maxPageSize,
    limits: config.limits,
    serverStats: () => metrics.snapshot(),
  };
  const stopTimers = [
    startHeadCheck(feeds, eventLog, config.headCheckIntervalMs, logger),
    startStreamClock(feeds, config.streamTickIntervalMs),
    startRetentionJob(retentionTasks({ db: database.db, consumers, preferences, firehoseConsumers, revocations, webhooks }, config), config.pruneIntervalMs, logger),
  ];

  // Transports: one registry of connections (WebSockets and SSE streams) for the per-owner
  // limit, expiry and revocation; one GraphQL pipeline; one router for HTTP.
  const registry = new ConnectionRegistry(config.limits, logger);
  const addresses = new AddressGuard(config.limits.address, (address, failures) =>
    logger.warn('address cooling down after failed authentications', { remote: address, failures, cooldownMs: config.limits.address.authCooldownMs }),
  );
  const onAuthFailed = (req: Parameters<AddressGuard['addressOf']>[0]) => addresses.authFailed(addresses.addressOf(req));
  const live = new LiveResults(metrics.onSent);
  const yoga = createYogaServer({ schema: createSchema(), services, verifier, logger, limits: config.limits, live, onAuthFailed, graphiql: { options: GRAPHIQL_OPTIONS, render: renderGraphiQL } });
  const run = operationRunner(yoga, live, logger, config.limits);
  const eventStreams = createEventStreams({ run, verifier, registry, limits: config.limits, logger, heartbeatMs: config.sseHeartbeatMs, onAuthFailed });
  const graphqlSse = createGraphQLSseHandler({ run, verifier, registry, limits: config.limits, logger, streams: eventStreams, onAuthFailed });
  const router = createRouter({
    yoga,
    graphqlSse,
    eventStreams,
    sseStyle: { transport: 'sse', frames: SSE_FRAMES, retryMs: config.sseRetryMs, refusals: 'in-stream' },
    addresses,
    probes: [
      { name: 'database', check: () => database.ping() },
      { name: config.redisClusterNodes ? 'redis cluster' : config.redisUrl ? 'redis' : 'pubsub', check: () => pubsub.ping(), degradable: true },
      // Reads of a replica out of rotation go to the primary: slower, not broken.
      ...(replicas?.states() ?? []).map((first, i) => ({ name: `replica ${first.name}`, check: async () => replicaCheck(replicas!.states()[i]!), degradable: true })),
    ],
    metrics: metrics.registry,
    maxRequestBytes: config.limits.maxRequestBytes,
    logger,
  });
  const httpServer = createServer((req, res) => router.handle(req, res));
  // Idle keep-alive connections outlive the clients' and proxies' own idle timeouts, so the
  // server is never the side that closes one just as a request is sent on it. The headers
  // timeout must stay above it (Node's rule), and the request timeout above that.
  httpServer.keepAliveTimeout = config.limits.httpKeepAliveTimeoutMs;
  httpServer.headersTimeout = Math.max(httpServer.headersTimeout, config.limits.httpKeepAliveTimeoutMs + 1_000);
  httpServer.requestTimeout = Math.max(httpServer.requestTimeout, httpServer.headersTimeout);
  const ws = attachWebSocket({
    httpServer,
    run,
    verifier,
    logger,
    pingIntervalMs: config.wsPingIntervalMs,
    limits: config.limits,
    registry,
    compression: config.wsCompression.enabled ? config.wsCompression : null,
    addresses,
  });
  const revoker = await startRevocationBroadcast({
    pubsub,
    revocations,
    registry,
    feeds,
    logger,
    dropped,
    reloadIntervalMs: config.revocationReloadIntervalMs,
    maxMessageBytes: config.backboneMaxMessageBytes,
  });

  await leases.start();
  await push.dispatcher.start();

  return {
    config,
    logger,
    httpServer,
    keySource: key.source,
    devSecretPath: key.path,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => resolve((httpServer.address() as AddressInfo).port));
      }),
    async stop(code = 1001) {
      router.drain();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve())); // no new connections
      const deadline = Date.now() + config.drainTimeoutMs;
      const draining = code === 1001;
      if (draining) {
        await until(() => router.inFlight === 0, deadline);
        await ws.drain(config.drainWindowMs);
      }
      await ws.close(code, draining ? 'server shutting down' : 'closed');
      graphqlSse.close();
      eventStreams.close();
      httpServer.closeIdleConnections();
      await until(() => router.inFlight === 0, deadline);
      httpServer.closeAllConnections(); // ends SSE streams: EventSource resumes with Last-Event-ID
      await Promise.race([services.ledger.idle(), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
      for (const stop of stopTimers) stop();
      await leases.stop();
      await push.dispatcher.stop();
      firehose.close();
      revoker.stop();
      registry.stop();
      addresses.stop();
      await closed;
      await pubsub.close();
      await replicas?.close();
      await database.close();
    },
    stats: () => ({ ownersListened: feeds.ownerCount, subscriptions: delivery.streamCount + firehose.streamCount, listeners: feeds.subscriberCount, webSockets: ws.size }),
  };
}

/** Polls `condition` until true or `deadline` (ms since epoch). */
async function until(condition: () => boolean, deadline: number): Promise<void> {
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function resolveKey(config: Config): Promise<{ secret: string | null; source: App['keySource']; path: string | null }> {
  if (config.auth.secret || config.auth.publicKey || config.auth.jwksUrl) return { secret: config.auth.secret, source: 'configured', path: null };
  const dev = await loadOrCreateDevSecret(config.dataDir);
  return { secret: dev.secret, source: dev.created ? 'generated' : 'stored', path: dev.path };
}

/** A replica's /ready check: fails with why it is out of rotation. */
function replicaCheck(state: ReplicaState): void {
  if (!state.inRotation) throw new Error(`out of rotation: ${state.reason}`);
}
