/**
 * Revoked access: owners whose earlier tokens are refused (revokeAccess) and single
 * tokens on a deny-list (revokeToken). Verification checks an in-memory copy, so it
 * costs no query; the copy learns of a revocation at once through the control topic and
 * reloads from the database periodically in case a notice was lost.
 */
import { gt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { revokedSubjects, revokedTokens } from '../db/schema.ts';
import type { Principal } from '../domain/principal.ts';

/** What a revocation notice says. */
export type Revocation = { subject: string; revokedBefore: number } | { jti: string; expiresAt: number };

export class RevocationList {
  private subjects = new Map<string, number>();
  private tokens = new Map<string, number>();

  constructor(private readonly db: Database) {}

  /** True when `principal`'s token was revoked. */
  isRevoked(principal: Principal): boolean {
    const before = this.subjects.get(principal.subject);
    // A token was issued within [iat, iat + 1 s): refuse it if that could be before the revocation.
    if (before !== undefined && (principal.issuedAt ?? 0) * 1000 < before) return true;
    return principal.tokenId !== null && this.tokens.has(principal.tokenId);
  }

  /** Applies a notice (from this or another instance). */
  apply(revocation: Revocation): void {
    if ('subject' in revocation) this.subjects.set(revocation.subject, Math.max(this.subjects.get(revocation.subject) ?? 0, revocation.revokedBefore));
    else this.tokens.set(revocation.jti, revocation.expiresAt);
  }

  /** Stores a subject revocation: tokens issued up to now are refused. */
  async revokeSubject(subject: string, reason: string | null): Promise<Revocation> {
    // `iat` has whole seconds: a token minted later in this same second is refused too
    // (the safe side of the ambiguity); one minted from the next second on is accepted.
    const revokedBefore = new Date();
    await this.db
      .insert(revokedSubjects)
      .values({ subject, revokedBefore, reason })
      .onConflictDoUpdate({ target: revokedSubjects.subject, set: { revokedBefore: sql`greatest(${revokedSubjects.revokedBefore}, excluded.revoked_before)`, reason } });
    const notice = { subject, revokedBefore: revokedBefore.getTime() };
    this.apply(notice);
    return notice;
  }

  /** Stores a token revocation until `expiresAt` (ms since epoch). */
  async revokeToken(jti: string, expiresAt: number): Promise<Revocation> {
    await this.db.insert(revokedTokens).values({ jti, expiresAt: new Date(expiresAt) }).onConflictDoNothing();
    const notice = { jti, expiresAt };
    this.apply(notice);
    return notice;
  }

  /** Reloads from the database (start-up and the periodic refresh). */
  async reload(): Promise<void> {
    const subjects = await this.db.select().from(revokedSubjects);
    const tokens = await this.db.select().from(revokedTokens).where(gt(revokedTokens.expiresAt, new Date()));
    this.subjects = new Map(subjects.map((row) => [row.subject, row.revokedBefore.getTime()]));
    this.tokens = new Map(tokens.map((row) => [row.jti, row.expiresAt.getTime()]));
  }
}
