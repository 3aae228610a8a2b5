import { DomainError, ErrorCode, badInput } from '../../domain/errors.ts';
import { optionalText, requiredText } from '../../ledger/input-rules.ts';
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

  postTransactions(_parent, { inputs }, ctx) {
    const principal = requireRole(ctx, 'service');
    const limit = ctx.services.maxBatchSize;
    if (inputs.length > limit) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `at most ${limit} inputs per postTransactions call; split the batch`, { limit, given: inputs.length });
    }
    return ctx.services.ledger.postTransactions(
      inputs.map((input) => ({ ...input, status: input.status ?? 'PENDING' })),
      principal.subject,
    );
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

/** Revocations: for service and admin tokens. */
export const accessMutations: Pick<MutationResolvers, 'revokeAccess' | 'revokeToken'> = {
  async revokeAccess(_parent, { ownerId, reason }, ctx) {
    requireRole(ctx, 'service', 'admin');
    await ctx.services.access.revokeSubject(requiredText(ownerId, 'ownerId'), optionalText(reason, 'reason'));
    return { revoked: true, at: new Date() };
  },

  async revokeToken(_parent, { jti, expiresAt }, ctx) {
    requireRole(ctx, 'service', 'admin');
    const until = expiresAt ? expiresAt.getTime() : null;
    if (until !== null && Number.isNaN(until)) throw badInput('expiresAt is not a valid time', 'expiresAt');
    await ctx.services.access.revokeToken(requiredText(jti, 'tokenId'), until);
    return { revoked: true, at: new Date() };
  },
};
