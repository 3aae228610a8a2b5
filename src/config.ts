/**
 * The only reader of the environment. Every setting is parsed and checked here, once, so
 * a bad value stops start-up with a message that names the variable instead of failing
 * later at the first request.
 */
import { proxyList, type AddressLimits } from './transport/address-guard.ts';

/** Raised for a missing or malformed setting; `variable` names the culprit. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** How tokens are verified. Exactly one of `secret` and `publicKey` is set after start-up. */
export interface AuthConfig {
  /** HS256 shared secret. */
  secret: string | null;
  /** PEM (SPKI) public key for RS/ES/PS algorithms. */
  publicKey: string | null;
  /** A JWKS URL (keys chosen by `kid`, fetched and cached by jose). */
  jwksUrl: string | null;
  algorithm: string;
  issuer: string | null;
  audience: string | null;
  /** Tokens older than this (from `iat`) are refused, whatever their `exp`; seconds. */
  maxTokenAgeS: number;
}

/** The validated configuration of one server instance. */
export interface Config {
  production: boolean;
  port: number;
  host: string;
  /** PGlite's directory, or `memory://` for an in-memory database. */
  dataDir: string;
  databaseUrl: string | null;
  databasePoolSize: number;
  redisUrl: string | null;
  /** A Redis Cluster's seed nodes (sharded pub/sub); null for none. Exclusive with `redisUrl`. */
  redisClusterNodes: { host: string; port: number }[] | null;
  /** How often each instance re-reads the cluster's slot map (resharding moves subscriptions only then). */
  redisClusterSlotsRefreshMs: number;
  /** Prefix of every Redis channel, so several deployments can share one Redis. */
  pubsubPrefix: string;
  auth: AuthConfig;
  logLevel: LogLevel;
  /** graphql-ws keep-alive ping interval. */
  wsPingIntervalMs: number;
  /** Largest `first` a paged query accepts. */
  maxPageSize: number;
  /** Most events one subscriber takes from its feed's ring or from the log at once. */
  subscriberQueueLimit: number;
  /** Bytes a subscriber's connection may hold unsent before its streams pause. */
  slowConsumerBytes: number;
  /** How long a stream may stay paused (its client reading nothing) before it ends with SLOW_CONSUMER. */
  slowConsumerTimeoutMs: number;
  /** How long events stay in the log. */
  retentionMs: number;
  /** How often the pruning job runs. */
  pruneIntervalMs: number;
  /** How often each instance checks its owners' log heads (heals lost publishes). */
  headCheckIntervalMs: number;
  /** A consumer's delivered event may stay unacked this long before its subscription ends (0 = off). */
  ackTimeoutMs: number;
  /** SSE comment heartbeat interval. */
  sseHeartbeatMs: number;
  /** The `retry:` an SSE stream advises EventSource to wait before reconnecting. */
  sseRetryMs: number;
  /** Abuse limits; see README "Security". */
  limits: Limits;
  /** WebSocket permessage-deflate; null when off. */
  wsCompression: WsCompression | null;
  /** Group commit: most concurrent `postTransaction` calls written in one database transaction. */
  groupCommitMax: number;
  /** Group commit: transactions written at the same time (capped at DATABASE_POOL_SIZE). */
  groupCommitConcurrency: number;
  /** On SIGTERM, WebSockets are closed (1001) spread over this window, so clients don't all reconnect at once. */
  drainWindowMs: number;
  /** On SIGTERM, how long in-flight requests and transactions may take to finish. */
  drainTimeoutMs: number;
  /** How often each instance re-reads the stored revocations (covers a lost notice). */
  revocationReloadIntervalMs: number;
  /** Idempotency keys are forgotten this long after first use (a retry after that posts anew). */
  idempotencyKeyRetentionMs: number;
  /** A durable consumer neither used nor acked for this long is forgotten (0 = kept for ever). */
  consumerRetentionMs: number;
  /** Messages read from the backbone larger than this are dropped unread. */
  backboneMaxMessageBytes: number;
  /** Most bytes of recent events one owner's feed keeps in memory for its subscribers. */
  feedRingBytes: number;
  /** Recent events one tenant's firehose keeps in memory for its readers. */
  firehoseRingEvents: number;
  /** How soon a firehose looks again when a commit it heard of is not readable yet. */
  firehoseRetryMs: number;
  /** Most bytes all feeds of an instance keep together. */
  feedRingTotalBytes: number;
  /** How long a new feed waits for the backbone to confirm its topic before it starts degraded (on the head check). */
  backboneAttachTimeoutMs: number;
  webhooks: WebhookConfig;
}

/** permessage-deflate on WebSockets (RFC 7692); see README "Compression". */
export interface WsCompression {
  /** Messages shorter than this many bytes go uncompressed. */
  thresholdBytes: number;
  /** zlib level, 1 (fastest) to 9 (smallest). */
  level: number;
  /** zlib memLevel, 1 to 9: the compressor's memory per connection (higher: a little smaller output). */
  memLevel: number;
  /** LZ77 window of the server's compressor, 2^bits bytes (9 to 15): memory per connection against ratio. */
  windowBits: number;
}

/** Webhook delivery; see README "Webhooks". */
export interface WebhookConfig {
  /** This instance takes endpoint leases and delivers (false: it only serves the API). */
  deliver: boolean;
  /** Also `http:` URLs (otherwise `https:` only). */
  allowHttp: boolean;
  /** Also loopback, private, link-local and metadata addresses. */
  allowPrivateNetworks: boolean;
  /** Per attempt, until the response's end. */
  timeoutMs: number;
  /** The delay before each retry; after the last one fails the delivery is dead. */
  retryScheduleMs: number[];
  /** Consecutive failures that open an endpoint's circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker pauses an endpoint before one probe. */
  breakerCooldownMs: number;
  /** Requests in flight to one endpoint at once. */
  concurrency: number;
  /** Events one delivery step of an endpoint reads from the feed. */
  batchSize: number;
  /** How long an endpoint's lease lasts unrenewed: a dead instance's endpoints move after this. */
  leaseTtlMs: number;
  /** How long a rotated-out secret keeps signing by default. */
  secretOverlapMs: number;
  /** Bytes of each response body kept with the delivery. */
  responseExcerptBytes: number;
  /** Delivered records are kept this long (queued and dead ones until delivered or redelivered). */
  deliveryRetentionMs: number;
  /** Endpoints one tenant may have. */
  maxEndpointsPerTenant: number;
}

/** Every limit is configurable; the README lists defaults and the refusal each one gives. */
export interface Limits {
  subscriptionsPerConnection: number;
  connectionsPerOwner: number;
  connectionsPerInstance: number;
  wsMaxMessageBytes: number;
  connectionInitTimeoutMs: number;
  idleTimeoutMs: number;
  tokenClockSkewMs: number;
  /** Mutations per second per token (a token bucket that also allows this many at once). */
  mutationsPerSecond: number;
  /** Most inputs one `postTransactions` call may carry. */
  maxBatchSize: number;
  maxQueryDepth: number;
  maxAliases: number;
  maxQueryCost: number;
  maxQueryTokens: number;
  /** Origins browsers may call from (CORS and WebSocket upgrades); `*` allows any. */
  allowedOrigins: string[] | '*';
  /** Durable consumers one principal may keep per owner (and saved preferences likewise). */
  consumersPerOwner: number;
  /** Events delivered to a consumer and not yet acked that a stream tracks (with ACK_TIMEOUT) before SLOW_CONSUMER. */
  maxUnackedEvents: number;
  /** Single postings waiting for group commit before new ones are refused (RATE_LIMITED). */
  groupCommitQueueLimit: number;
  /** Per client address: new connections a second, connections held, failed authentications and their cool-down. */
  address: AddressLimits;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Reads and validates the configuration from `env` (default: `process.env`). */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  if (str(env, 'REDIS_URL') && str(env, 'REDIS_CLUSTER_NODES')) throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  const config: Config = {
    production,
    port: int(env, 'PORT', 4000, 0, 65535),
    host: str(env, 'HOST') ?? '0.0.0.0',
    dataDir: str(env, 'DATA_DIR') ?? '.data',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisClusterNodes: clusterNodes(env, 'REDIS_CLUSTER_NODES'),
    redisClusterSlotsRefreshMs: duration(env, 'REDIS_CLUSTER_SLOTS_REFRESH', 5_000, 100, 3_600_000),
    pubsubPrefix: str(env, 'PUBSUB_PREFIX') ?? 'wallet-events:',
    auth: authConfig(env, production),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    wsPingIntervalMs: int(env, 'WS_PING_INTERVAL_MS', 30_000, 1_000, 3_600_000),
    maxPageSize: int(env, 'MAX_PAGE_SIZE', 500, 1, 10_000),
    subscriberQueueLimit: int(env, 'SUBSCRIBER_QUEUE_LIMIT', 10_000, 10, 10_000_000),
    // At least 64 KiB: a paused stream resumes on its socket's 'drain', which a TCP socket
    // signals only once its backlog passed its own 16 KiB mark.
    slowConsumerBytes: int(env, 'SLOW_CONSUMER_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 ** 3),
    slowConsumerTimeoutMs: duration(env, 'SLOW_CONSUMER_TIMEOUT', 60_000, 100, DAY),
    retentionMs: duration(env, 'EVENT_RETENTION', 7 * DAY, 1_000, 3650 * DAY),
    pruneIntervalMs: duration(env, 'PRUNE_INTERVAL', 60_000, 100, DAY),
    headCheckIntervalMs: duration(env, 'HEAD_CHECK_INTERVAL', 1_000, 50, 3_600_000),
    ackTimeoutMs: duration(env, 'ACK_TIMEOUT', 0, 0, DAY),
    sseHeartbeatMs: duration(env, 'SSE_HEARTBEAT', 15_000, 100, 3_600_000),
    sseRetryMs: duration(env, 'SSE_RETRY', 2_000, 0, 3_600_000),
    groupCommitMax: int(env, 'GROUP_COMMIT_MAX', 100, 1, 5_000),
    groupCommitConcurrency: int(env, 'GROUP_COMMIT_CONCURRENCY', 2, 1, 1_000),
    drainWindowMs: duration(env, 'DRAIN_WINDOW', 10_000, 0, 600_000),
    drainTimeoutMs: duration(env, 'DRAIN_TIMEOUT', 30_000, 100, 600_000),
    revocationReloadIntervalMs: duration(env, 'REVOCATION_RELOAD_INTERVAL', 10_000, 100, 3_600_000),
    idempotencyKeyRetentionMs: duration(env, 'IDEMPOTENCY_KEY_RETENTION', 7 * DAY, 1_000, 3650 * DAY),
    consumerRetentionMs: duration(env, 'CONSUMER_RETENTION', 30 * DAY, 0, 3650 * DAY),
    backboneMaxMessageBytes: int(env, 'BACKBONE_MAX_MESSAGE_BYTES', 4 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024),
    feedRingBytes: int(env, 'FEED_RING_BYTES', 256 * 1024, 0, 1024 ** 3),
    firehoseRingEvents: int(env, 'FIREHOSE_RING_EVENTS', 10_000, 100, 10_000_000),
    firehoseRetryMs: duration(env, 'FIREHOSE_RETRY_INTERVAL', 20, 1, 60_000),
    feedRingTotalBytes: int(env, 'FEED_RING_TOTAL_BYTES', 64 * 1024 * 1024, 0, 64 * 1024 ** 3),
    backboneAttachTimeoutMs: duration(env, 'BACKBONE_ATTACH_TIMEOUT', 1_000, 10, 60_000),
    wsCompression: bool(env, 'WS_COMPRESSION', false)
      ? {
          thresholdBytes: int(env, 'WS_COMPRESSION_THRESHOLD', 256, 0, 64 * 1024 * 1024),
          level: int(env, 'WS_COMPRESSION_LEVEL', 1, 1, 9),
          memLevel: int(env, 'WS_COMPRESSION_MEM_LEVEL', 4, 1, 9),
          windowBits: int(env, 'WS_COMPRESSION_WINDOW_BITS', 11, 9, 15),
        }
      : null,
    webhooks: {
      deliver: bool(env, 'WEBHOOK_DELIVERY', true),
      allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
      allowPrivateNetworks: bool(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
      timeoutMs: duration(env, 'WEBHOOK_TIMEOUT', 10_000, 100, 300_000),
      retryScheduleMs: durations(env, 'WEBHOOK_RETRY_SCHEDULE', [5_000, 30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000, DAY]),
      breakerThreshold: int(env, 'WEBHOOK_BREAKER_THRESHOLD', 20, 1, 1_000_000),
      breakerCooldownMs: duration(env, 'WEBHOOK_BREAKER_COOLDOWN', 60_000, 10, DAY),
      concurrency: int(env, 'WEBHOOK_CONCURRENCY', 16, 1, 1_000),
      batchSize: int(env, 'WEBHOOK_BATCH_SIZE', 500, 1, 10_000),
      leaseTtlMs: duration(env, 'WEBHOOK_LEASE_TTL', 15_000, 300, 3_600_000),
      secretOverlapMs: duration(env, 'WEBHOOK_SECRET_OVERLAP', DAY, 0, 30 * DAY),
      responseExcerptBytes: int(env, 'WEBHOOK_RESPONSE_EXCERPT_BYTES', 1_024, 0, 64 * 1024),
      deliveryRetentionMs: duration(env, 'WEBHOOK_DELIVERY_RETENTION', 7 * DAY, 1_000, 3650 * DAY),
      maxEndpointsPerTenant: int(env, 'WEBHOOK_MAX_ENDPOINTS_PER_TENANT', 50, 1, 100_000),
    },
    limits: {
      subscriptionsPerConnection: int(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10_000),
      connectionsPerOwner: int(env, 'MAX_CONNECTIONS_PER_OWNER', 10, 1, 100_000),
      connectionsPerInstance: int(env, 'MAX_CONNECTIONS', 50_000, 1, 10_000_000),
      wsMaxMessageBytes: int(env, 'WS_MAX_MESSAGE_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
      connectionInitTimeoutMs: duration(env, 'CONNECTION_INIT_TIMEOUT', 5_000, 100, 600_000),
      idleTimeoutMs: duration(env, 'IDLE_TIMEOUT', 300_000, 1_000, 7 * DAY),
      tokenClockSkewMs: duration(env, 'TOKEN_CLOCK_SKEW', 5_000, 0, 3_600_000),
      mutationsPerSecond: int(env, 'MUTATION_RATE_LIMIT', 1_000, 1, 10_000_000),
      maxBatchSize: int(env, 'MAX_BATCH_SIZE', 500, 1, 5_000),
      maxQueryDepth: int(env, 'MAX_QUERY_DEPTH', 10, 2, 1_000),
      maxAliases: int(env, 'MAX_ALIASES', 15, 0, 10_000),
      maxQueryCost: int(env, 'MAX_QUERY_COST', 1_000_000, 10, 1_000_000_000),
      maxQueryTokens: int(env, 'MAX_QUERY_TOKENS', 2_000, 50, 1_000_000),
      allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
      consumersPerOwner: int(env, 'MAX_CONSUMERS_PER_OWNER', 100, 1, 1_000_000),
      maxUnackedEvents: int(env, 'MAX_UNACKED_EVENTS', 10_000, 1, 10_000_000),
      groupCommitQueueLimit: int(env, 'GROUP_COMMIT_QUEUE_LIMIT', 10_000, 1, 10_000_000),
      address: {
        connectsPerSecond: int(env, 'ADDRESS_CONNECTION_RATE', 50, 0, 1_000_000),
        maxConnections: int(env, 'ADDRESS_MAX_CONNECTIONS', 1_000, 0, 10_000_000),
        authFailures: int(env, 'ADDRESS_AUTH_FAILURES', 20, 0, 1_000_000),
        authFailureWindowMs: duration(env, 'ADDRESS_AUTH_FAILURE_WINDOW', 60_000, 100, DAY),
        authCooldownMs: duration(env, 'ADDRESS_AUTH_COOLDOWN', 300_000, 100, DAY),
        trustedProxies: trustedProxies(env, 'TRUSTED_PROXIES'),
      },
    },
  };
  return config;
}

function authConfig(env: Env, production: boolean): AuthConfig {
  const secret = str(env, 'JWT_SECRET');
  const publicKey = str(env, 'JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n') ?? null;
  const jwksUrl = url(env, 'JWT_JWKS_URL', ['https:', 'http:']);
  if ([secret, publicKey, jwksUrl].filter(Boolean).length > 1) {
    throw new ConfigError('JWT_SECRET', 'set only one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL');
  }
  if (secret && secret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters (HS256 needs a 256-bit key)');
  }
  if (publicKey && !publicKey.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new ConfigError('JWT_PUBLIC_KEY', 'must be a PEM-encoded SPKI public key (-----BEGIN PUBLIC KEY-----)');
  }
  if (production && !secret && !publicKey && !jwksUrl) {
    throw new ConfigError('JWT_SECRET', 'NODE_ENV=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL; refusing to start with a generated key');
  }
  const asymmetric = Boolean(publicKey || jwksUrl);
  const algorithm = oneOf(env, 'JWT_ALGORITHM', asymmetric ? KEY_ALGORITHMS : HMAC_ALGORITHMS, asymmetric ? 'RS256' : 'HS256');
  const maxTokenAgeS = duration(env, 'JWT_MAX_TOKEN_AGE', DAY, 60_000, 366 * DAY) / 1000;
  return { secret, publicKey, jwksUrl, algorithm, issuer: str(env, 'JWT_ISSUER'), audience: str(env, 'JWT_AUDIENCE'), maxTokenAgeS };
}

function str(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

const DAY = 86_400_000;
const UNIT_MS: Record<string, number> = { '': 1, ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: DAY };

/** Reads a duration such as `250` or `250ms`, `30s`, `5m`, `12h`, `7d` into milliseconds; `name` is for the error. */
export function parseDuration(raw: string, name: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw);
  if (!match) throw new ConfigError(name, `must be a duration such as 500ms, 30s, 5m, 12h or 7d, got "${raw}"`);
  return Number(match[1]) * UNIT_MS[match[2] ?? '']!;
}

/** A duration setting (see {@link parseDuration}) within `min`..`max` milliseconds. */
function duration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return fallback;
  const value = parseDuration(raw, name);
  if (value !== 0 && (value < min || value > max)) throw new ConfigError(name, `must be between ${min} ms and ${max} ms (or 0 where allowed), got ${value} ms`);
  if (value === 0 && min > 0) throw new ConfigError(name, 'must be greater than zero');
  return value;
}

/** `host:port,host:port,…` (IPv6 hosts in brackets): seed nodes of a Redis Cluster. */
function clusterNodes(env: Env, name: string): { host: string; port: number }[] | null {
  const raw = str(env, name);
  if (raw === null) return null;
  return raw.split(',').map((entry) => {
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new ConfigError(name, `"${entry.trim()}" is not host:port (for example 10.0.0.5:7000)`);
    return { host: match[1]!, port };
  });
}

/** A comma-separated list of proxy addresses or CIDR ranges. */
function trustedProxies(env: Env, name: string): string[] {
  const raw = str(env, name);
  if (raw === null) return [];
  const list = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  try {
    proxyList(list);
  } catch (error) {
    throw new ConfigError(name, (error as Error).message);
  }
  return list;
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). */
function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw == null) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** A comma-separated list of durations such as `5s,30s,2m`, each between 1 ms and 30 days. */
function durations(env: Env, name: string, fallback: number[]): number[] {
  const raw = str(env, name);
  if (raw === null) return fallback;
  const list = raw.split(',').map((part) => parseDuration(part.trim(), name));
  if (list.length > 50) throw new ConfigError(name, `at most 50 retries, got ${list.length}`);
  for (const value of list) if (value < 1 || value > 30 * DAY) throw new ConfigError(name, `each delay must be between 1 ms and 30 days, got ${value} ms`);
  return list;
}

/** `*` or a comma-separated list of origins such as `https://app.example.com`. */
function origins(env: Env, name: string): string[] | '*' {
  const raw = str(env, name);
  if (raw === null || raw === '*') return '*';
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

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name);
  if (raw === null) return fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}
