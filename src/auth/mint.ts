import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Role } from '../domain/principal.ts';

/** What a minted token says. */
export interface MintOptions {
  subject: string;
  role: Role;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  issuer?: string | null;
  audience?: string | null;
  algorithm?: string;
  /** The `tenant` claim (service tokens: the tenant whose owners it reaches). */
  tenant?: string | null;
}

/** Signs an HS token with `secret`: for development, tests and the `token` command. */
export async function mintToken(secret: string, options: MintOptions): Promise<string> {
  let jwt = new SignJWT({ role: options.role, ...(options.tenant ? { tenant: options.tenant } : {}) })
    .setProtectedHeader({ alg: options.algorithm ?? 'HS256', typ: 'JWT' })
    .setSubject(options.subject)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
