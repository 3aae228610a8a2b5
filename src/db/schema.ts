/**
 * The tables, as drizzle definitions. Migrations in `drizzle/` are generated from this
 * file by `npm run db:generate` and never edited by hand, except 0015 (it partitions `events`,
 * which drizzle-kit cannot express).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { EventType, NotificationKind } from '../domain/events.ts';
import type { AlertRuleKind } from '../domain/alert-rules.ts';
import type { PushPlatform } from '../domain/push.ts';
import type { Direction, TransactionStatus, TransactionType, WalletStatus } from '../domain/ledger-types.ts';

/**
 * One row per owner: the head of their event log. Every write for an owner locks this
 * row first, which serializes that owner's writes so that commit order = sequence order
 * and sequences stay gap-free.
 */
export const owners = pgTable('owners', {
  ownerId: text('owner_id').primaryKey(),
  lastSequence: bigint('last_sequence', { mode: 'number' }).notNull().default(0),
  /**
   * The retention watermark: the oldest sequence the log may still hold. Pruning removes
   * a contiguous prefix of an owner's log and raises this in the same statement, so every
   * event from here to `lastSequence` is present; a reader positioned before it has lost
   * events and is told CURSOR_EXPIRED.
   */
  firstSequence: bigint('first_sequence', { mode: 'number' }).notNull().default(1),
  /**
   * The tenant the owner belongs to, fixed when its first wallet is created (from the
   * creating service token's tenant). Owners from before tenants are in `default`.
   */
  tenantId: text('tenant_id').notNull().default('default'),
});

export const wallets = pgTable(
  'wallets',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<WalletStatus>().notNull(),
    ledger: bigint('ledger', { mode: 'bigint' }).notNull().default(sql`0`),
    pending: bigint('pending', { mode: 'bigint' }).notNull().default(sql`0`),
    /**
     * How many alert rules watch the wallet. A posting reads the rules only of wallets that
     * have some: the row is locked and read anyway, and most wallets have none. Moved
     * under the wallet's lock when a rule is created or deleted.
     */
    ruleCount: integer('rule_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('wallets_owner_idx').on(t.ownerId)],
);

export const transactions = pgTable(
  'transactions',
  {
    id: uuid('id').primaryKey(),
    /** Insertion order, for stable keyset pagination. */
    position: bigserial('position', { mode: 'number' }).notNull().unique(),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    ownerId: text('owner_id').notNull(),
    direction: text('direction').$type<Direction>().notNull(),
    type: text('type').$type<TransactionType>().notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<TransactionStatus>().notNull(),
    counterparty: text('counterparty'),
    description: text('description'),
    reversalReason: text('reversal_reason'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('transactions_wallet_position_idx').on(t.walletId, t.position)],
);

/**
 * The durable event log: the source of replay and gap repair. In the database it is
 * partitioned by range of `occurred_at` (drizzle cannot say so: the conversion is migration
 * 0015, the partitions are made by `event-partitions.ts`). A partitioned table's unique keys
 * must hold the partition key, hence the primary key (event_id, occurred_at); (owner_id,
 * sequence) is unique by construction, every writer of an owner moving its head first.
 */
export const events = pgTable(
  'events',
  {
    eventId: uuid('event_id').notNull(),
    ownerId: text('owner_id').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    walletId: uuid('wallet_id').notNull(),
    type: text('type').$type<EventType>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    data: jsonb('data').notNull(),
    /** The owner's tenant, copied here so a tenant's firehose reads one index range. */
    tenantId: text('tenant_id').notNull().default('default'),
    /**
     * The writing transaction's id (`pg_current_xact_id()`, set by the database). The
     * firehose orders by (txId, ownerId, sequence) and reads only below the oldest
     * transaction still running, so no reader passes an event that commits later.
     */
    txId: bigint('tx_id', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.occurredAt] }),
    index('events_owner_sequence_idx').on(t.ownerId, t.sequence),
    index('events_occurred_at_idx').on(t.occurredAt),
    // The `events` query narrowed to a wallet or to event types: without these, sparse
    // matches are found by walking the owner's whole log.
    index('events_owner_wallet_sequence_idx').on(t.ownerId, t.walletId, t.sequence),
    index('events_owner_type_sequence_idx').on(t.ownerId, t.type, t.sequence),
    // The firehose: a tenant's events in feed order.
    index('events_tenant_feed_idx').on(t.tenantId, t.txId, t.ownerId, t.sequence),
  ],
);

/**
 * The partitions of `events` other than the default one, each holding `occurred_at` in
 * [starts_at, ends_at). Written in the transaction that creates or drops the partition.
 */
export const eventPartitions = pgTable('event_partitions', {
  name: text('name').primaryKey(),
  startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }).notNull(),
  endsAt: timestamp('ends_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Producer idempotency: a key is scoped to the calling principal (like an API key's
 * account), so the same key reused for another wallet is detected as a conflict.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    transactionId: uuid('transaction_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * Durable consumers: the last sequence each consumer acknowledged in an owner's log.
 * A consumer belongs to the principal that uses it (the token's `sub`): the same name
 * used by the owner and by a service is two consumers. Advanced cumulatively and never
 * backwards, like a Kafka commit. (`principal` defaults to '' only so that the column
 * could be added to existing rows; a data migration set it to the owner for those.)
 */
export const consumerCursors = pgTable(
  'consumer_cursors',
  {
    ownerId: text('owner_id').notNull(),
    principal: text('principal').notNull().default(''),
    consumer: text('consumer').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.principal, t.consumer] }), index('consumer_cursors_updated_idx').on(t.updatedAt)],
);

/** Saved filters per (owner, principal, consumer), used by that consumer's subscriptions that give none. */
export const subscriptionPreferences = pgTable(
  'subscription_preferences',
  {
    ownerId: text('owner_id').notNull(),
    principal: text('principal').notNull().default(''),
    consumer: text('consumer').notNull(),
    criteria: jsonb('criteria').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.principal, t.consumer] }), index('subscription_preferences_updated_idx').on(t.updatedAt)],
);

/**
 * Owners whose tokens issued before `revokedBefore` are refused (revokeAccess). A row is
 * kept while a token issued before it could still be valid (the maximum token lifetime).
 */
export const revokedSubjects = pgTable(
  'revoked_subjects',
  {
    subject: text('subject').primaryKey(),
    revokedBefore: timestamp('revoked_before', { withTimezone: true, mode: 'date' }).notNull(),
    reason: text('reason'),
  },
  (t) => [index('revoked_subjects_before_idx').on(t.revokedBefore)],
);

/** Individual tokens refused by `jti` until they would have expired anyway (revokeToken). */
export const revokedTokens = pgTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('revoked_tokens_expires_idx').on(t.expiresAt)],
);

/**
 * Durable firehose consumers: each a position in feed order (txId, ownerId, sequence),
 * per tenant (`*` for an admin's all-tenant feed), principal and name. Acks move it
 * forward only; a subscription naming the consumer and no `after` starts after it.
 */
export const firehoseConsumers = pgTable(
  'feed_consumers',
  {
    tenantId: text('tenant_id').notNull(),
    principal: text('principal').notNull(),
    name: text('name').notNull(),
    txId: bigint('tx_id', { mode: 'number' }).notNull(),
    ownerId: text('owner_id').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.principal, t.name] }), index('feed_consumers_updated_idx').on(t.updatedAt)],
);

/**
 * How far retention has cut each tenant's firehose: the highest transaction id of an
 * event pruned. A feed cursor below it may have lost events after it (CURSOR_EXPIRED).
 */
export const firehoseWatermarks = pgTable('feed_watermarks', {
  tenantId: text('tenant_id').primaryKey(),
  txId: bigint('tx_id', { mode: 'number' }).notNull(),
});

/**
 * Webhook endpoints: a URL of a tenant that receives that tenant's events (narrowed by
 * `types` and `criteria`) by signed POSTs. Each keeps its own position in the tenant's feed
 * (txId, ownerId, sequence), moved only once what was read before it is delivered or stored
 * as a delivery still to make; the lease says which instance delivers it now.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    url: text('url').notNull(),
    /** Event types delivered; null for all. */
    types: jsonb('types').$type<EventType[] | null>(),
    /** The `filter` given (as the feed's EventCriteria, amounts as digit strings); null for none. */
    criteria: jsonb('criteria'),
    description: text('description'),
    /** `whsec_` + base64 key: what the receiver verifies with. */
    secret: text('secret').notNull(),
    /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, mode: 'date' }),
    /** `active`, `paused` (the circuit breaker is open) or `disabled`. */
    state: text('state').$type<'active' | 'paused' | 'disabled'>().notNull(),
    disabledReason: text('disabled_reason'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** While paused: when the breaker lets one probe through. */
    pausedUntil: timestamp('paused_until', { withTimezone: true, mode: 'date' }),
    txId: bigint('tx_id', { mode: 'number' }).notNull(),
    ownerId: text('owner_id').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('webhook_endpoints_tenant_idx').on(t.tenantId, t.createdAt)],
);

/**
 * Deliveries of events to an endpoint that went through the table: every delivery is
 * recorded, and those not yet made (`pending` behind an earlier event of the same owner,
 * `retrying`) or given up (`dead`) keep the exact body they are sent with.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    ownerId: text('owner_id').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    type: text('type').$type<EventType>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The JSON body sent; dropped once delivered. */
    body: text('body'),
    status: text('status').$type<'pending' | 'retrying' | 'delivered' | 'dead'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    responseExcerpt: text('response_excerpt'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_event_idx').on(t.endpointId, t.eventId),
    // The queue: each owner's oldest delivery not yet made.
    index('webhook_deliveries_queue_idx').on(t.endpointId, t.status, t.ownerId, t.sequence),
    index('webhook_deliveries_listing_idx').on(t.endpointId, t.createdAt),
    index('webhook_deliveries_updated_idx').on(t.status, t.updatedAt),
  ],
);

/**
 * Instances that deliver webhooks, each renewing its row with its leases: how many are
 * alive decides each one's share of the endpoints.
 */
export const webhookInstances = pgTable('webhook_instances', {
  holder: text('holder').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Fraud flags a risk service raised on transactions. The same flag sent again (same
 * transaction, service, score and reason: `request_hash`) is found here and not raised twice.
 */
export const fraudFlags = pgTable(
  'fraud_flags',
  {
    id: uuid('id').primaryKey(),
    transactionId: uuid('transaction_id').notNull(),
    ownerId: text('owner_id').notNull(),
    walletId: uuid('wallet_id').notNull(),
    score: integer('score').notNull(),
    reason: text('reason').notNull(),
    flaggedBy: text('flagged_by').notNull(),
    requestHash: text('request_hash').notNull(),
    /** The FRAUD event it appended. */
    eventId: uuid('event_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [uniqueIndex('fraud_flags_request_idx').on(t.transactionId, t.flaggedBy, t.requestHash), index('fraud_flags_created_idx').on(t.createdAt)],
);

/**
 * Alert rules on a wallet, with the state that makes them fire once per crossing: `armed`
 * (BALANCE_BELOW: the balance is at or above the line), and today's settled spend
 * (DAILY_SPEND_ABOVE: `spendDay` in the rule's time zone, `spent` in minor units). The
 * wallet's row lock, taken by every posting, serializes their evaluation.
 */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    walletId: uuid('wallet_id').notNull(),
    kind: text('kind').$type<AlertRuleKind>().notNull(),
    threshold: bigint('threshold', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    timeZone: text('time_zone'),
    armed: boolean('armed').notNull().default(true),
    spendDay: text('spend_day'),
    spent: bigint('spent', { mode: 'bigint' }).notNull().default(sql`0`),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('alert_rules_wallet_idx').on(t.walletId), index('alert_rules_owner_idx').on(t.ownerId, t.createdAt)],
);

/** The notification centre: one row per notification, newest by `position`. */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey(),
    /** Insertion order, for stable keyset pagination (newest first). */
    position: bigserial('position', { mode: 'number' }).notNull().unique(),
    ownerId: text('owner_id').notNull(),
    walletId: uuid('wallet_id').notNull(),
    kind: text('kind').$type<NotificationKind>().notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    causeEventId: uuid('cause_event_id').notNull(),
    ruleId: uuid('rule_id'),
    transactionId: uuid('transaction_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    readAt: timestamp('read_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('notifications_owner_position_idx').on(t.ownerId, t.position),
    index('notifications_owner_unread_idx')
      .on(t.ownerId, t.position)
      .where(sql`${t.readAt} is null`),
    index('notifications_created_idx').on(t.createdAt),
  ],
);

/**
 * Each owner's unread count. A transaction that creates or reads notifications updates it
 * before it moves the owner's log head, so the counts its events carry follow sequence order.
 */
export const notificationInboxes = pgTable('notification_inboxes', {
  ownerId: text('owner_id').primaryKey(),
  unread: integer('unread').notNull().default(0),
});

/**
 * Devices that receive an owner's notifications by push (and, if they opt in, further
 * event types). Each follows the owner's log from its own position (`sequence`, the last
 * event handled), moved only once that event's push was delivered, given up (a dead
 * letter) or not for this device; the lease says which instance pushes to it now.
 */
export const pushDevices = pgTable(
  'push_devices',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    platform: text('platform').$type<PushPlatform>().notNull(),
    /** The Web Push endpoint URL, the FCM registration token or the APNs device token. */
    address: text('address').notNull(),
    /** Web Push: the subscription's P-256 public key and auth secret (base64url). */
    p256dh: text('p256dh'),
    auth: text('auth'),
    /** Event types pushed besides notifications; null for notifications only. */
    types: jsonb('types').$type<EventType[] | null>(),
    label: text('label'),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    /** Failed tries of the push at `sequence + 1`, and when the next one is due. */
    attempts: integer('attempts').notNull().default(0),
    retryAt: timestamp('retry_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    lastPushedAt: timestamp('last_pushed_at', { withTimezone: true, mode: 'date' }),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('push_devices_address_idx').on(t.ownerId, t.platform, t.address),
    index('push_devices_holder_idx').on(t.leaseHolder),
    index('push_devices_lease_idx').on(t.leaseExpiresAt),
  ],
);

/** Pushes given up after the retry schedule: what was not delivered, and why. */
export const pushDeadLetters = pgTable(
  'push_dead_letters',
  {
    id: uuid('id').primaryKey(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => pushDevices.id, { onDelete: 'cascade' }),
    ownerId: text('owner_id').notNull(),
    eventId: uuid('event_id').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    attempts: integer('attempts').notNull(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('push_dead_letters_device_idx').on(t.deviceId, t.createdAt), index('push_dead_letters_created_idx').on(t.createdAt)],
);

/** Instances that push, each renewing its row with its leases: how many are alive decides each one's share of the devices. */
export const pushInstances = pgTable('push_instances', {
  holder: text('holder').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true, mode: 'date' }).notNull(),
});
