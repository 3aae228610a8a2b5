/**
 * Subscriptions: each resolves the owner, turns its arguments into a predicate and opens
 * an ordered event stream. Filtering happens in the stream, before GraphQL executes.
 */
import { parseCurrency } from '../../domain/currency.ts';
import { DomainError } from '../../domain/errors.ts';
import type { BalanceEvent, TransactionEvent, WalletEvent, WalletStatusEvent } from '../../domain/events.ts';
import { eventFilter, type EventCriteria } from '../../delivery/filters.ts';
import { resolveOwner } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';
import { amountBounds } from './connections.ts';

/** Marks the end of a stream that was refused mid-way (e.g. SLOW_CONSUMER). */
interface StreamFailure {
  failure: DomainError;
}

type Payload = WalletEvent | StreamFailure;

function isFailure(payload: Payload): payload is StreamFailure {
  return 'failure' in payload;
}

/**
 * A refusal inside the stream becomes one last payload whose field errors with the
 * refusal's code, then the stream completes: the client is told why, never left silent.
 * Written as a plain iterator (not an async generator) so that `return()` from an
 * unsubscribing client takes effect at once instead of waiting for the next event.
 */
function endWithError(source: AsyncIterableIterator<WalletEvent>): AsyncIterableIterator<Payload> {
  let ended = false;
  return {
    async next() {
      if (ended) return { value: undefined, done: true };
      try {
        return await source.next();
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        ended = true;
        return { value: { failure: error }, done: false };
      }
    },
    return: () => source.return!(),
    throw: (error) => source.throw!(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function open(ctx: GraphQLContext, scope: { ownerId?: string | null; walletId?: string | null }, criteria: EventCriteria) {
  const ownerId = await resolveOwner(ctx, scope);
  if (criteria.currency) parseCurrency(criteria.currency);
  amountBounds(criteria.transaction?.minAmount, criteria.transaction?.maxAmount);
  const stream = await ctx.services.openStream({ ownerId, filter: eventFilter(criteria), afterSequence: null });
  return endWithError(stream);
}

function deliver<T extends WalletEvent>(payload: Payload): T {
  if (isFailure(payload)) throw payload.failure;
  return payload as T;
}

export const Subscription: SubscriptionResolvers = {
  transactionUpdated: {
    subscribe: (_parent, args, ctx) =>
      open(ctx, args, {
        types: ['TRANSACTION'],
        walletId: args.walletId,
        currency: args.currency,
        transaction: { status: args.status, minAmount: args.minAmount, maxAmount: args.maxAmount },
      }) as never,
    resolve: (payload: Payload) => deliver<TransactionEvent>(payload),
  },
  balanceChanged: {
    subscribe: (_parent, args, ctx) => open(ctx, args, { types: ['BALANCE'], walletId: args.walletId, currency: args.currency }) as never,
    resolve: (payload: Payload) => deliver<BalanceEvent>(payload),
  },
  walletStatus: {
    subscribe: (_parent, args, ctx) => open(ctx, args, { types: ['WALLET_STATUS'], walletId: args.walletId }) as never,
    resolve: (payload: Payload) => deliver<WalletStatusEvent>(payload),
  },
  walletEvents: {
    subscribe: (_parent, args, ctx) =>
      open(ctx, args, {
        types: args.types,
        walletId: args.walletId,
        currency: args.filter?.currency,
        transaction: args.filter,
      }) as never,
    resolve: (payload: Payload) => deliver<WalletEvent>(payload),
  },
};
