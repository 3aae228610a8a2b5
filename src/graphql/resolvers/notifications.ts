/**
 * Fraud flags, alert rules and the notification centre. Flags are a service's (within its
 * tenant); rules and notifications are the owner's, reached as the owner's other data is.
 */
import { dayIn } from '../../domain/alert-rules.ts';
import { DomainError, ErrorCode, badInput } from '../../domain/errors.ts';
import { cursorOf } from '../../domain/events.ts';
import { isUuid } from '../../domain/shape.ts';
import { assertCanReach, assertCanReachWallets, pageSize, requirePrincipal, resolveOwner } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { AlertRuleResolvers, FraudEventResolvers, MutationResolvers, NotificationEventResolvers, NotificationResolvers, QueryResolvers } from '../generated/resolvers-types.ts';
import { assertTransactionInTenant, requireService } from './mutation.ts';

/** The rule `id` if the caller may reach its owner; NOT_FOUND otherwise, as for a rule that does not exist. */
async function reachableRule(ctx: GraphQLContext, id: string) {
  const principal = requirePrincipal(ctx);
  const rule = await ctx.services.alertRules.get(id);
  try {
    await assertCanReach(ctx, principal, rule.ownerId);
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.FORBIDDEN) throw new DomainError(ErrorCode.NOT_FOUND, `alert rule ${id} does not exist`, { ruleId: id });
    throw error;
  }
  return rule;
}

export const notificationQueries: Pick<QueryResolvers, 'alertRules' | 'notifications' | 'unreadNotificationCount'> = {
  async alertRules(_parent, args, ctx) {
    const owner = await resolveOwner(ctx, args);
    return ctx.services.alertRules.list(owner, args.walletId ?? null);
  },

  async notifications(_parent, { first, after, unreadOnly, ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId });
    const size = pageSize(first, 20, ctx.services.maxPageSize);
    const page = await ctx.services.notifications.page(owner, size, after ?? null, unreadOnly ?? false);
    return { edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? after ?? null } };
  },

  async unreadNotificationCount(_parent, { ownerId }, ctx) {
    return ctx.services.notifications.unreadCount(await resolveOwner(ctx, { ownerId }));
  },
};

export const notificationMutations: Pick<MutationResolvers, 'flagTransaction' | 'createAlertRule' | 'deleteAlertRule' | 'markNotificationsRead' | 'markAllNotificationsRead'> = {
  async flagTransaction(_parent, { transactionId, score, reason }, ctx) {
    const principal = requireService(ctx);
    await assertTransactionInTenant(ctx, principal, transactionId);
    return ctx.services.ledger.flagTransaction({ transactionId, score, reason, flaggedBy: principal.subject });
  },

  async createAlertRule(_parent, { input }, ctx) {
    const principal = requirePrincipal(ctx);
    await assertCanReachWallets(ctx, principal, [input.walletId]);
    return ctx.services.alertRules.create({ walletId: input.walletId, kind: input.kind, threshold: input.threshold, timeZone: input.timeZone }, new Date());
  },

  async deleteAlertRule(_parent, { id }, ctx) {
    await reachableRule(ctx, id);
    return ctx.services.alertRules.delete(id);
  },

  async markNotificationsRead(_parent, { ids, ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId });
    const limit = ctx.services.limits.maxListItems;
    if (ids.length > limit) throw badInput(`ids may hold at most ${limit} items`, 'ids');
    const malformed = ids.find((id): boolean => !isUuid(id));
    if (malformed !== undefined) throw badInput(`ids: "${malformed.slice(0, 64)}" is not a notification id`, 'ids');
    const { readIds, unreadCount } = await ctx.services.ledger.markNotificationsRead(owner, ids);
    return { readIds, unreadCount };
  },

  async markAllNotificationsRead(_parent, { ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId });
    const { readIds, unreadCount } = await ctx.services.ledger.markNotificationsRead(owner, null);
    return { readIds, unreadCount };
  },
};

export const FraudEvent: FraudEventResolvers = {
  cursor: (event) => cursorOf(event),
  flagId: (event) => event.data.flagId,
  transaction: (event) => event.data.transaction,
  score: (event) => event.data.score,
  reason: (event) => event.data.reason,
  flaggedBy: (event) => event.data.flaggedBy,
};

export const NotificationEvent: NotificationEventResolvers = {
  cursor: (event) => cursorOf(event),
  notificationChange: (event) => event.data.change,
  notification: (event) => event.data.notification,
  readIds: (event) => event.data.readIds,
  readAt: (event) => event.data.readAt,
  unreadCount: (event) => event.data.unreadCount,
};

export const Notification: NotificationResolvers = {
  // The cause is the owner's own event, so the owner check already made covers it.
  cause: (notification, _args, ctx) => ctx.services.eventLog.find(notification.causeEventId),
};

export const AlertRule: AlertRuleResolvers = {
  armed: (rule) => rule.kind !== 'BALANCE_BELOW' || rule.armed,
  spentToday: (rule) => {
    if (rule.kind !== 'DAILY_SPEND_ABOVE') return null;
    return rule.spendDay === dayIn(rule.timeZone ?? 'UTC', new Date()) ? rule.spent : 0n;
  },
};
