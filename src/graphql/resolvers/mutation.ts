import { requireRole } from '../access.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

/** Producer mutations: thin adapters over the ledger, for `service` tokens only. */
export const Mutation: MutationResolvers = {
  createWallet(_parent, { input }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.createWallet(input);
  },

  postTransaction(_parent, { input }, ctx) {
    const principal = requireRole(ctx, 'service');
    return ctx.services.ledger.postTransaction({ ...input, status: input.status ?? 'PENDING' }, principal.subject);
  },

  settleTransaction(_parent, { id, status }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.settleTransaction(id, status);
  },

  reverseTransaction(_parent, { id, reason }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.reverseTransaction(id, reason);
  },

  freezeWallet(_parent, { id, reason }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.freezeWallet(id, reason);
  },

  unfreezeWallet(_parent, { id }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.unfreezeWallet(id);
  },

  closeWallet(_parent, { id, reason }, ctx) {
    requireRole(ctx, 'service');
    return ctx.services.ledger.closeWallet(id, reason);
  },
};
