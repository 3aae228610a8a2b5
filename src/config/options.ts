/**
 * Every setting of the server, declared once: its environment variable, its meaning, its
 * default and its range. `loadConfig` reads this tree; the configuration reference (docs/reference/configuration.md) is
 * generated from it (`npm run docs`) and a test keeps the two equal. Groups (`limits`,
 * `webhooks`, …) are the objects the subsystems take: none of them has a default of its own.
 */
import { readFileSync } from 'node:fs';
import { LOG_LEVELS } from '../logging/logger.ts';
import { proxyList } from './address-list.ts';
import { bool, ConfigError, custom, DAY, duration, int, oneOf, parseDuration, text, url, urlList, type Env } from './option.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

/** JWT algorithms accepted with a shared secret, and with a public key or JWKS. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** `host:port,host:port,…` (IPv6 hosts in brackets): seed nodes of a Redis Cluster. */
function clusterNodes(raw: string): { host: string; port: number }[] {
  return raw.split(',').map((entry) => {
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new ConfigError('REDIS_CLUSTER_NODES', `"${entry.trim()}" is not host:port (for example 10.0.0.5:7000)`);
    return { host: match[1]!, port };
  });
}

/** A comma-separated list of proxy addresses or CIDR ranges. */
function trustedProxies(raw: string): string[] {
  const list = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  try {
    proxyList(list);
  } catch (error) {
    throw new ConfigError('TRUSTED_PROXIES', (error as Error).message);
  }
  return list;
}

/** A comma-separated list of durations such as `5s,30s,2m`, each between 1 ms and 30 days (the setting `name`). */
function retrySchedule(name: string) {
  return (raw: string): number[] => retryDelays(raw, name);
}

function retryDelays(raw: string, name: string): number[] {
  const list = raw.split(',').map((part) => parseDuration(part.trim(), name));
  if (list.length > 50) throw new ConfigError(name, `at most 50 retries, got ${list.length}`);
  for (const value of list) if (value < 1 || value > 30 * DAY) throw new ConfigError(name, `each delay must be between 1 ms and 30 days, got ${value} ms`);
  return list;
}

/** A Firebase service account key, as JSON or the path of a JSON file. */
export interface FcmServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: string;
  tokenUri: string;
}

function fcmServiceAccount(raw: string): FcmServiceAccount {
  const name = 'FCM_SERVICE_ACCOUNT';
  let text = raw;
  if (!raw.startsWith('{')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (error) {
      throw new ConfigError(name, `is neither JSON nor a readable file (${(error as Error).message})`);
    }
  }
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(name, 'is not JSON');
  }
  const field = (k: string) => {
    if (typeof key[k] !== 'string' || !key[k]) throw new ConfigError(name, `has no "${k}"`);
    return key[k] as string;
  };
  const privateKey = field('private_key');
  if (!privateKey.includes('-----BEGIN PRIVATE KEY-----')) throw new ConfigError(name, '"private_key" is not a PEM private key');
  return { projectId: field('project_id'), clientEmail: field('client_email'), privateKey, tokenUri: typeof key.token_uri === 'string' ? key.token_uri : 'https://oauth2.googleapis.com/token' };
}

/** A PEM given inline (`\n` escapes allowed) or as the path of a file. */
function pemOrPath(name: string) {
  return (raw: string): string => {
    let pem = raw.replace(/\\n/g, '\n');
    if (!pem.includes('-----BEGIN')) {
      try {
        pem = readFileSync(raw, 'utf8');
      } catch (error) {
        throw new ConfigError(name, `is neither a PEM nor a readable file (${(error as Error).message})`);
      }
      if (!pem.includes('-----BEGIN')) throw new ConfigError(name, `the file ${raw} holds no PEM`);
    }
    return pem;
  };
}

/** `*` or a comma-separated list of origins such as `https://app.example.com`. */
function origins(raw: string): string[] | '*' {
  const name = 'ALLOWED_ORIGINS';
  if (raw === '*') return '*';
  const list = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of list) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(name, `"${origin}" is not an origin such as https://app.example.com`);
    }
    if (parsed.origin !== origin) throw new ConfigError(name, `"${origin}" must be a bare origin (scheme://host[:port]), e.g. ${parsed.origin}`);
  }
  return list;
}

/** The stream page size, also read from its former name (which bounded nothing past 500). */
function streamPageSize(raw: string | null, env: Env): number {
  const option = int('STREAM_PAGE_SIZE', 500, 10, 10_000, '');
  if (raw !== null) return option.read(raw, env);
  const former = env.SUBSCRIBER_QUEUE_LIMIT?.trim();
  return former ? Math.min(500, int('SUBSCRIBER_QUEUE_LIMIT', 500, 10, 10_000_000, '').read(former, env)) : 500;
}

export const OPTIONS = {
  production: custom('NODE_ENV', false, 'none', 'production, or anything else', '`production` refuses to start without `JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS_URL`', (raw) => raw === 'production'),
  port: int('PORT', 4000, 0, 65535, 'HTTP and WebSocket port'),
  host: text('HOST', '0.0.0.0', 'interface to bind', 'an address or host name'),
  dataDir: text('DATA_DIR', '.data', "PGlite's directory (embedded mode), owned by one process at a time; `memory://` keeps it in memory", 'a directory, or memory://'),
  databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:'], 'use PostgreSQL 14+ instead of PGlite'),
  databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000, 'PostgreSQL connections per instance'),
  replicas: {
    urls: urlList('DATABASE_REPLICA_URLS', ['postgres:', 'postgresql:'], "streaming replicas of `DATABASE_URL`'s server that take the reads which need not be on the primary (replay, catch-up, polling queries, the firehose and webhook readers)"),
    poolSize: int('DATABASE_REPLICA_POOL_SIZE', 10, 1, 1000, 'connections per replica per instance'),
    readWaitMs: duration('REPLICA_READ_WAIT', 200, 1, 60_000, 'how long a read waits for its replica to replay everything committed before it began; then it goes to the primary'),
    maxLagMs: duration('REPLICA_MAX_LAG', 5_000, 10, 3_600_000, 'a replica further behind the primary than this leaves rotation (reads go elsewhere) until it catches up'),
    checkIntervalMs: duration('REPLICA_CHECK_INTERVAL', 1_000, 50, 60_000, "how often each replica's health and lag are checked"),
  },
  databasePreparedStatements: bool(
    'DATABASE_PREPARED_STATEMENTS',
    true,
    'send statements as named prepared statements: one round trip each, and pipelined in a transaction; `false` behind PgBouncer older than 1.21 in transaction mode',
  ),
  redisUrl: url('REDIS_URL', ['redis:', 'rediss:'], 'use Redis 6+ pub/sub between instances instead of in-process'),
  redisClusterNodes: custom<{ host: string; port: number }[] | null>('REDIS_CLUSTER_NODES', null, 'none', 'host:port,…', 'a Redis 7 Cluster with sharded pub/sub instead of `REDIS_URL`', clusterNodes),
  redisClusterSlotsRefreshMs: duration('REDIS_CLUSTER_SLOTS_REFRESH', 5_000, 100, 3_600_000, "how often an instance re-reads the cluster's slot map (a resharding moves its subscriptions then)"),
  pubsubPrefix: text('PUBSUB_PREFIX', 'wallet-events:', 'prefix of every Redis channel (several deployments can share a Redis)'),
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info', 'JSON log lines (pino), with tokens, `authorization`, secrets and cookies redacted'),
  auth: {
    secret: custom<string | null>('JWT_SECRET', null, 'generated in development', 'at least 32 characters', 'HS256/384/512 shared secret', (raw) => {
      if (raw.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters (HS256 needs a 256-bit key)');
      return raw;
    }),
    publicKey: custom<string | null>('JWT_PUBLIC_KEY', null, 'none', 'PEM (SPKI); `\\n` escapes allowed', 'a public key instead of a secret (RS/PS/ES/EdDSA)', (raw) => {
      const pem = raw.replace(/\\n/g, '\n');
      if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError('JWT_PUBLIC_KEY', 'must be a PEM-encoded SPKI public key (-----BEGIN PUBLIC KEY-----)');
      return pem;
    }),
    jwksUrl: url('JWT_JWKS_URL', ['https:', 'http:'], 'a JWKS URL instead (keys chosen by `kid`; fetched once, cached, refetched for an unknown `kid`)'),
    algorithm: custom<string | null>('JWT_ALGORITHM', null, 'HS256, or RS256 with a key or JWKS', [...HMAC_ALGORITHMS, ...KEY_ALGORITHMS].join(', '), 'the only algorithm accepted (an HS one with a secret, another with a key)', (raw) => raw),
    issuer: text('JWT_ISSUER', null, 'when set, tokens must carry this `iss`'),
    audience: text('JWT_AUDIENCE', null, 'when set, tokens must carry this `aud`'),
    maxTokenAgeMs: duration('JWT_MAX_TOKEN_AGE', DAY, 60_000, 366 * DAY, 'tokens older than this (by `iat`) are refused whatever their `exp`; also how long revocations are kept'),
  },
  wsPingIntervalMs: int('WS_PING_INTERVAL_MS', 30_000, 1_000, 3_600_000, 'WebSocket keep-alive ping interval in ms (a dead socket is dropped after one missed pong)'),
  maxPageSize: int('MAX_PAGE_SIZE', 500, 1, 10_000, 'the largest `first` a paged query accepts'),
  streamPageSize: custom('STREAM_PAGE_SIZE', 500, '500', '10 to 10000', "most events a stream takes at once from its feed's ring or the log (formerly `SUBSCRIBER_QUEUE_LIMIT`, still read)", streamPageSize),
  // At least 64 KiB: a paused stream resumes on its socket's 'drain', which a TCP socket
  // signals only once its backlog passed its own 16 KiB mark.
  slowConsumerBytes: int('SLOW_CONSUMER_BYTES', 4 * MIB, 64 * KIB, 1024 * MIB, "bytes that may wait unsent in a subscriber's connection before its streams pause (they keep their place)"),
  slowConsumerTimeoutMs: duration('SLOW_CONSUMER_TIMEOUT', 60_000, 100, DAY, 'how long a stream may stay paused, its client reading nothing, before it ends with `SLOW_CONSUMER`'),
  retentionMs: duration('EVENT_RETENTION', 7 * DAY, 1_000, 3650 * DAY, 'how long events stay in the log'),
  eventPartitionIntervalMs: duration('EVENT_PARTITION_INTERVAL', DAY, 1_000, 366 * DAY, 'the span of `occurred_at` one partition of the log holds; retention drops a partition once all of it is older than `EVENT_RETENTION`, so an event stays up to this much longer'),
  eventPartitionsAhead: int('EVENT_PARTITIONS_AHEAD', 3, 1, 1_000, 'partitions of the log made in advance of the clock (a write beyond them lands in the default partition and is pruned row by row)'),
  pruneIntervalMs: duration('PRUNE_INTERVAL', 60_000, 100, DAY, 'how often the pruning job runs'),
  headCheckIntervalMs: duration('HEAD_CHECK_INTERVAL', 1_000, 50, 3_600_000, "how often an instance checks its owners' log heads (heals lost publishes); also the firehose's and webhooks' periodic look"),
  streamTickIntervalMs: duration('STREAM_TICK_INTERVAL', 1_000, 50, 3_600_000, "the streams' clock: how often `ACK_TIMEOUT`, `SLOW_CONSUMER_TIMEOUT` and SSE token expiry are checked"),
  ackTimeoutMs: duration('ACK_TIMEOUT', 0, 1, DAY, "end a consumer's subscription whose oldest delivered event stays unacked this long", 'off'),
  sseHeartbeatMs: duration('SSE_HEARTBEAT', 15_000, 100, 3_600_000, 'SSE comment heartbeat interval'),
  sseRetryMs: duration('SSE_RETRY', 2_000, 1, 3_600_000, 'the `retry:` advice sent to EventSource', 'reconnect at once'),
  groupCommitMax: int('GROUP_COMMIT_MAX', 100, 1, 5_000, 'most concurrent `postTransaction` calls written in one transaction'),
  groupCommitConcurrency: int('GROUP_COMMIT_CONCURRENCY', 2, 1, 1_000, 'group transactions written at once, a further one only while a full group waits (at most `DATABASE_POOL_SIZE`; 1 on PGlite)'),
  drainWindowMs: duration('DRAIN_WINDOW', 10_000, 1, 600_000, "on SIGTERM, WebSockets close (1001) spread over this window so clients don't all reconnect at once", 'all at once'),
  drainTimeoutMs: duration('DRAIN_TIMEOUT', 30_000, 100, 600_000, 'on SIGTERM, how long in-flight requests and transactions may take to finish'),
  revocationReloadIntervalMs: duration('REVOCATION_RELOAD_INTERVAL', 10_000, 100, 3_600_000, 'how often an instance re-reads the stored revocations and enforces any it had not heard of'),
  idempotencyKeyRetentionMs: duration('IDEMPOTENCY_KEY_RETENTION', 7 * DAY, 1_000, 3650 * DAY, 'how long a `postTransaction` idempotency key is remembered; a retry after that posts anew'),
  consumerRetentionMs: duration('CONSUMER_RETENTION', 30 * DAY, 1, 3650 * DAY, 'a durable consumer neither subscribed with nor acked this long is forgotten', 'kept for ever'),
  backboneMaxMessageBytes: int('BACKBONE_MAX_MESSAGE_BYTES', 4 * MIB, 64 * KIB, 512 * MIB, 'larger messages read from Redis are dropped unread (the server publishes at most 500 events per message)'),
  backboneAttachTimeoutMs: duration('BACKBONE_ATTACH_TIMEOUT', 1_000, 10, 60_000, 'how long a new feed waits for Redis to confirm its topic before it starts on the head check alone'),
  feedRingBytes: int('FEED_RING_BYTES', 256 * KIB, 0, 1024 * MIB, "recent events one owner's feed keeps in memory for its subscribers (a subscriber behind it reads the log)"),
  feedRingTotalBytes: int('FEED_RING_TOTAL_BYTES', 64 * MIB, 0, 64 * 1024 * MIB, 'what all feeds of an instance keep together; each feed gets at most its share'),
  firehoseRingEvents: int('FIREHOSE_RING_EVENTS', 10_000, 100, 10_000_000, "recent events one tenant's firehose keeps in memory for its readers (a reader behind it reads the log)"),
  firehosePageSize: int('FIREHOSE_PAGE_SIZE', 1_000, 10, 100_000, "events a tenant's firehose reads from the log at once"),
  firehoseRetryMs: duration('FIREHOSE_RETRY_INTERVAL', 20, 1, 60_000, 'how soon a firehose looks again when a commit it heard of is not readable yet (an older transaction still runs)'),
  wsCompression: {
    enabled: bool('WS_COMPRESSION', false, 'offer permessage-deflate on WebSockets (see Compression)'),
    thresholdBytes: int('WS_COMPRESSION_THRESHOLD', 256, 0, 64 * MIB, 'frames shorter than this many bytes go uncompressed'),
    level: int('WS_COMPRESSION_LEVEL', 1, 1, 9, 'zlib level, 1 (fastest) to 9 (smallest)'),
    memLevel: int('WS_COMPRESSION_MEM_LEVEL', 4, 1, 9, "zlib memLevel: the compressor's memory per connection"),
    windowBits: int('WS_COMPRESSION_WINDOW_BITS', 11, 9, 15, "the server's compression window, 2^bits bytes"),
  },
  webhooks: {
    deliver: bool('WEBHOOK_DELIVERY', true, '`false`: this instance serves the webhook API but takes no endpoint leases'),
    allowHttp: bool('WEBHOOK_ALLOW_HTTP', false, 'also accept `http:` endpoint URLs'),
    allowPrivateNetworks: bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', false, 'also reach loopback, private, link-local and metadata addresses (local receivers, tests)'),
    timeoutMs: duration('WEBHOOK_TIMEOUT', 10_000, 100, 300_000, "per attempt, until the response's end"),
    retryScheduleMs: custom('WEBHOOK_RETRY_SCHEDULE', [5_000, 30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000, DAY], '5s,30s,2m,10m,1h,6h,1d', 'up to 50 durations, each 1ms to 30d', 'the delay before each retry (±20 %); after the last one fails, the delivery is dead', retrySchedule('WEBHOOK_RETRY_SCHEDULE')),
    breakerThreshold: int('WEBHOOK_BREAKER_THRESHOLD', 20, 1, 1_000_000, 'failures in a row that pause an endpoint'),
    breakerCooldownMs: duration('WEBHOOK_BREAKER_COOLDOWN', 60_000, 10, DAY, 'how long a paused endpoint waits before its probe'),
    concurrency: int('WEBHOOK_CONCURRENCY', 16, 1, 1_000, 'requests in flight (and connections kept) per endpoint'),
    batchSize: int('WEBHOOK_BATCH_SIZE', 500, 1, 10_000, 'feed events one delivery step of an endpoint reads'),
    leaseTtlMs: duration('WEBHOOK_LEASE_TTL', 15_000, 300, 3_600_000, "an endpoint's lease lifetime: a dead instance's endpoints move after this"),
    secretOverlapMs: duration('WEBHOOK_SECRET_OVERLAP', DAY, 1, 30 * DAY, 'how long a rotated-out secret keeps signing, unless the rotation gives `overlapSeconds`', 'no overlap'),
    responseExcerptBytes: int('WEBHOOK_RESPONSE_EXCERPT_BYTES', 1_024, 0, 64 * KIB, 'bytes of each response body kept with its delivery'),
    deliveryRetentionMs: duration('WEBHOOK_DELIVERY_RETENTION', 7 * DAY, 1_000, 3650 * DAY, 'delivered records are kept this long (queued and dead ones until delivered)'),
    maxEndpointsPerTenant: int('WEBHOOK_MAX_ENDPOINTS_PER_TENANT', 50, 1, 100_000, 'endpoints one tenant may have (`LIMIT_EXCEEDED` past it)'),
  },
  notifications: {
    maxAlertRulesPerOwner: int('MAX_ALERT_RULES_PER_OWNER', 20, 1, 10_000, 'alert rules one owner may have (`LIMIT_EXCEEDED` past it)'),
  },
  push: {
    deliver: bool('PUSH_DELIVERY', true, '`false`: this instance registers push devices but takes no device leases'),
    maxDevicesPerOwner: int('PUSH_MAX_DEVICES_PER_OWNER', 20, 1, 10_000, 'push devices one owner may register (`LIMIT_EXCEEDED` past it)'),
    leaseTtlMs: duration('PUSH_LEASE_TTL', 15_000, 300, 3_600_000, "a device's lease lifetime: a dead instance's devices move after this"),
    retryScheduleMs: custom('PUSH_RETRY_SCHEDULE', [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000], '1s,5s,30s,2m,10m,1h', 'up to 50 durations, each 1ms to 30d', 'the delay before each retry of a failed push (±20 %); after the last one fails, the push is a dead letter and the device goes on', retrySchedule('PUSH_RETRY_SCHEDULE')),
    timeoutMs: duration('PUSH_TIMEOUT', 10_000, 100, 300_000, 'per push request, until the push service answers'),
    concurrency: int('PUSH_CONCURRENCY', 128, 1, 10_000, 'devices an instance pushes to at once (each device one push at a time, in order); push services are far away, so this many requests in flight is what bounds throughput'),
    batchSize: int('PUSH_BATCH_SIZE', 200, 1, 10_000, "events of an owner's log one device's step reads"),
    ttlMs: duration('PUSH_TTL', 86_400_000, 0, 28 * DAY, 'how long a push service keeps an undelivered push for an offline device (Web Push `TTL`, FCM `ttl`, APNS expiration)', 'deliver now or never'),
    webPush: {
      publicKey: text('WEB_PUSH_VAPID_PUBLIC_KEY', null, 'the VAPID public key (base64url, 65 bytes): with the private key; without both, one pair is generated and kept in `DATA_DIR` on PGlite, and Web Push is off on PostgreSQL'),
      privateKey: text('WEB_PUSH_VAPID_PRIVATE_KEY', null, 'the VAPID private key (base64url, 32 bytes)'),
      subject: custom('WEB_PUSH_SUBJECT', 'mailto:push@wallet-events.invalid', 'mailto:push@wallet-events.invalid', 'a mailto: or https: URL', 'the contact push services see in the VAPID token (`sub`)', (raw) => {
        if (!/^(mailto:\S+@\S+|https:\/\/\S+)$/.test(raw)) throw new ConfigError('WEB_PUSH_SUBJECT', 'must be a mailto: or https: URL');
        return raw;
      }),
    },
    fcm: {
      serviceAccount: custom<FcmServiceAccount | null>('FCM_SERVICE_ACCOUNT', null, 'none', 'the key JSON, or a path to it', "a Firebase service account key (its `project_id`, `client_email`, `private_key`, `token_uri`); without it FCM devices are refused", fcmServiceAccount),
      apiUrl: url('FCM_API_URL', ['https:', 'http:'], 'where FCM HTTP v1 requests go (default `https://fcm.googleapis.com`)'),
      tokenUrl: url('FCM_TOKEN_URL', ['https:', 'http:'], "where OAuth2 access tokens are asked for (default: the key's `token_uri`)"),
    },
    apns: {
      key: custom<string | null>('APNS_KEY', null, 'none', 'PEM (PKCS#8), `\\n` escapes allowed, or a path to it', 'the APNs auth key (.p8) that signs provider tokens (ES256); with `APNS_KEY_ID`, `APNS_TEAM_ID` and `APNS_TOPIC`; without it APNS devices are refused', pemOrPath('APNS_KEY')),
      keyId: text('APNS_KEY_ID', null, "the auth key's id (the provider token's `kid`)"),
      teamId: text('APNS_TEAM_ID', null, "the Apple team id (the provider token's `iss`)"),
      topic: text('APNS_TOPIC', null, "the app's bundle id (`apns-topic`)"),
      host: url('APNS_HOST', ['https:'], 'the APNs server (default `https://api.push.apple.com`; `https://api.sandbox.push.apple.com` for development builds)'),
      ca: custom<string | null>('APNS_CA', null, 'none', 'PEM, or a path to it', 'a certificate authority to trust for `APNS_HOST`, besides the usual ones (a private relay, a test server)', pemOrPath('APNS_CA')),
    },
  },
  limits: {
    subscriptionsPerConnection: int('MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10_000, 'operations one connection may run at once (`LIMIT_EXCEEDED`)'),
    connectionsPerOwner: int('MAX_CONNECTIONS_PER_OWNER', 10, 1, 100_000, 'WebSockets and event streams one owner may hold at once (1013 or 429)'),
    connectionsPerInstance: int('MAX_CONNECTIONS', 50_000, 1, 10_000_000, 'connections one instance holds at once (1013)'),
    wsMaxMessageBytes: int('WS_MAX_MESSAGE_BYTES', 64 * KIB, 1 * KIB, 64 * MIB, 'largest WebSocket message a client may send (1009), and largest graphql-sse body'),
    maxRequestBytes: int('MAX_REQUEST_BYTES', 1 * MIB, 1 * KIB, 64 * MIB, 'largest HTTP request body (`POST /graphql`) a client may send (413, `PAYLOAD_TOO_LARGE`)'),
    connectionInitTimeoutMs: duration('CONNECTION_INIT_TIMEOUT', 5_000, 100, 600_000, 'time a WebSocket has to send `connection_init` (4408), and a graphql-sse reservation to open its stream'),
    httpKeepAliveTimeoutMs: duration('HTTP_KEEP_ALIVE_TIMEOUT', 65_000, 1_000, 240_000, 'how long an idle HTTP keep-alive connection stays open; longer than the idle timeout of the clients and proxies in front (nginx and most load balancers: 60 s), so that they close it first and no request is sent on a connection the server is closing (`ECONNRESET`)'),
    idleTimeoutMs: duration('IDLE_TIMEOUT', 300_000, 1_000, 7 * DAY, 'a WebSocket with no subscription for this long is closed (1000 `idle`)'),
    tokenClockSkewMs: duration('TOKEN_CLOCK_SKEW', 5_000, 1, 3_600_000, "grace after a token's `exp` before its connection or stream ends", 'none'),
    mutationsPerSecond: int('MUTATION_RATE_LIMIT', 1_000, 1, 10_000_000, 'mutations per second per token (a bucket that also allows this many at once; `RATE_LIMITED`)'),
    maxBatchSize: int('MAX_BATCH_SIZE', 500, 1, 5_000, 'most inputs one `postTransactions` call may carry'),
    maxQueryDepth: int('MAX_QUERY_DEPTH', 10, 2, 1_000, 'deepest selection a document may have'),
    maxAliases: int('MAX_ALIASES', 15, 0, 10_000, 'most aliases in a document'),
    maxQueryCost: int('MAX_QUERY_COST', 1_000_000, 10, 1_000_000_000, "highest cost a document may have (graphql-armor's estimate)"),
    maxQueryTokens: int('MAX_QUERY_TOKENS', 2_000, 50, 1_000_000, 'most tokens a document may have'),
    maxDirectives: int('MAX_DIRECTIVES', 20, 1, 1_000, 'most directives in a document'),
    maxListItems: int('MAX_LIST_ITEMS', 1_000, 1, 100_000, 'most items a list argument (such as `types`) may hold (`BAD_USER_INPUT`); at least `MAX_BATCH_SIZE`'),
    allowedOrigins: custom<string[] | '*'>('ALLOWED_ORIGINS', '*', '*', '* or origin,…', 'origins browsers may call from (CORS and WebSocket upgrades)', origins),
    consumersPerOwner: int('MAX_CONSUMERS_PER_OWNER', 100, 1, 1_000_000, 'durable consumers (and saved preferences) one principal may keep per owner'),
    maxUnackedEvents: int('MAX_UNACKED_EVENTS', 10_000, 1, 10_000_000, 'with `ACK_TIMEOUT`: delivered, unacked events a stream tracks before `SLOW_CONSUMER`'),
    groupCommitQueueLimit: int('GROUP_COMMIT_QUEUE_LIMIT', 10_000, 1, 10_000_000, 'single postings waiting for group commit before new ones are refused (`RATE_LIMITED`)'),
    address: {
      connectsPerSecond: int('ADDRESS_CONNECTION_RATE', 50, 0, 1_000_000, 'new connections per client address per second (a bucket that also allows this many at once); 0: no limit'),
      maxConnections: int('ADDRESS_MAX_CONNECTIONS', 1_000, 0, 10_000_000, 'connections one client address may hold at once; 0: no limit'),
      authFailures: int('ADDRESS_AUTH_FAILURES', 20, 0, 1_000_000, 'failed authentications within `ADDRESS_AUTH_FAILURE_WINDOW` that start a cool-down; 0: never'),
      authFailureWindowMs: duration('ADDRESS_AUTH_FAILURE_WINDOW', 60_000, 100, DAY, 'the window failed authentications are counted in'),
      authCooldownMs: duration('ADDRESS_AUTH_COOLDOWN', 300_000, 100, DAY, 'how long an address is refused after too many failed authentications'),
      trustedProxies: custom<string[]>('TRUSTED_PROXIES', [], 'none', 'address or CIDR,…', 'proxies whose `X-Forwarded-For` is believed', trustedProxies),
    },
  },
} as const;
