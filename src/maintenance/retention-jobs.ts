/**
 * What the retention job deletes on every instance, and after how long: events (whole
 * partitions of the log, and rows written outside them), and the
 * notifications, fraud flags and push dead letters they caused, past `EVENT_RETENTION`; idempotency keys, unused consumers and their preferences, revocations
 * no valid token can match, and delivered webhook records.
 */
import type { RevocationList } from '../auth/revocations.ts';
import type { Config } from '../config/load.ts';
import type { Database } from '../db/client.ts';
import type { FirehoseConsumers } from '../firehose/firehose-consumers.ts';
import { forgetIdempotencyKeys } from '../ledger/idempotency-keys.ts';
import type { ConsumerCursors } from '../streams/consumers.ts';
import type { PreferenceStore } from '../streams/preferences.ts';
import type { WebhookEndpoints } from '../webhooks/endpoints.ts';
import { pruneFraudFlags, pruneNotifications } from '../notifications/notification-retention.ts';
import { pruneDeadLetters } from '../push/push-store.ts';
import { ensureEventPartitions } from '../db/event-partitions.ts';
import { dropOldestEventPartition } from './partition-retention.ts';
import { pruneEvents, type PruneTask } from './retention.ts';

/** The stores that keep something for a while. */
export interface RetainedStores {
  db: Database;
  consumers: ConsumerCursors;
  preferences: PreferenceStore;
  firehoseConsumers: FirehoseConsumers;
  revocations: RevocationList;
  webhooks: WebhookEndpoints;
}

/** The tasks, in the order they run. */
export function retentionTasks(stores: RetainedStores, config: Config): PruneTask[] {
  const ago = (now: number, ms: number) => new Date(now - ms);
  const plan = { intervalMs: config.eventPartitionIntervalMs, ahead: config.eventPartitionsAhead };
  return [
    // Not a deletion, but on the same timer: the log's next partitions, made ahead of the writers.
    { name: 'event partitions made', run: (now) => ensureEventPartitions(stores.db, plan, now) },
    { name: 'event partitions', run: (now) => dropOldestEventPartition(stores.db, ago(now, config.retentionMs)) },
    { name: 'events outside partitions', run: (now) => pruneEvents(stores.db, ago(now, config.retentionMs)) },
    { name: 'notifications', run: (now) => pruneNotifications(stores.db, ago(now, config.retentionMs)) },
    { name: 'fraud flags', run: (now) => pruneFraudFlags(stores.db, ago(now, config.retentionMs)) },
    { name: 'idempotency keys', run: (now) => forgetIdempotencyKeys(stores.db, ago(now, config.idempotencyKeyRetentionMs)) },
    // Preferences first: they stay while their consumer's cursor is in use.
    ...(config.consumerRetentionMs > 0
      ? [
          { name: 'subscription preferences', run: (now: number) => stores.preferences.prune(ago(now, config.consumerRetentionMs)) },
          { name: 'consumers', run: (now: number) => stores.consumers.prune(ago(now, config.consumerRetentionMs)) },
          { name: 'firehose consumers', run: (now: number) => stores.firehoseConsumers.prune(ago(now, config.consumerRetentionMs)) },
        ]
      : []),
    { name: 'revocations', run: (now) => stores.revocations.prune(now) },
    { name: 'push dead letters', run: (now) => pruneDeadLetters(stores.db, ago(now, config.retentionMs)) },
    { name: 'webhook deliveries', run: (now) => stores.webhooks.pruneDelivered(ago(now, config.webhooks.deliveryRetentionMs)) },
  ];
}
