/** Roles a token can carry (docs/operations/security.md). */
export type Role = 'user' | 'service' | 'admin';
export const ROLES: readonly Role[] = ['user', 'service', 'admin'];

/** Who is calling, as proven by a verified token. */
export interface Principal {
  /** The JWT `sub`: for a user, the owner id of their wallets. */
  subject: string;
  role: Role;
  /** Token expiry, seconds since the epoch, when the token has one. */
  expiresAt: number | null;
  /** The JWT `jti`, when present. */
  tokenId: string | null;
  /** The JWT `iat` (seconds), when present; a token without one counts as issued at epoch. */
  issuedAt: number | null;
  /**
   * The tenant a `service` token works in (its `tenant` claim, else {@link DEFAULT_TENANT}):
   * it reaches only that tenant's owners. Null for `admin` (platform-wide) and `user`
   * tokens (they reach their own owner id).
   */
  tenant: string | null;
}

/** The tenant of service tokens without a `tenant` claim, and of owners from before tenants. */
export const DEFAULT_TENANT = 'default';

/** A tenant name: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
