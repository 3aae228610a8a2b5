/**
 * Authorization rules, in one place: who may read which owner's data and who may
 * produce. A user only ever reaches their own owner id; service and admin tokens name one.
 */
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { Principal, Role } from '../domain/principal.ts';
import type { GraphQLContext } from './context.ts';

/** The caller, or UNAUTHENTICATED (with the reason a presented token was refused). */
export function requirePrincipal(ctx: GraphQLContext): Principal {
  if (ctx.authError) throw ctx.authError;
  if (!ctx.principal) {
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'a bearer token is required (Authorization header, ?token= or connection_init payload)', {
      reason: 'missing',
    });
  }
  return ctx.principal;
}

/** The caller, who must hold one of `roles`; FORBIDDEN otherwise. */
export function requireRole(ctx: GraphQLContext, ...roles: Role[]): Principal {
  const principal = requirePrincipal(ctx);
  if (!roles.includes(principal.role)) {
    throw new DomainError(ErrorCode.FORBIDDEN, `this operation needs a ${roles.join(' or ')} token`, { role: principal.role });
  }
  return principal;
}

/** FORBIDDEN unless the caller may read data of `ownerId`. */
export function assertCanRead(principal: Principal, ownerId: string): void {
  if (principal.role === 'user' && principal.subject !== ownerId) {
    throw new DomainError(ErrorCode.FORBIDDEN, 'you can only read your own wallets and events');
  }
}

/**
 * Which owner's log a read or subscription is about. Users get their own; a user naming
 * another owner, or another owner's wallet, is FORBIDDEN. Service/admin tokens name
 * `ownerId`, or a `walletId` whose owner is used.
 */
export async function resolveOwner(ctx: GraphQLContext, args: { ownerId?: string | null; walletId?: string | null }): Promise<string> {
  const principal = requirePrincipal(ctx);
  const wallet = args.walletId ? await ctx.services.queries.wallet(args.walletId) : null;
  if (principal.role === 'user') {
    if (args.ownerId && args.ownerId !== principal.subject) throw new DomainError(ErrorCode.FORBIDDEN, 'a user token can only read its own events');
    if (wallet) assertCanRead(principal, wallet.ownerId);
    return principal.subject;
  }
  if (wallet) {
    if (args.ownerId && args.ownerId !== wallet.ownerId) throw badInput(`wallet ${wallet.id} does not belong to owner ${args.ownerId}`, 'walletId');
    return wallet.ownerId;
  }
  if (args.ownerId) return args.ownerId;
  throw badInput(`a ${principal.role} token must name ownerId or walletId`, 'ownerId');
}

/** Checks `first` against the configured page bound. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput(`first must be between 1 and ${max}`, 'first');
  return size;
}

/**
 * The key of a durable consumer named by the caller: consumers belong to the principal
 * that uses them (role and `sub`), so the owner's own tokens and each service keep
 * separate consumers even under the same name.
 */
export function consumerKey(principal: Principal, name: string): { principal: string; name: string } {
  return { principal: `${principal.role}:${principal.subject}`, name };
}
