/**
 * One pub/sub subscription per owner per instance, shared by all local subscribers of
 * that owner. Fan-out cost therefore grows with an owner's own subscribers, never with
 * the total, and the instance listens to an owner's topic only while someone local does.
 */
import { ownerTopic } from '../domain/events.ts';
import type { DroppedMessages } from './dropped-messages.ts';
import type { PubSub } from './pubsub.ts';
import { readTopicMessage, type Signal } from './topic-messages.ts';

/** Receives an owner's topic messages (in the order published) and local signals. */
export type TopicListener = (signal: Signal) => void;

interface Topic {
  listeners: Set<TopicListener>;
  /** Resolves to the unsubscribe function once the backbone subscription is active. */
  active: Promise<() => void>;
}

export class OwnerHub {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly dropped: DroppedMessages,
    /** Larger messages are dropped unread. */
    private readonly maxMessageBytes: number,
  ) {}

  /**
   * Adds a listener for `ownerId`. Resolves once the topic subscription is active, so
   * anything committed after that point reaches the listener. Returns the detach function.
   */
  async attach(ownerId: string, listener: TopicListener): Promise<() => void> {
    let topic = this.topics.get(ownerId);
    if (!topic) {
      const listeners = new Set<TopicListener>();
      const active = this.pubsub.subscribe(ownerTopic(ownerId), (message) => this.dispatch(ownerId, listeners, message));
      topic = { listeners, active };
      this.topics.set(ownerId, topic);
    }
    topic.listeners.add(listener);
    const current = topic;
    try {
      await current.active;
    } catch (error) {
      this.detach(ownerId, current, listener);
      throw error;
    }
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      this.detach(ownerId, current, listener);
    };
  }

  /** Owners this instance currently listens to. */
  get ownerCount(): number {
    return this.topics.size;
  }

  /** Local listeners across all owners: the instance's active subscriptions. */
  get listenerCount(): number {
    let count = 0;
    for (const topic of this.topics.values()) count += topic.listeners.size;
    return count;
  }

  /** The owners with local listeners (for the periodic head check). */
  owners(): string[] {
    return [...this.topics.keys()];
  }

  private detach(ownerId: string, topic: Topic, listener: TopicListener): void {
    topic.listeners.delete(listener);
    if (topic.listeners.size > 0 || this.topics.get(ownerId) !== topic) return;
    this.topics.delete(ownerId);
    topic.active.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  }

  /** Hands `signal` to the local listeners of `ownerId` (no pub/sub involved). */
  signal(ownerId: string, signal: Signal): void {
    const topic = this.topics.get(ownerId);
    if (topic) for (const listener of topic.listeners) listener(signal);
  }

  /** Hands `signal` to every local listener. */
  broadcast(signal: Signal): void {
    for (const topic of this.topics.values()) for (const listener of topic.listeners) listener(signal);
  }

  /** Checks a message from the backbone before any listener sees it; a malformed one is dropped. */
  private dispatch(ownerId: string, listeners: Set<TopicListener>, raw: string): void {
    const message = readTopicMessage(raw, ownerId, this.maxMessageBytes);
    if ('refused' in message) {
      this.dropped.drop(ownerTopic(ownerId), message.refused);
      return;
    }
    for (const listener of listeners) listener(message);
  }
}
