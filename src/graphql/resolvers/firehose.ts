/** The firehose: a tenant's events in feed order, for back-office readers. */
import { decodeFirehoseCursor, encodeFirehoseCursor, type WalletEvent } from '../../domain/events.ts';
import { badInput, DomainError, ErrorCode } from '../../domain/errors.ts';
import { TENANT_PATTERN } from '../../domain/principal.ts';
import type { FirehoseScope, Partition } from '../../firehose/firehose-log.ts';
import type { EventCriteria } from '../../domain/event-filter.ts';
import { consumerKey, outsideTenant, pageSize, requirePrincipal } from '../access.ts';
import { parseConsumer } from '../../domain/names.ts';
import type { GraphQLContext } from '../context.ts';
import type { QueryResolvers, SubscriptionResolvers, WalletEventFilter, WalletEventType } from '../generated/resolvers-types.ts';
import { deliver, type Payload } from './subscription.ts';
import { amountBounds } from './connections.ts';

/** Most partitions a feed can be split into. */
export const MAX_PARTITIONS = 1024;

interface FirehoseArgs {
  types?: readonly WalletEventType[] | null;
  partition?: { index: number; count: number } | null;
  tenant?: string | null;
}

/** What the caller may read: service tokens their tenant, admins a named tenant or all; users nothing. */
export function firehoseScope(ctx: GraphQLContext, args: FirehoseArgs): FirehoseScope {
  const principal = requirePrincipal(ctx);
  if (principal.role === 'user') throw new DomainError(ErrorCode.FORBIDDEN, 'the firehose is for service and admin tokens; a user token subscribes to its own events');
  if (args.tenant != null && !TENANT_PATTERN.test(args.tenant)) throw badInput('tenant is not a tenant name', 'tenant');
  let tenant: string | null;
  if (principal.role === 'service') {
    if (args.tenant != null && args.tenant !== principal.tenant) throw outsideTenant(principal.tenant!, `tenant ${args.tenant}`);
    tenant = principal.tenant;
  } else {
    tenant = args.tenant ?? null;
  }
  return { tenant, types: args.types, partition: partitionOf(args.partition) };
}

function partitionOf(partition: FirehoseArgs['partition']): Partition | null {
  if (!partition) return null;
  const { index, count } = partition;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) throw badInput(`partition.count must be between 1 and ${MAX_PARTITIONS}`, 'partition');
  if (!Number.isInteger(index) || index < 0 || index >= count) throw badInput('partition.index must be between 0 and count - 1', 'partition');
  return { index, count };
}

/** The criteria of a feed's `filter` argument (checked), or null. */
function firehoseCriteria(filter: WalletEventFilter | null | undefined): EventCriteria | null {
  if (!filter) return null;
  amountBounds(filter.minAmount, filter.maxAmount);
  return { currency: filter.currency, transaction: filter };
}

export const firehoseQueries: Pick<QueryResolvers, 'feed'> = {
  async feed(_parent, args, ctx) {
    const scope = { ...firehoseScope(ctx, args), criteria: firehoseCriteria(args.filter) };
    const size = pageSize(args.first, 100, ctx.services.maxPageSize);
    const page = await ctx.services.firehoseLog.page(args.after ? decodeFirehoseCursor(args.after) : null, size, scope);
    return {
      edges: page.events.map((row) => ({ cursor: encodeFirehoseCursor(row.position), node: row.event })),
      pageInfo: { hasNextPage: page.more, endCursor: encodeFirehoseCursor(page.end) },
    };
  },
};

export const feedSubscription: Pick<SubscriptionResolvers, 'feed'> = {
  feed: {
    subscribe: async (_parent, args, ctx) => {
      const scope = { ...firehoseScope(ctx, args), criteria: firehoseCriteria(args.filter) };
      const principal = requirePrincipal(ctx);
      // An EventSource reconnect sends the last id it saw; it is newer than the URL's `after`.
      const cursor = ctx.lastEventId || args.after;
      let after = cursor ? decodeFirehoseCursor(cursor) : null;
      const key = args.consumer != null ? consumerKey(principal, parseConsumer(args.consumer)) : null;
      const consumer = key ? { tenant: scope.tenant, principal: key.principal, name: key.name } : null;
      let isNew = false;
      if (consumer && !after) {
        after = await ctx.services.firehoseConsumers.positionOf(consumer);
        isNew = after === null;
      }
      const stream = await ctx.services.firehose.open(scope, after, {
        connection: ctx.connection,
        openedBy: { subject: principal.subject, tokenId: principal.tokenId, expiresAt: principal.expiresAt },
      });
      if (consumer && isNew) {
        // Stored at once, so a reconnect before the first ack resumes from here, not from a later "now".
        await ctx.services.firehoseConsumers.create(consumer, stream.startedAt).catch(async (error: unknown) => {
          await stream.return();
          throw error;
        });
      }
      return stream as never;
    },
    resolve: (payload: Payload) => deliver<WalletEvent>(payload),
  },
};
