/** Roles a token can carry (README, "Security"). */
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
}
