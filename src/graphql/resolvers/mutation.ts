import { DomainError, ErrorCode, badInput } from '../../domain/errors.ts';
import { optionalText, requiredText } from '../../ledger/input-rules.ts';
import { assertCanReach, assertCanReachWallets, requireRole } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { Principal } from '../../domain/principal.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

/** A service token, with its tenant (every service token has one). */
export function requireService(ctx: GraphQLContext): Principal & { tenant: string } {
  return requireRole(ctx, 'service') as Principal & { tenant: string };
}

/** FORBIDDEN unless the transaction `id` belongs to the caller's tenant (NOT_FOUND when absent). */
export async function assertTransactionInTenant(ctx: GraphQLContext, principal: Principal, id: string): Promise<void> {
  await assertCanReach(ctx, principal, (await ctx.services.queries.transaction(id)).ownerId);
}

/**
 * Producer mutations: thin adapters over the ledger, for `service` tokens only, each
 * kept inside the token's tenant.
 */
export const Mutation: MutationResolvers = {
  createWallet(_parent, { input }, ctx) {
    const principal = requireService(ctx);
    return ctx.services.ledger.createWallet(input, principal.tenant);
  },

  async postTransaction(_parent, { input }, ctx) {
    const principal = requireService(ctx);
    await assertCanReachWallets(ctx, principal, [input.walletId]);
    return ctx.services.ledger.postTransaction({ ...input, status: input.status ?? 'PENDING' }, principal.subject);
  },

  async postTransactions(_parent, { inputs }, ctx) {
    const principal = requireService(ctx);
    const limit = ctx.services.limits.maxBatchSize;
    if (inputs.length > limit) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `at most ${limit} inputs per postTransactions call; split the batch`, { limit, given: inputs.length });
    }
    await assertCanReachWallets(ctx, principal, inputs.map((input) => input.walletId));
    return ctx.services.ledger.postTransactions(
      inputs.map((input) => ({ ...input, status: input.status ?? 'PENDING' })),
      principal.subject,
    );
  },

  async settleTransaction(_parent, { id, status }, ctx) {
    await assertTransactionInTenant(ctx, requireService(ctx), id);
    return ctx.services.ledger.settleTransaction(id, status);
  },

  async reverseTransaction(_parent, { id, reason }, ctx) {
    await assertTransactionInTenant(ctx, requireService(ctx), id);
    return ctx.services.ledger.reverseTransaction(id, reason);
  },

  async freezeWallet(_parent, { id, reason }, ctx) {
    await assertCanReachWallets(ctx, requireService(ctx), [id]);
    return ctx.services.ledger.freezeWallet(id, reason);
  },

  async unfreezeWallet(_parent, { id }, ctx) {
    await assertCanReachWallets(ctx, requireService(ctx), [id]);
    return ctx.services.ledger.unfreezeWallet(id);
  },

  async closeWallet(_parent, { id, reason }, ctx) {
    await assertCanReachWallets(ctx, requireService(ctx), [id]);
    return ctx.services.ledger.closeWallet(id, reason);
  },
};

/** Revocations: for service and admin tokens. */
export const accessMutations: Pick<MutationResolvers, 'revokeAccess' | 'revokeToken'> = {
  async revokeAccess(_parent, { ownerId, reason }, ctx) {
    const principal = requireRole(ctx, 'service', 'admin');
    const owner = requiredText(ownerId, 'ownerId');
    await assertCanReach(ctx, principal, owner);
    await ctx.services.access.revokeSubject(owner, optionalText(reason, 'reason'));
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
