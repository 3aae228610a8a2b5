/**
 * Subscriptions: each resolves the owner, turns its arguments into criteria and opens a
 * positioned stream. Filtering happens in the stream, before GraphQL executes.
 */
import { parseCurrency } from '../../domain/currency.ts';
import type { BalanceEvent, EventType, TransactionEvent, WalletEvent, WalletStatusEvent } from '../../domain/events.ts';
import { parseConsumer } from '../../domain/names.ts';
import type { EventCriteria } from '../../domain/event-filter.ts';
import { consumerKey, requirePrincipal, resolveOwner } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { StreamFailure } from '../render-once.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';
import { amountBounds } from './connections.ts';

/** What a subscription resolver receives: an event, or the refusal that ended its stream. */
export type Payload = WalletEvent | StreamFailure;

function isFailure(payload: Payload): payload is StreamFailure {
  return 'failure' in payload;
}

/** Arguments every subscription field takes. */
interface CommonArgs {
  ownerId?: string | null;
  walletId?: string | null;
  after?: string | null;
  consumer?: string | null;
}

/** True when any of `values` was given, i.e. the client chose its own filter. */
function anyGiven(...values: unknown[]): boolean {
  return values.some((value) => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0));
}

async function open(ctx: GraphQLContext, field: string, args: CommonArgs, fieldTypes: readonly EventType[] | null, criteria: EventCriteria | null) {
  const ownerId = await resolveOwner(ctx, args);
  if (criteria?.currency) parseCurrency(criteria.currency);
  amountBounds(criteria?.transaction?.minAmount, criteria?.transaction?.maxAmount);
  const stream = await ctx.services.delivery.open({
    ownerId,
    field,
    fieldTypes,
    criteria,
    // An EventSource reconnect sends the last id it saw; it is newer than the URL's `after`.
    after: ctx.lastEventId || args.after || null,
    consumer: args.consumer != null ? consumerKey(requirePrincipal(ctx), parseConsumer(args.consumer)) : null,
    connection: ctx.connection,
    // The connection's principal itself (it has the opener's fields): no copy per subscription.
    openedBy: ctx.principal ?? null,
  });
  // A refusal mid-stream arrives as a StreamFailure payload (see ../render-once.ts).
  return stream;
}

/** The event of `payload`; a refusal is thrown, so the result carries its code. */
export function deliver<T extends WalletEvent>(payload: Payload): T {
  if (isFailure(payload)) throw payload.failure;
  return payload as T;
}

export const Subscription: SubscriptionResolvers = {
  transactionUpdated: {
    subscribe: (_parent, args, ctx) =>
      open(
        ctx,
        'transactionUpdated',
        args,
        ['TRANSACTION'],
        anyGiven(args.walletId, args.status, args.minAmount, args.maxAmount, args.currency)
          ? { walletId: args.walletId, currency: args.currency, transaction: { status: args.status, minAmount: args.minAmount, maxAmount: args.maxAmount } }
          : null,
      ) as never,
    resolve: (payload: Payload) => deliver<TransactionEvent>(payload),
  },
  balanceChanged: {
    subscribe: (_parent, args, ctx) =>
      open(ctx, 'balanceChanged', args, ['BALANCE'], anyGiven(args.walletId, args.currency) ? { walletId: args.walletId, currency: args.currency } : null) as never,
    resolve: (payload: Payload) => deliver<BalanceEvent>(payload),
  },
  walletStatus: {
    subscribe: (_parent, args, ctx) => open(ctx, 'walletStatus', args, ['WALLET_STATUS'], anyGiven(args.walletId) ? { walletId: args.walletId } : null) as never,
    resolve: (payload: Payload) => deliver<WalletStatusEvent>(payload),
  },
  walletEvents: {
    subscribe: (_parent, args, ctx) =>
      open(
        ctx,
        'walletEvents',
        args,
        null,
        anyGiven(args.types, args.walletId, args.filter)
          ? { types: args.types, walletId: args.walletId, currency: args.filter?.currency, transaction: args.filter }
          : null,
      ) as never,
    resolve: (payload: Payload) => deliver<WalletEvent>(payload),
  },
};
