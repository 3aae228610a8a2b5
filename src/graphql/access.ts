/**
 * Authorization rules, in one place: who may read which owner's data and who may
 * produce. A user only ever reaches their own owner id; a service token reaches the owners
 * of its tenant; an admin token any owner. Service and admin tokens name the owner.
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

/** FORBIDDEN unless the caller may reach data of `ownerId`: a user their own, a service its tenant's, an admin any. */
export async function assertCanReach(ctx: GraphQLContext, principal: Principal, ownerId: string): Promise<void> {
  await assertCanReachAll(ctx, principal, [ownerId]);
}

/** {@link assertCanReach} for several owners at once (one lookup for those not cached). */
export async function assertCanReachAll(ctx: GraphQLContext, principal: Principal, ownerIds: readonly string[]): Promise<void> {
  if (principal.role === 'user') {
    if (ownerIds.some((id) => id !== principal.subject)) throw new DomainError(ErrorCode.FORBIDDEN, 'you can only read your own wallets and events');
    return;
  }
  if (principal.tenant === null) return;
  const tenants = await ctx.services.tenancy.tenantsOf(ownerIds);
  // An owner of another tenant and one that does not exist get the same answer.
  const outside = ownerIds.find((id) => tenants.get(id) !== principal.tenant);
  if (outside !== undefined) throw outsideTenant(principal.tenant, `owner ${outside}`);
}

/**
 * FORBIDDEN unless the caller may reach the owners of `walletIds`. Wallets that do not
 * exist are left to the operation, which answers NOT_FOUND as before.
 */
export async function assertCanReachWallets(ctx: GraphQLContext, principal: Principal, walletIds: readonly string[]): Promise<void> {
  if (principal.role !== 'user' && principal.tenant === null) return;
  const owners = await ctx.services.tenancy.ownersOfWallets(walletIds);
  await assertCanReachAll(ctx, principal, [...new Set(owners.values())]);
}

/** The refusal of anything outside the caller's tenant. */
export function outsideTenant(tenant: string, what: string): DomainError {
  return new DomainError(ErrorCode.FORBIDDEN, `${what} is not in tenant ${tenant}; this token reaches only that tenant's owners`, { reason: 'tenant', tenant });
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
    if (wallet) await assertCanReach(ctx, principal, wallet.ownerId);
    return principal.subject;
  }
  const owner = wallet?.ownerId ?? args.ownerId;
  if (!owner) throw badInput(`a ${principal.role} token must name ownerId or walletId`, 'ownerId');
  await assertCanReach(ctx, principal, owner);
  if (wallet && args.ownerId && args.ownerId !== wallet.ownerId) throw badInput(`wallet ${wallet.id} does not belong to owner ${args.ownerId}`, 'walletId');
  return owner;
}

/** Checks a page size (`first`, or the argument named `field`) against the configured page bound. */
export function pageSize(first: number | null | undefined, fallback: number, max: number, field = 'first'): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput(`${field} must be between 1 and ${max}`, field);
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
