import { RedisPubSub as GraphqlRedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { MessageHandler, PubSub } from './pubsub.ts';

/**
 * Redis pub/sub through graphql-redis-subscriptions on two ioredis connections (a
 * subscribed connection can't publish). Every channel carries `prefix` so several
 * deployments can share one Redis. ioredis reconnects and re-subscribes by itself; what
 * is published while it is away is recovered by subscribers from the log.
 */
const QUIT_TIMEOUT_MS = 2_000;

/** Redis client names may not contain spaces or newlines. */
function clientName(prefix: string): string {
  return prefix.replace(/\s/g, '_');
}

export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly engine: GraphqlRedisPubSub;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    // The publisher gives up on a command quickly while Redis is away (the log covers the
    // loss); the subscriber keeps retrying, and ioredis re-subscribes when it is back.
    // Connection names carry the prefix, so an operator can tell deployments apart in CLIENT LIST.
    this.publisher = new Redis(url, { maxRetriesPerRequest: 1, connectionName: `${clientName(prefix)}pub` });
    // No INFO ready-check on the subscriber: if a SUBSCRIBE got there first, Redis would
    // refuse the INFO ("only subscriber commands may be used").
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, connectionName: `${clientName(prefix)}sub` });
    for (const [role, client] of [['publisher', this.publisher], ['subscriber', this.subscriber]] as const) {
      client.on('error', (error: Error) => log.warn('redis connection error', { role, error: error.message }));
    }
    guardUnsubscribe(this.subscriber, log);
    this.engine = new GraphqlRedisPubSub({
      publisher: this.publisher,
      subscriber: this.subscriber,
      // Messages are already JSON text: pass them through untouched, parse once per instance.
      serializer: (message: string) => message,
      deserializer: (message: string | Buffer) => message.toString(),
    });
  }

  async publish(topic: string, message: string): Promise<void> {
    await this.engine.publish(this.prefix + topic, message);
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<() => void> {
    // Handlers run inside ioredis's socket callback, where a throw would end the process:
    // whatever a message does to a handler, the instance keeps serving.
    const guarded: MessageHandler = (message) => {
      try {
        handler(message);
      } catch (error) {
        this.log.error('a backbone message handler failed', { channel: this.prefix + topic, error });
      }
    };
    const id = await this.engine.subscribe<string>(this.prefix + topic, guarded);
    return () => this.engine.unsubscribe(id);
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  /**
   * QUIT rather than disconnect: QUIT is queued behind commands still in flight (such as
   * the UNSUBSCRIBEs of subscriptions that just ended), which would otherwise be rejected
   * with nobody to catch them. If Redis doesn't answer in time, drop the sockets.
   */
  async close(): Promise<void> {
    const clients = [this.publisher, this.subscriber];
    const quit = Promise.allSettled(clients.map((client) => client.quit()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
    await Promise.race([quit, timeout]);
    clearTimeout(timer);
    for (const client of clients) if (client.status !== 'end') client.disconnect();
  }
}

/**
 * graphql-redis-subscriptions calls UNSUBSCRIBE without handling its promise. If the
 * connection drops at that moment the rejection would be unhandled, which ends a Node
 * process. The channel is gone with the connection anyway, so a failure only needs a log.
 */
function guardUnsubscribe(client: Redis, log: Logger): void {
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = client[method].bind(client) as (...channels: string[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[method] = (...channels: string[]) => {
      const result = original(...channels);
      result.catch((error: Error) => log.debug(`redis ${method} failed`, { channels, error: error.message }));
      return result;
    };
  }
}
