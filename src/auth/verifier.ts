/**
 * Turns a bearer token into a {@link Principal} with jose. Only the configured algorithm
 * is accepted (so `alg: none` and algorithm confusion are refused by construction), and
 * `iss`/`aud` are checked when configured.
 *
 * Token lifetime policy: a token must carry `exp` and `iat`, and is refused once it is
 * older than the maximum token age (JWT_MAX_TOKEN_AGE), whatever its `exp` says. So no
 * token lives for ever, and a revocation needs to be kept only that long.
 */
import { createRemoteJWKSet, errors as joseErrors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { webcrypto } from 'node:crypto';
import type { AuthConfig } from '../config/load.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import { DEFAULT_TENANT, ROLES, TENANT_PATTERN, type Principal, type Role } from '../domain/principal.ts';
import type { RevocationList } from './revocations.ts';

export interface TokenVerifier {
  /** Verifies `token`; throws UNAUTHENTICATED (with `reason`) when it is not acceptable. */
  verify(token: string): Promise<Principal>;
}

/** Clock tolerance for `exp`/`nbf`/`iat`, seconds. */
export const CLOCK_TOLERANCE_S = 5;

/**
 * Tokens whose signature and claims were verified, kept so that a producer posting many
 * mutations with one token pays for the signature check once, not per request. Bounded
 * (the oldest entry goes first); expiry and revocation are still checked on every use.
 */
const VERIFIED_CACHE_SIZE = 10_000;

/** Builds a verifier for `auth`; `secret` is the HS key in effect (configured or generated). */
export async function createVerifier(auth: AuthConfig, secret: string | null, revocations?: RevocationList): Promise<TokenVerifier> {
  if (!auth.publicKey && !auth.jwksUrl && !secret) throw new Error('a JWT secret, public key or JWKS URL is required');
  // A remote key set is fetched on first use, cached, and refetched for an unknown `kid`.
  // A secret is imported once here: given as bytes, jose imports it again for every
  // verification (about 11 KB of garbage and a WebCrypto import per connection).
  const key: CryptoKey | ReturnType<typeof createRemoteJWKSet> = auth.jwksUrl
    ? createRemoteJWKSet(new URL(auth.jwksUrl))
    : auth.publicKey
      ? await importSPKI(auth.publicKey, auth.algorithm)
      : await importHmacSecret(secret ?? '', auth.algorithm);
  const options = {
    algorithms: [auth.algorithm],
    clockTolerance: CLOCK_TOLERANCE_S,
    requiredClaims: ['exp'],
    maxTokenAge: (auth.maxTokenAgeMs / 1000),
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  const verified = new Map<string, Principal>();
  return {
    async verify(token) {
      const principal = fresh(verified.get(token)) ?? (await verifySignature(token));
      if (revocations?.isRevoked(principal)) throw unauthenticated('access with this token has been revoked; sign in again', 'revoked');
      return principal;
    },
  };

  /** A cached principal whose token has neither expired nor passed the maximum age; null otherwise. */
  function fresh(known: Principal | undefined): Principal | null {
    if (!known) return null;
    const now = Date.now() / 1000;
    const expired = known.expiresAt !== null && known.expiresAt + CLOCK_TOLERANCE_S <= now;
    const tooOld = known.issuedAt !== null && known.issuedAt + (auth.maxTokenAgeMs / 1000) + CLOCK_TOLERANCE_S <= now;
    return expired || tooOld ? null : known;
  }

  /** Checks signature and claims with jose, and caches the result. */
  async function verifySignature(token: string): Promise<Principal> {
    verified.delete(token);
    let payload: JWTPayload;
    try {
      // Two calls, so TypeScript picks jwtVerify's overload for a key set or for a key.
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (error) {
      throw refusal(error);
    }
    const principal = principalOf(payload);
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, principal);
    return principal;
  }
}

/** `secret` as the HMAC key of `algorithm` (HS256, HS384 or HS512), for verifying only. */
function importHmacSecret(secret: string, algorithm: string): Promise<CryptoKey> {
  const hash = `SHA-${algorithm.slice(2)}`;
  return webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash }, false, ['verify']);
}

function principalOf(payload: JWTPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.trim() === '' || payload.sub.length > 128) {
    throw unauthenticated('the token has no usable sub claim', 'missing_sub');
  }
  const role = payload.role;
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw unauthenticated(`the token's role must be one of ${ROLES.join(', ')}`, 'unknown_role');
  }
  const tenant = payload.tenant;
  if (tenant !== undefined && (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant))) {
    throw unauthenticated('the token\'s tenant claim must be a name of letters, digits, ".", "_" and "-" (at most 64)', 'bad_tenant');
  }
  return {
    subject: payload.sub,
    role: role as Role,
    expiresAt: typeof payload.exp === 'number' ? payload.exp : null,
    tokenId: typeof payload.jti === 'string' ? payload.jti : null,
    issuedAt: typeof payload.iat === 'number' ? payload.iat : null,
    // Only service tokens are scoped by tenant; admins are platform-wide, users reach their own owner id.
    tenant: role === 'service' ? ((tenant as string | undefined) ?? DEFAULT_TENANT) : null,
  };
}

function refusal(error: unknown): DomainError {
  if (error instanceof joseErrors.JWTExpired) {
    return error.claim === 'iat'
      ? unauthenticated('the token is older than this server accepts (JWT_MAX_TOKEN_AGE); get a fresh one', 'expired')
      : unauthenticated('the token has expired', 'expired');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing' && (error.claim === 'exp' || error.claim === 'iat')) return unauthenticated(`the token has no ${error.claim} claim; tokens must carry exp and iat`, `missing_${error.claim}`);
    return unauthenticated(`the token's ${error.claim} claim is not acceptable`, `bad_${error.claim}`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return unauthenticated('the token is signed with an algorithm this server does not accept', 'bad_alg');
  if (error instanceof joseErrors.JWKSNoMatchingKey) return unauthenticated('no key of the configured key set matches the token', 'unknown_key');
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return unauthenticated('the key set could not be fetched; try again', 'jwks_unavailable');
  return unauthenticated('the token is malformed or its signature is invalid', 'invalid');
}

function unauthenticated(message: string, reason: string): DomainError {
  return new DomainError(ErrorCode.UNAUTHENTICATED, message, { reason });
}
