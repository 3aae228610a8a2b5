import { badInput } from '../../domain/errors.ts';
import { pageSize } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { TransactionFilter } from '../generated/resolvers-types.ts';

/** Validates amount bounds given by a client filter. */
export function amountBounds(min: bigint | null | undefined, max: bigint | null | undefined): void {
  if (min != null && min < 0n) throw badInput('minAmount must not be negative', 'minAmount');
  if (max != null && max < 0n) throw badInput('maxAmount must not be negative', 'maxAmount');
  if (min != null && max != null && min > max) throw badInput('minAmount must not exceed maxAmount', 'minAmount');
}

/** A Relay connection over a wallet's transactions (shared by `transactions` and `Wallet.transactions`). */
export async function transactionConnection(
  ctx: GraphQLContext,
  walletId: string,
  args: { filter?: TransactionFilter | null; first?: number | null; after?: string | null },
) {
  const filter = args.filter ?? {};
  amountBounds(filter.minAmount, filter.maxAmount);
  const size = pageSize(args.first, 20, ctx.services.maxPageSize);
  const page = await ctx.services.queries.transactionsOf(walletId, filter, size, args.after ?? null);
  return {
    edges: page.items,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
  };
}
