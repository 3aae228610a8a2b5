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
export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly engine: GraphqlRedisPubSub;

  constructor(
    url: string,
    private readonly prefix: string,
    log: Logger,
  ) {
    // The publisher gives up on a command quickly while Redis is away (the log covers the
    // loss); the subscriber keeps retrying, and ioredis re-subscribes when it is back.
    this.publisher = new Redis(url, { maxRetriesPerRequest: 1, connectionName: 'wallet-events-pub' });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null, connectionName: 'wallet-events-sub' });
    for (const [role, client] of [['publisher', this.publisher], ['subscriber', this.subscriber]] as const) {
      client.on('error', (error: Error) => log.warn('redis connection error', { role, error: error.message }));
    }
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
    const id = await this.engine.subscribe<string>(this.prefix + topic, handler);
    return () => this.engine.unsubscribe(id);
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
