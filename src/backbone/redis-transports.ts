/**
 * The two ways to reach Redis for the backbone. A single node (or a primary with
 * Sentinel-managed failover behind one URL) uses classic pub/sub on two connections (a
 * subscribed connection cannot publish). A Redis Cluster uses sharded pub/sub
 * (SPUBLISH/SSUBSCRIBE, Redis 7): each channel lives on the shard that owns its slot, so a
 * message crosses only that shard instead of being broadcast to every node as classic
 * pub/sub does in a cluster, and capacity grows with the number of shards. ioredis keeps
 * one subscriber connection per shard and moves subscriptions when slots move or a replica
 * is promoted.
 */
import { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';

/** What the backbone needs from a Redis deployment. */
export interface RedisTransport {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  onMessage(handler: (channel: string, message: string) => void): void;
  ping(): Promise<unknown>;
  /** QUIT, then drop the sockets if Redis does not answer in time. */
  close(): Promise<void>;
}

const QUIT_TIMEOUT_MS = 2_000;

/** Redis client names may not contain spaces or newlines. */
function clientName(prefix: string): string {
  return prefix.replace(/\s/g, '_');
}

/**
 * QUIT rather than disconnect: QUIT is queued behind commands still in flight (such as
 * the UNSUBSCRIBEs of subscriptions that just ended), which would otherwise be rejected
 * with nobody to catch them. If Redis doesn't answer in time, drop the sockets.
 */
async function quit(clients: (Redis | Cluster)[]): Promise<void> {
  const quitting = Promise.allSettled(clients.map((client) => client.quit()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  await Promise.race([quitting, timeout]);
  clearTimeout(timer);
  for (const client of clients) if (client.status !== 'end') client.disconnect();
}

/**
 * Subscribes `subscriber` again to the channels it holds each time it reconnects, in place
 * of ioredis's own resubscription: ioredis sends that SUBSCRIBE with nobody to catch it, so
 * a connection closed before Redis answers (a shutdown just after Redis came back) ends in
 * an unhandled rejection. Returns the set of held channels, which the caller keeps current.
 */
function resubscribing(subscriber: Redis, logger: Logger): Set<string> {
  const channels = new Set<string>();
  let connectedBefore = false;
  subscriber.on('ready', () => {
    // The first connection sends the SUBSCRIBEs queued while it was opening.
    if (!connectedBefore) return void (connectedBefore = true);
    if (channels.size === 0) return;
    logger.info('redis subscriber reconnected; subscribing again', { channels: channels.size });
    subscriber.subscribe(...channels).catch((error: Error) => logger.warn('redis resubscribe failed; the next reconnect tries again', { error: error.message }));
  });
  return channels;
}

/** One Redis node at `url`: classic pub/sub. */
export function singleNode(url: string, prefix: string, logger: Logger): RedisTransport {
  // The publisher gives up on a command quickly while Redis is away (the event log covers the
  // loss); the subscriber keeps retrying, and ioredis re-subscribes when it is back.
  // Connection names carry the prefix, so an operator can tell deployments apart in CLIENT LIST.
  const publisher = new Redis(url, { maxRetriesPerRequest: 1, connectionName: `${clientName(prefix)}pub` });
  // No INFO ready-check on the subscriber: if a SUBSCRIBE got there first, Redis would
  // refuse the INFO ("only subscriber commands may be used").
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, autoResubscribe: false, connectionName: `${clientName(prefix)}sub` });
  for (const [role, client] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    client.on('error', (error: Error) => logger.warn('redis connection error', { role, error: error.message }));
  }
  const channels = resubscribing(subscriber, logger);
  return {
    publish: (channel, message) => publisher.publish(channel, message),
    subscribe: (channel) => (channels.add(channel), subscriber.subscribe(channel)),
    unsubscribe: (channel) => (channels.delete(channel), subscriber.unsubscribe(channel)),
    onMessage: (handler) => subscriber.on('message', handler),
    ping: () => publisher.ping(),
    close: () => quit([publisher, subscriber]),
  };
}

/**
 * A Redis Cluster reached through any of `nodes`: sharded pub/sub. The slot map is re-read
 * every `slotsRefreshMs`: a failover is noticed at once (the dead master's subscriber
 * connection drops), but a resharding only tells the clients that publish to a moved slot
 * (MOVED), and a subscriber-only instance would otherwise stay subscribed where the slot
 * no longer is.
 */
export function cluster(nodes: { host: string; port: number }[], prefix: string, logger: Logger, slotsRefreshMs: number): RedisTransport {
  const client = new Cluster(nodes, {
    shardedSubscribers: true,
    // A command waits through a failover (slots refresh, then it is sent again) but not
    // for ever: a publish lost meanwhile is recovered from the event log.
    redisOptions: { maxRetriesPerRequest: 1, connectionName: `${clientName(prefix)}cluster` },
    slotsRefreshTimeout: 2_000,
    slotsRefreshInterval: slotsRefreshMs,
    clusterRetryStrategy: (attempts) => Math.min(100 * attempts, 2_000),
  });
  client.on('error', (error: Error) => logger.warn('redis cluster error', { error: error.message }));
  client.on('+node', (node: Redis) => logger.info('redis cluster node joined', { node: `${node.options.host}:${node.options.port}` }));
  client.on('-node', (node: Redis) => logger.warn('redis cluster node left', { node: `${node.options.host}:${node.options.port}` }));
  return {
    publish: (channel, message) => client.spublish(channel, message),
    subscribe: (channel) => client.ssubscribe(channel),
    unsubscribe: (channel) => client.sunsubscribe(channel),
    onMessage: (handler) => client.on('smessage', handler),
    ping: () => client.ping(),
    close: () => quit([client]),
  };
}
