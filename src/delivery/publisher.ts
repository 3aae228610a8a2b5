import { ownerTopic, type EventPublisher, type WalletEvent } from '../domain/events.ts';
import type { Logger } from '../logger.ts';
import type { PubSub } from './pubsub.ts';
import type { TopicMessage } from './topic-messages.ts';

/**
 * Publishes a commit's events as one message on the owner's topic. The mutation does not
 * wait for the backbone: a slow or absent Redis must not stall producers, and a lost
 * publish is repaired by subscribers from the log. Messages from one instance keep
 * their order because they share one connection.
 */
export class PubSubPublisher implements EventPublisher {
  constructor(
    private readonly pubsub: PubSub,
    private readonly log: Logger,
    private readonly onPublished: (count: number) => void = () => {},
  ) {}

  async publish(ownerId: string, events: readonly WalletEvent[]): Promise<void> {
    const message: TopicMessage = { kind: 'events', events: [...events] };
    this.pubsub.publish(ownerTopic(ownerId), JSON.stringify(message)).then(() => this.onPublished(events.length), (error: Error) => {
      this.log.warn('publish failed; subscribers will repair from the log', {
        ownerId,
        sequences: [events[0]?.sequence, events.at(-1)?.sequence],
        error: error.message,
      });
    });
  }
}

/** Publishes a notice on an owner's topic, best effort: stores are the truth, notices are hints. */
export async function publishNotice(pubsub: PubSub, log: Logger, ownerId: string, message: TopicMessage): Promise<void> {
  await pubsub.publish(ownerTopic(ownerId), JSON.stringify(message)).catch((error: Error) => {
    log.warn('notice publish failed', { ownerId, kind: message.kind, error: error.message });
  });
}
