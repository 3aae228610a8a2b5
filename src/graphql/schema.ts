/** The executable schema: SDL from schema/ (schema-first) plus the resolvers. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { firehoseQueries, feedSubscription } from './resolvers/firehose.ts';
import { consumerMutations, consumerQueries, SubscriptionPreferences } from './resolvers/consumer.ts';
import { accessMutations, Mutation } from './resolvers/mutation.ts';
import { Query } from './resolvers/query.ts';
import { Subscription } from './resolvers/subscription.ts';
import { typeResolvers } from './resolvers/types.ts';
import { AlertRule, FraudEvent, Notification, NotificationEvent, notificationMutations, notificationQueries } from './resolvers/notifications.ts';
import { PushDevice, pushMutations, pushQueries } from './resolvers/push.ts';
import { WebhookDelivery, WebhookEndpoint, webhookMutations, webhookQueries } from './resolvers/webhooks.ts';
import { DateTimeScalar, MoneyScalar, SequenceScalar } from './scalars.ts';

const SCHEMA_DIR = new URL('../../schema', import.meta.url).pathname;

/** Reads every `.graphql` file of schema/, in name order. */
export function loadTypeDefs(): string[] {
  return readdirSync(SCHEMA_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(SCHEMA_DIR, name), 'utf8'));
}

/** Builds the schema once per process; it holds no per-request state. */
export function createSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: [
      { Money: MoneyScalar, DateTime: DateTimeScalar, Sequence: SequenceScalar, Query, Mutation, Subscription, SubscriptionPreferences },
      { Query: consumerQueries, Mutation: consumerMutations },
      { Query: firehoseQueries, Subscription: feedSubscription },
      { Mutation: accessMutations },
      { Query: pushQueries, Mutation: pushMutations, PushDevice },
      { Query: notificationQueries, Mutation: notificationMutations, FraudEvent, NotificationEvent, Notification, AlertRule },
      { Query: webhookQueries, Mutation: webhookMutations, WebhookEndpoint, WebhookDelivery },
      typeResolvers,
    ],
  });
}
