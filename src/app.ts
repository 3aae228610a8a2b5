/**
 * The composition root: the only place that picks concrete backends (PGlite or
 * PostgreSQL, in-process or Redis pub/sub) and wires the layers together.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrCreateDevSecret } from './auth/dev-secret.ts';
import { RevocationList } from './auth/revocations.ts';
import { createVerifier } from './auth/verifier.ts';
import type { Config } from './config.ts';
import { openPglite, openPostgres, type DatabaseHandle } from './db/client.ts';
import { ConsumerCursors } from './delivery/consumers.ts';
import { Delivery } from './delivery/delivery.ts';
import { EventLog } from './delivery/event-log.ts';
import { MemoryPubSub } from './delivery/memory-pubsub.ts';
import { Feeds } from './delivery/feeds.ts';
import { PubSubPublisher } from './delivery/publisher.ts';
import { PreferenceStore } from './delivery/preferences.ts';
import type { PubSub } from './delivery/pubsub.ts';
import { RedisPubSub } from './delivery/redis-pubsub.ts';
import { DroppedMessages } from './delivery/dropped-messages.ts';
import { startHeadWatch } from './delivery/head-watch.ts';
import { pruneEvents, startRetentionJob } from './delivery/retention.ts';
import { CLOCK_TOLERANCE_S } from './auth/verifier.ts';
import { forgetIdempotencyKeys } from './ledger/idempotency-keys.ts';
import type { Services } from './graphql/context.ts';
import { createSchema } from './graphql/schema.ts';
import { Ledger } from './ledger/ledger.ts';
import { LedgerQueries } from './ledger/queries.ts';
import { Tenancy } from './ledger/tenancy.ts';
import { FeedLog } from './delivery/feed-log.ts';
import { TenantFeeds } from './delivery/tenant-feeds.ts';
import { FeedConsumers } from './delivery/feed-consumers.ts';
import { createLogger, type Logger } from './logger.ts';
import { Webhooks } from './webhooks/webhooks.ts';
import { Metrics } from './metrics.ts';
import { ConnectionRegistry } from './transport/connection-registry.ts';
import { dashboardHandler } from './transport/dashboard.ts';
import { graphiqlAssetsHandler } from './transport/graphiql-assets.ts';
import { handleHealth, handleMetrics } from './transport/health.ts';
import { AddressGuard } from './transport/address-guard.ts';
import { admitRequest } from './transport/address-admission.ts';
import { startRevocationBroadcast } from './transport/revocation-broadcast.ts';
import { createGraphQLSseHandler } from './transport/graphql-sse/handler.ts';
import { createEventStreams, SSE_FRAMES, type StreamStyle } from './transport/event-streams.ts';
import { attachWebSocket, type WebSocketTransport } from './transport/graphql-ws/server.ts';
import { createYogaServer } from './transport/yoga.ts';
import { operationRunner } from './transport/operations.ts';
import { LiveResults } from './graphql/live-results-plugin.ts';

/** A wired, not yet listening server instance. */
export interface App {
  config: Config;
  log: Logger;
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
export async function createApp(config: Config, log: Logger = createLogger(config.logLevel)): Promise<App> {
  const database: DatabaseHandle = config.databaseUrl ? await openPostgres(config.databaseUrl, config.databasePoolSize) : await openPglite(config.dataDir);
  const pubsub: PubSub = config.redisClusterNodes
    ? RedisPubSub.cluster(config.redisClusterNodes, config.pubsubPrefix, log, config.redisClusterSlotsRefreshMs)
    : config.redisUrl
      ? new RedisPubSub(config.redisUrl, config.pubsubPrefix, log)
      : new MemoryPubSub();
  const key = await resolveKey(config);
  // A revocation is kept while a token issued before it could still be accepted.
  const revocations = new RevocationList(database.db, (config.auth.maxTokenAgeS + CLOCK_TOLERANCE_S) * 1000 + config.limits.tokenClockSkewMs);
  const verifier = await createVerifier(config.auth, key.secret, revocations);

  // Gauges read the transports lazily, at scrape time, once they exist.
  const metrics = new Metrics({
    connections: () => ({ ws: ws.size, sse: registry.sseStreams + graphqlSse.streams }),
    subscriptionsByField: (): Record<string, number> => ({ ...delivery.streamsByField(), ...(firehose.streamCount ? { feed: firehose.streamCount } : {}) }),
    feeds: (): { owners: number; ringBytes: number } => ({ owners: feeds.ownerCount, ringBytes: feeds.ringBytes }),
    connectionLimit: config.limits.connectionsPerInstance,
  });
  const dropped = new DroppedMessages(log, metrics.onDropped);
  const eventLog = new EventLog(database.db);
  const feeds = new Feeds(
    { pubsub, log: eventLog, dropped, logger: log, observer: metrics.feeds },
    {
      maxMessageBytes: config.backboneMaxMessageBytes,
      ringBytesPerOwner: config.feedRingBytes,
      ringBytesTotal: config.feedRingTotalBytes,
      attachTimeoutMs: config.backboneAttachTimeoutMs,
    },
  );
  const feedLog = new FeedLog(database.db);
  const firehose = new TenantFeeds(
    { pubsub, log: feedLog, feeds, logger: log, observer: metrics.firehose },
    {
      ringSize: config.firehoseRingEvents,
      pageSize: 1_000,
      retryMs: config.firehoseRetryMs,
      lookIntervalMs: config.headCheckIntervalMs,
      maxMessageBytes: config.backboneMaxMessageBytes,
      attachTimeoutMs: config.backboneAttachTimeoutMs,
      streams: {
        pageSize: Math.min(500, config.subscriberQueueLimit),
        tokenClockSkewMs: config.limits.tokenClockSkewMs,
        maxBufferedBytes: config.slowConsumerBytes,
        slowConsumerTimeoutMs: config.slowConsumerTimeoutMs,
      },
    },
  );
  const outbound = { allowHttp: config.webhooks.allowHttp, allowPrivateNetworks: config.webhooks.allowPrivateNetworks };
  const webhooks = new Webhooks(
    database.db,
    { feedLog, pubsub, logger: log, observer: metrics.webhooks, maxMessageBytes: config.backboneMaxMessageBytes },
    {
      policy: outbound,
      maxEndpointsPerTenant: config.webhooks.maxEndpointsPerTenant,
      secretOverlapMs: config.webhooks.secretOverlapMs,
      leaseTtlMs: config.webhooks.leaseTtlMs,
      deliver: config.webhooks.deliver,
      worker: {
        batchSize: config.webhooks.batchSize,
        concurrency: config.webhooks.concurrency,
        retryScheduleMs: config.webhooks.retryScheduleMs,
        breakerThreshold: config.webhooks.breakerThreshold,
        breakerCooldownMs: config.webhooks.breakerCooldownMs,
        lookIntervalMs: config.headCheckIntervalMs,
        horizonRetryMs: config.firehoseRetryMs,
        sender: {
          policy: outbound,
          timeoutMs: config.webhooks.timeoutMs,
          excerptBytes: config.webhooks.responseExcerptBytes,
          userAgent: 'wallet-events-webhooks/1',
        },
      },
    },
  );
  metrics.watchWebhooks(webhooks);
  const consumers = new ConsumerCursors(database.db, config.limits.consumersPerOwner);
  const feedConsumers = new FeedConsumers(database.db, config.limits.consumersPerOwner);
  const preferences = new PreferenceStore(database.db, config.limits.consumersPerOwner);
  const delivery = new Delivery({
    feeds,
    log: eventLog,
    consumers,
    preferences,
    pubsub,
    logger: log,
    observer: metrics.stream,
    onAck: metrics.onAck,
    limits: {
      tokenClockSkewMs: config.limits.tokenClockSkewMs,
      pageSize: Math.min(500, config.subscriberQueueLimit),
      ackTimeoutMs: config.ackTimeoutMs,
      maxBufferedBytes: config.slowConsumerBytes,
      slowConsumerTimeoutMs: config.slowConsumerTimeoutMs,
      maxUnacked: config.limits.maxUnackedEvents,
    },
  });
  const services: Services = {
    ledger: new Ledger(database.db, new PubSubPublisher(pubsub, log, metrics.onPublished), {
      onAppended: metrics.onAppended,
      maxGroup: config.groupCommitMax,
      // PGlite is one connection: concurrent groups would only queue for it.
      maxConcurrentGroups: config.databaseUrl ? Math.min(config.groupCommitConcurrency, config.databasePoolSize) : 1,
      maxWaitingPostings: config.limits.groupCommitQueueLimit,
      onTransaction: metrics.onTransaction,
    }),
    queries: new LedgerQueries(database.db),
    tenancy: new Tenancy(database.db),
    log: eventLog,
    feedLog,
    firehose,
    feedConsumers,
    webhooks,
    delivery,
    // Bound below, once the WebSocket registry it closes sockets in exists.
    access: {
      revokeSubject: (subject, reason) => revoker.revokeSubject(subject, reason),
      revokeToken: (jti, expiresAt) => revoker.revokeToken(jti, expiresAt),
    },
    maxPageSize: config.maxPageSize,
    maxBatchSize: config.limits.maxBatchSize,
    serverStats: () => metrics.snapshot(),
  };
  const ago = (now: number, ms: number) => new Date(now - ms);
  const stopWatchers = [
    startHeadWatch(feeds, eventLog, config.headCheckIntervalMs, log),
    startRetentionJob(
      [
        { name: 'events', run: (now) => pruneEvents(database.db, ago(now, config.retentionMs)) },
        { name: 'idempotency keys', run: (now) => forgetIdempotencyKeys(database.db, ago(now, config.idempotencyKeyRetentionMs)) },
        // Preferences first: they stay while their consumer's cursor is in use.
        ...(config.consumerRetentionMs > 0
          ? [
              { name: 'subscription preferences', run: (now: number) => preferences.prune(ago(now, config.consumerRetentionMs)) },
              { name: 'consumers', run: (now: number) => consumers.prune(ago(now, config.consumerRetentionMs)) },
              { name: 'firehose consumers', run: (now: number) => feedConsumers.prune(ago(now, config.consumerRetentionMs)) },
            ]
          : []),
        { name: 'revocations', run: (now) => revocations.prune(now) },
        { name: 'webhook deliveries', run: (now) => webhooks.pruneDelivered(ago(now, config.webhooks.deliveryRetentionMs)) },
      ],
      config.pruneIntervalMs,
      log,
    ),
  ];

  // One registry of connections (WebSockets and SSE streams) for the per-owner limit, expiry and revocation.
  const registry = new ConnectionRegistry(config.limits, log);
  const addresses = new AddressGuard(config.limits.address, (address, failures) =>
    log.warn('address cooling down after failed authentications', { remote: address, failures, cooldownMs: config.limits.address.authCooldownMs }),
  );
  const authFailedFrom = (req: IncomingMessage) => addresses.authFailed(addresses.addressOf(req));
  const live = new LiveResults(metrics.onSent);
  const yoga = createYogaServer({
    schema: createSchema(),
    services,
    verifier,
    log,
    limits: config.limits,
    live,
    onAuthFailed: authFailedFrom,
  });
  const run = operationRunner(yoga, live, log);
  const probes = [
    { name: 'database', check: () => database.ping() },
    { name: config.redisClusterNodes ? 'redis cluster' : config.redisUrl ? 'redis' : 'pubsub', check: () => pubsub.ping(), degradable: true },
  ];
  const eventStreams = createEventStreams({ run, verifier, registry, limits: config.limits, log, heartbeatMs: config.sseHeartbeatMs, onAuthFailed: authFailedFrom });
  const sseStyle: StreamStyle = { transport: 'sse', frames: SSE_FRAMES, retryMs: config.sseRetryMs, refusals: 'in-stream' };
  const graphqlSse = createGraphQLSseHandler({ run, verifier, registry, limits: config.limits, log, streams: eventStreams, onAuthFailed: authFailedFrom });
  /** Subscriptions (and queries) an EventSource opens at /graphql: our streams, not Yoga's. */
  const serveEventStream = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/graphql' || (req.method !== 'GET' && req.method !== 'POST') || !(req.headers.accept ?? '').includes('text/event-stream')) return false;
    await eventStreams.serve(req, res, url, sseStyle);
    return true;
  };
  const serveDashboard = dashboardHandler();
  const serveGraphiQL = graphiqlAssetsHandler();
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  const httpServer = createServer((req, res) => {
    // Streams (SSE) are not "in flight" work: a drain ends them and clients resume elsewhere.
    if (!(req.headers.accept ?? '').includes('text/event-stream') && !req.url?.startsWith('/graphql/stream')) {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    }
    if (!admitRequest(addresses, req, res, log)) return;
    handleHealth(req, res, probes, () => draining)
      .then(async (handled) => handled || serveDashboard(req, res) || serveGraphiQL(req, res) || (await handleMetrics(req, res, metrics.registry)))
      .then(async (handled) => handled || (await graphqlSse.handle(req, res)) || (await serveEventStream(req, res)))
      .then((handled) => (handled ? undefined : yoga(req, res)))
      .catch((error: Error) => {
        log.error('request failed', { error });
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  const ws: WebSocketTransport = attachWebSocket({ httpServer, run, verifier, log, pingIntervalMs: config.wsPingIntervalMs, limits: config.limits, registry, compression: config.wsCompression, addresses });
  const revoker = await startRevocationBroadcast({
    pubsub,
    revocations,
    registry,
    feeds,
    log,
    dropped,
    reloadIntervalMs: config.revocationReloadIntervalMs,
    maxMessageBytes: config.backboneMaxMessageBytes,
  });

  await webhooks.start();

  return {
    config,
    log,
    httpServer,
    keySource: key.source,
    devSecretPath: key.path,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => resolve((httpServer.address() as AddressInfo).port));
      }),
    async stop(code = 1001) {
      draining = true;
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve())); // no new connections
      const deadline = Date.now() + config.drainTimeoutMs;
      if (code === 1001) {
        await until(() => inFlight.size === 0, deadline);
        await ws.drain(config.drainWindowMs);
      }
      await ws.close(code, code === 1001 ? 'server shutting down' : 'closed');
      graphqlSse.close();
      eventStreams.close();
      httpServer.closeIdleConnections();
      await until(() => inFlight.size === 0, deadline);
      httpServer.closeAllConnections(); // ends SSE streams: EventSource resumes with Last-Event-ID
      await Promise.race([services.ledger.idle(), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
      for (const stop of stopWatchers) stop();
      await webhooks.stop();
      firehose.close();
      revoker.stop();
      registry.stop();
      addresses.stop();
      await closed;
      await pubsub.close();
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
