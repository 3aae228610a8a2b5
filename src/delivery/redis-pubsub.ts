import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { MessageHandler, PubSub } from './pubsub.ts';

/**
 * Redis pub/sub on two ioredis connections (a subscribed connection can't publish). Every
 * channel carries `prefix` so several deployments can share one Redis. ioredis reconnects
 * and re-subscribes by itself; what is published while it is away is recovered by
 * subscribers from the log.
 */
const QUIT_TIMEOUT_MS = 2_000;

/** Redis client names may not contain spaces or newlines. */
function clientName(prefix: string): string {
  return prefix.replace(/\s/g, '_');
}

/** One subscribed channel: its handlers, and when Redis confirmed the subscription. */
interface Channel {
  handlers: Set<MessageHandler>;
  subscribed: Promise<void>;
}

export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channels = new Map<string, Channel>();

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
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  async publish(topic: string, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + topic, message);
  }

  /** Resolves once Redis has confirmed the subscription (at once if the channel already was). */
  async subscribe(topic: string, handler: MessageHandler): Promise<() => void> {
    const name = this.prefix + topic;
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { handlers: new Set(), subscribed: this.subscriber.subscribe(name).then(() => undefined) };
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

  private dispatch(name: string, message: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    for (const handler of channel.handlers) {
      // Handlers run inside ioredis's socket callback, where a throw would end the process:
      // whatever a message does to a handler, the instance keeps serving.
      try {
        handler(message);
      } catch (error) {
        this.log.error('a backbone message handler failed', { channel: name, error });
      }
    }
  }

  /** Removes `handler`; the last one out unsubscribes the channel. */
  private leave(name: string, channel: Channel, handler: MessageHandler): void {
    channel.handlers.delete(handler);
    if (channel.handlers.size > 0 || this.channels.get(name) !== channel) return;
    this.channels.delete(name);
    // If the connection drops meanwhile the channel is gone with it: a failure only needs a log.
    this.subscriber.unsubscribe(name).catch((error: Error) => this.log.debug('redis unsubscribe failed', { channel: name, error: error.message }));
  }
}
