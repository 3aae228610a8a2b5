import type { MessageHandler, PubSub } from './pubsub.ts';

/**
 * The embedded default: topics live in this process. Delivery is deferred to a
 * microtask so publishers never run subscriber code on their own stack, as with Redis.
 */
export class MemoryPubSub implements PubSub {
  private readonly topics = new Map<string, Set<MessageHandler>>();

  async publish(topic: string, message: string): Promise<void> {
    const handlers = this.topics.get(topic);
    if (!handlers) return;
    for (const handler of [...handlers]) queueMicrotask(() => handler(message));
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<() => void> {
    let handlers = this.topics.get(topic);
    if (!handlers) this.topics.set(topic, (handlers = new Set()));
    const entry: MessageHandler = (message) => handler(message);
    handlers.add(entry);
    return () => {
      handlers.delete(entry);
      if (handlers.size === 0 && this.topics.get(topic) === handlers) this.topics.delete(topic);
    };
  }

  /** Topics with at least one subscriber; for leak checks. */
  get topicCount(): number {
    return this.topics.size;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.topics.clear();
  }
}
