/**
 * The only reader of the environment. Every setting (options.ts) is parsed and checked
 * here, once, so a bad value stops start-up with a message that names the variable instead
 * of failing later at the first request.
 */
import { ConfigError, isOption, type Env, type Option, type OptionTree, type ValuesOf } from './option.ts';
import { HMAC_ALGORITHMS, KEY_ALGORITHMS, OPTIONS } from './options.ts';

export { ConfigError, parseDuration } from './option.ts';
export type { LogLevel } from '../logging/logger.ts';

/** The validated configuration of one server instance: the values of {@link OPTIONS}. */
export type Config = Omit<ValuesOf<typeof OPTIONS>, 'auth'> & {
  auth: AuthConfig;
  /** Said once at start-up: settings read under a former name. */
  warnings: string[];
};
/** How tokens are verified. After loading, `algorithm` is set and at most one key source is. */
export type AuthConfig = Omit<ValuesOf<typeof OPTIONS>['auth'], 'algorithm'> & { algorithm: string };
/** Abuse limits and bounds on what a client may ask (docs/operations/security.md). */
export type Limits = Config['limits'];
/** Per client address: new connections a second, connections held, failed authentications and their cool-down. */
export type AddressLimits = Limits['address'];
/** Webhook delivery settings. */
export type WebhookConfig = Config['webhooks'];
/** Push to devices: delivery, Web Push, FCM and APNs. */
export type PushConfig = Config['push'];
/** permessage-deflate on WebSockets (RFC 7692). */
export type WsCompression = Config['wsCompression'];

/** Reads and validates the configuration from `env` (default: `process.env`). */
export function loadConfig(env: Env = process.env): Config {
  const values = readTree(OPTIONS, env) as ValuesOf<typeof OPTIONS>;
  if (values.pruneIntervalMs >= values.eventPartitionIntervalMs * values.eventPartitionsAhead) {
    throw new ConfigError('PRUNE_INTERVAL', 'must be shorter than EVENT_PARTITION_INTERVAL × EVENT_PARTITIONS_AHEAD: the pruning job makes the next partitions before writes reach them');
  }
  if (values.replicas.urls.length > 0 && !values.databaseUrl) throw new ConfigError('DATABASE_REPLICA_URLS', 'needs DATABASE_URL: replicas are of a PostgreSQL primary (PGlite has none)');
  if (values.redisUrl && values.redisClusterNodes) throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  if (values.limits.maxListItems < values.limits.maxBatchSize) {
    throw new ConfigError('MAX_LIST_ITEMS', `must be at least MAX_BATCH_SIZE (${values.limits.maxBatchSize}): a batch is a list argument`);
  }
  checkPush(values.push);
  const warnings = env.SUBSCRIBER_QUEUE_LIMIT?.trim() ? ['SUBSCRIBER_QUEUE_LIMIT is read as STREAM_PAGE_SIZE (at most 500); rename it'] : [];
  return { ...values, auth: checkAuth(values.auth, values.production), warnings };
}

function readTree(tree: OptionTree, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) out[key] = isOption(node) ? readOption(node, env) : readTree(node, env);
  return out;
}

function readOption(option: Option<unknown>, env: Env): unknown {
  const raw = env[option.env]?.trim();
  return option.read(raw ? raw : null, env);
}

/** The rules between the push settings: a VAPID pair is both keys, an APNs key comes with its id, team and topic. */
function checkPush(push: ValuesOf<typeof OPTIONS>['push']): void {
  const { publicKey, privateKey } = push.webPush;
  if (Boolean(publicKey) !== Boolean(privateKey)) throw new ConfigError(publicKey ? 'WEB_PUSH_VAPID_PRIVATE_KEY' : 'WEB_PUSH_VAPID_PUBLIC_KEY', 'set both VAPID keys, or neither');
  if (publicKey && Buffer.from(publicKey, 'base64url').length !== 65) throw new ConfigError('WEB_PUSH_VAPID_PUBLIC_KEY', 'must be a P-256 public key: 65 bytes, base64url');
  if (privateKey && Buffer.from(privateKey, 'base64url').length !== 32) throw new ConfigError('WEB_PUSH_VAPID_PRIVATE_KEY', 'must be a P-256 private key: 32 bytes, base64url');
  const apns = push.apns;
  if (apns.key) {
    for (const [value, name] of [
      [apns.keyId, 'APNS_KEY_ID'],
      [apns.teamId, 'APNS_TEAM_ID'],
      [apns.topic, 'APNS_TOPIC'],
    ] as const) {
      if (!value) throw new ConfigError(name, 'is required with APNS_KEY');
    }
  }
}

/** The rules between the JWT settings: one key source, required in production, an algorithm of its family. */
function checkAuth(auth: ValuesOf<typeof OPTIONS>['auth'], production: boolean): AuthConfig {
  const { secret, publicKey, jwksUrl } = auth;
  if ([secret, publicKey, jwksUrl].filter(Boolean).length > 1) throw new ConfigError('JWT_SECRET', 'set only one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL');
  if (production && !secret && !publicKey && !jwksUrl) {
    throw new ConfigError('JWT_SECRET', 'NODE_ENV=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL; refusing to start with a generated key');
  }
  const asymmetric = Boolean(publicKey || jwksUrl);
  const allowed: readonly string[] = asymmetric ? KEY_ALGORITHMS : HMAC_ALGORITHMS;
  if (auth.algorithm !== null && !allowed.includes(auth.algorithm)) throw new ConfigError('JWT_ALGORITHM', `must be one of ${allowed.join(', ')}, got "${auth.algorithm}"`);
  return { ...auth, algorithm: auth.algorithm ?? (asymmetric ? 'RS256' : 'HS256') };
}
