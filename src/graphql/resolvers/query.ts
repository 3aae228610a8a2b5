import { DomainError, ErrorCode } from '../../domain/errors.ts';
import { cursorOf, decodeCursor } from '../../domain/events.ts';
import { assertCanReach, pageSize, requirePrincipal, requireRole, resolveOwner } from '../access.ts';
import type { QueryResolvers } from '../generated/resolvers-types.ts';
import { transactionConnection } from './connections.ts';

export const Query: QueryResolvers = {
  me: (_parent, _args, ctx) => requirePrincipal(ctx),

  async wallet(_parent, { id }, ctx) {
    const principal = requirePrincipal(ctx);
    const wallet = await ctx.services.queries.wallet(id);
    await assertCanReach(ctx, principal, wallet.ownerId);
    return wallet;
  },

  async wallets(_parent, { ownerId }, ctx) {
    const owner = await resolveOwner(ctx, { ownerId });
    return ctx.services.queries.walletsOf(owner);
  },

  async transaction(_parent, { id }, ctx) {
    const principal = requirePrincipal(ctx);
    const txn = await ctx.services.queries.transaction(id);
    await assertCanReach(ctx, principal, txn.ownerId);
    return txn;
  },

  async transactions(_parent, { walletId, filter, first, after }, ctx) {
    const principal = requirePrincipal(ctx);
    const wallet = await ctx.services.queries.wallet(walletId);
    await assertCanReach(ctx, principal, wallet.ownerId);
    return transactionConnection(ctx, wallet.id, { filter, first, after });
  },

  async events(_parent, args, ctx) {
    const owner = await resolveOwner(ctx, args);
    if (args.last != null) {
      if (args.after) throw new DomainError(ErrorCode.BAD_USER_INPUT, 'last reads the newest events; it cannot be combined with after', { field: 'last' });
      const newest = await ctx.services.eventLog.readLatest(owner, pageSize(args.last, 100, ctx.services.maxPageSize, 'last'), { types: args.types, walletId: args.walletId });
      return {
        edges: newest.map((event) => ({ cursor: cursorOf(event), node: event })),
        pageInfo: { hasNextPage: false, endCursor: newest.length ? cursorOf(newest.at(-1)!) : null },
      };
    }
    const size = pageSize(args.first, 100, ctx.services.maxPageSize);
    let rows;
    if (args.after) {
      const position = decodeCursor(args.after);
      if (position.ownerId !== owner) throw new DomainError(ErrorCode.BAD_USER_INPUT, 'after is a cursor of another owner’s log', { field: 'after' });
      rows = await ctx.services.delivery.readPage(owner, position.sequence, size + 1, { types: args.types, walletId: args.walletId });
    } else {
      // From the oldest event still retained: nothing before it can be asked for.
      rows = await ctx.services.eventLog.read(owner, 0, size + 1, { types: args.types, walletId: args.walletId });
    }
    const page = rows.slice(0, size);
    return {
      edges: page.map((event) => ({ cursor: cursorOf(event), node: event })),
      pageInfo: {
        hasNextPage: rows.length > size,
        // With no new events the position stays where it was, so a poller can keep it.
        endCursor: page.length ? cursorOf(page.at(-1)!) : (args.after ?? null),
      },
    };
  },

  serverStats(_parent, _args, ctx) {
    requireRole(ctx, 'admin');
    return ctx.services.serverStats();
  },
};
