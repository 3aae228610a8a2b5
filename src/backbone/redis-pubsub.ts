import type { Logger } from '../logging/logger.ts';
import type { MessageHandler, PubSub } from './pubsub.ts';
import { cluster, singleNode, type RedisTransport } from './redis-transports.ts';

/**
 * Redis pub/sub: one Redis node (classic pub/sub) or a Redis Cluster (sharded pub/sub);
 * see redis-transports.ts. Every channel carries `prefix` so several deployments can share
 * one Redis. ioredis reconnects and re-subscribes by itself; what is published while it is
 * away is recovered by subscribers from the event log.
 */

/** One subscribed channel: its handlers, and when Redis confirmed the subscription. */
interface Channel {
  handlers: Set<MessageHandler>;
  subscribed: Promise<void>;
}

export class RedisPubSub implements PubSub {
  private readonly transport: RedisTransport;
  private readonly channels = new Map<string, Channel>();

  /** On the Redis at `target` (a URL), or on a given transport. */
  constructor(
    target: string | RedisTransport,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.transport = typeof target === 'string' ? singleNode(target, prefix, logger) : target;
    this.transport.onMessage((channel, message) => this.dispatch(channel, message));
  }

  /** On the Redis Cluster reached through any of `nodes`, with sharded pub/sub. */
  static cluster(nodes: { host: string; port: number }[], prefix: string, logger: Logger, slotsRefreshMs: number): RedisPubSub {
    return new RedisPubSub(cluster(nodes, prefix, logger, slotsRefreshMs), prefix, logger);
  }

  async publish(topic: string, message: string): Promise<void> {
    await this.transport.publish(this.prefix + topic, message);
  }

  /** Resolves once Redis has confirmed the subscription (at once if the channel already was). */
  async subscribe(topic: string, handler: MessageHandler): Promise<() => void> {
    const name = this.prefix + topic;
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { handlers: new Set(), subscribed: this.transport.subscribe(name).then(() => undefined) };
      this.channels.set(name, channel);
    }
    channel.handlers.add(handler);
    const joined = channel;
    try {
      await joined.subscribed;
    } catch (error) {
      this.leave(name, joined, handler);
      throw error;
    }
    return () => this.leave(name, joined, handler);
  }

  async ping(): Promise<void> {
    await this.transport.ping();
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private dispatch(name: string, message: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    for (const handler of channel.handlers) {
      // Handlers run inside ioredis's socket callback, where a throw would end the process:
      // whatever a message does to a handler, the instance keeps serving.
      try {
        handler(message);
      } catch (error) {
        this.logger.error('a backbone message handler failed', { channel: name, error });
      }
    }
  }

  /** Removes `handler`; the last one out unsubscribes the channel. */
  private leave(name: string, channel: Channel, handler: MessageHandler): void {
    channel.handlers.delete(handler);
    if (channel.handlers.size > 0 || this.channels.get(name) !== channel) return;
    this.channels.delete(name);
    // If the connection drops meanwhile the channel is gone with it: a failure only needs a logger.
    this.transport.unsubscribe(name).catch((error: Error) => this.logger.debug('redis unsubscribe failed', { channel: name, error: error.message }));
  }
}
