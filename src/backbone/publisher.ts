import { ownerTopic, type EventPublisher, type WalletEvent } from '../domain/events.ts';
import type { Logger } from '../logging/logger.ts';
import type { PubSub } from './pubsub.ts';
import { EVENTS_PER_MESSAGE, type TopicMessage } from './topic-messages.ts';
import { COMMIT_WAKE_TOPIC, TENANTS_PER_WAKE, type CommitWake } from './commit-wakes.ts';

/**
 * Publishes a commit's events as one message on the owner's topic. The mutation does not
 * wait for the backbone: a slow or absent Redis must not stall producers, and a lost
 * publish is repaired by subscribers from the event log. Messages from one instance keep
 * their order because they share one connection.
 */
export class PubSubPublisher implements EventPublisher {
  constructor(
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
    private readonly onPublished: (count: number) => void = () => {},
  ) {}

  async publish(ownerId: string, events: readonly WalletEvent[]): Promise<void> {
    // A large batch goes in bounded slices, so no message passes the receivers' size limit.
    for (let start = 0; start < events.length; start += EVENTS_PER_MESSAGE) {
      const slice = events.slice(start, start + EVENTS_PER_MESSAGE);
      const message: TopicMessage = { kind: 'events', events: slice };
      this.pubsub.publish(ownerTopic(ownerId), JSON.stringify(message)).then(() => this.onPublished(slice.length), (error: Error) => {
        this.logger.warn('publish failed; subscribers will repair from the log', {
          ownerId,
          sequences: [slice[0]?.sequence, slice.at(-1)?.sequence],
          error: error.message,
        });
      });
    }
  }

  async publishCommitWake(tenants: readonly string[], txId: number): Promise<void> {
    for (let start = 0; start < tenants.length; start += TENANTS_PER_WAKE) {
      const wake: CommitWake = { txId, tenants: tenants.slice(start, start + TENANTS_PER_WAKE) };
      // Best effort, like the events: firehose readers also look on their own every second.
      this.pubsub.publish(COMMIT_WAKE_TOPIC, JSON.stringify(wake)).catch((error: Error) => this.logger.warn('feed wake publish failed; readers will look on their own', { txId, error: error.message }));
    }
  }
}

/** Publishes a notice on an owner's topic, best effort: stores are the truth, notices are hints. */
export async function publishNotice(pubsub: PubSub, logger: Logger, ownerId: string, message: TopicMessage): Promise<void> {
  await pubsub.publish(ownerTopic(ownerId), JSON.stringify(message)).catch((error: Error) => {
    logger.warn('notice publish failed', { ownerId, kind: message.kind, error: error.message });
  });
}
