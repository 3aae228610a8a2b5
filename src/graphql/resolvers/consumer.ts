/** Durable-consumer operations: acks and saved preferences. */
import { encodeCursor, encodeFirehoseCursor } from '../../domain/events.ts';
import { DomainError, ErrorCode } from '../../domain/errors.ts';
import { parseCurrency } from '../../domain/currency.ts';
import { parseConsumer } from '../../domain/names.ts';
import { assertCanReach, consumerKey, requirePrincipal, resolveOwner } from '../access.ts';
import type { MutationResolvers, QueryResolvers, SubscriptionPreferencesResolvers } from '../generated/resolvers-types.ts';
import { amountBounds } from './connections.ts';

export const consumerMutations: Pick<MutationResolvers, 'ackEvent' | 'updateSubscriptionPreferences'> = {
  async ackEvent(_parent, { eventId, consumer }, ctx) {
    const principal = requirePrincipal(ctx);
    const name = parseConsumer(consumer);
    const event = await ctx.services.delivery.findEvent(eventId);
    if (!event) throw new DomainError(ErrorCode.NOT_FOUND, `event ${eventId} does not exist (or is past retention)`, { eventId });
    // Only the owner acks their events; a service acts for any owner; admins only observe.
    if (principal.role === 'admin') throw new DomainError(ErrorCode.FORBIDDEN, 'only the owner of an event, or a service of its tenant, can acknowledge it');
    if (principal.role === 'user' && principal.subject !== event.ownerId) throw new DomainError(ErrorCode.FORBIDDEN, 'only the owner of an event can acknowledge it');
    await assertCanReach(ctx, principal, event.ownerId);
    const key = consumerKey(principal, name);
    if (principal.role !== 'user') {
      // A name the caller uses for a firehose consumer moves that consumer's feed position.
      const place = await ctx.services.firehoseLog.positionOf(event.eventId);
      const stored = place && (await ctx.services.firehoseConsumers.ack(place.tenant, key.principal, name, place.position));
      if (stored) return { consumer: name, sequence: event.sequence, cursor: encodeCursor({ ownerId: event.ownerId, sequence: event.sequence }), feedCursor: encodeFirehoseCursor(stored) };
    }
    const sequence = await ctx.services.delivery.ack(event, key);
    return { consumer: name, sequence, cursor: encodeCursor({ ownerId: event.ownerId, sequence }), feedCursor: null };
  },

  async updateSubscriptionPreferences(_parent, { consumer, input, ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId, walletId: null });
    const name = parseConsumer(consumer);
    if (input.currency) parseCurrency(input.currency);
    amountBounds(input.minAmount, input.maxAmount);
    if (input.walletId) {
      const wallet = await ctx.services.queries.wallet(input.walletId);
      if (wallet.ownerId !== owner) throw new DomainError(ErrorCode.FORBIDDEN, 'the wallet belongs to another owner');
    }
    const criteria = {
      types: input.types,
      walletId: input.walletId,
      currency: input.currency,
      transaction: { status: input.status, direction: input.direction, transactionTypes: input.transactionTypes, minAmount: input.minAmount, maxAmount: input.maxAmount },
    };
    await ctx.services.delivery.savePreferences(owner, consumerKey(requirePrincipal(ctx), name), criteria);
    return { consumer: name, criteria };
  },
};

export const consumerQueries: Pick<QueryResolvers, 'subscriptionPreferences'> = {
  async subscriptionPreferences(_parent, { consumer, ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId, walletId: null });
    const name = parseConsumer(consumer);
    const criteria = await ctx.services.delivery.preferencesOf(owner, consumerKey(requirePrincipal(ctx), name));
    return criteria ? { consumer: name, criteria } : null;
  },
};

export const SubscriptionPreferences: SubscriptionPreferencesResolvers = {
  consumer: (view) => view.consumer,
  types: (view) => (view.criteria.types ? [...view.criteria.types] : null),
  walletId: (view) => view.criteria.walletId ?? null,
  currency: (view) => view.criteria.currency ?? null,
  status: (view) => (view.criteria.transaction?.status ? [...view.criteria.transaction.status] : null),
  direction: (view) => view.criteria.transaction?.direction ?? null,
  transactionTypes: (view) => (view.criteria.transaction?.transactionTypes ? [...view.criteria.transaction.transactionTypes] : null),
  minAmount: (view) => view.criteria.transaction?.minAmount ?? null,
  maxAmount: (view) => view.criteria.transaction?.maxAmount ?? null,
};
