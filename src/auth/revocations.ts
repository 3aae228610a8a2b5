/**
 * Revoked access: owners whose earlier tokens are refused (revokeAccess) and single
 * tokens on a deny-list (revokeToken). Verification checks an in-memory copy, so it
 * costs no query; the copy learns of a revocation at once through the control topic and
 * from a periodic reload of the database in case a notice was lost.
 *
 * Revocations only ever grow (nothing un-revokes), so a reload merges what it read into
 * the copy instead of replacing it: a snapshot read just before a concurrent revocation
 * was stored can never make that revoked token valid again. An entry leaves the copy and
 * the database only once no token it refuses can be valid anyway: every token is refused
 * past the maximum token age (see the verifier), so that is the horizon.
 */
import { lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { revokedSubjects, revokedTokens } from '../db/schema.ts';
import type { Principal } from '../domain/principal.ts';
import { isRecord, isText, isWhole } from '../domain/shape.ts';

/** What a revocation notice says. */
export type Revocation = { subject: string; revokedBefore: number } | { jti: string; expiresAt: number };

/** What the API calls to revoke access. */
export interface AccessRevoker {
  revokeSubject(subject: string, reason: string | null): Promise<void>;
  /** `expiresAt` (ms since epoch) may only lengthen how long the entry is kept. */
  revokeToken(jti: string, expiresAt: number | null): Promise<void>;
}

/** Parses a revocation notice read from the backbone; null when it is not one. */
export function readRevocation(raw: string, maxBytes: number): Revocation | null {
  if (raw.length > maxBytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if (isText(value.subject, 256) && isWhole(value.revokedBefore)) return { subject: value.subject, revokedBefore: value.revokedBefore };
  if (isText(value.jti, 256) && isWhole(value.expiresAt)) return { jti: value.jti, expiresAt: value.expiresAt };
  return null;
}

export class RevocationList {
  private readonly subjects = new Map<string, number>();
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly db: Database,
    /** How long a token can stay valid after it was issued (ms): the maximum token age plus tolerance. */
    private readonly horizonMs: number,
  ) {}

  /** True when `principal`'s token was revoked. */
  isRevoked(principal: Principal): boolean {
    const before = this.subjects.get(principal.subject);
    // A token was issued within [iat, iat + 1 s): refuse it if that could be before the revocation.
    if (before !== undefined && (principal.issuedAt ?? 0) * 1000 < before) return true;
    return principal.tokenId !== null && this.tokens.has(principal.tokenId);
  }

  /** Applies a notice (from this or another instance); true when it revokes more than was known. */
  apply(revocation: Revocation): boolean {
    if ('subject' in revocation) {
      const known = this.subjects.get(revocation.subject) ?? 0;
      if (revocation.revokedBefore <= known) return false;
      this.subjects.set(revocation.subject, revocation.revokedBefore);
      return true;
    }
    const known = this.tokens.get(revocation.jti);
    this.tokens.set(revocation.jti, Math.max(known ?? 0, revocation.expiresAt));
    return known === undefined;
  }

  /** Stores a subject revocation: tokens issued up to now are refused. */
  async revokeSubject(subject: string, reason: string | null): Promise<Revocation> {
    // `iat` has whole seconds: a token minted later in this same second is refused too
    // (the safe side of the ambiguity); one minted from the next second on is accepted.
    const revokedBefore = new Date();
    const [row] = await this.db
      .insert(revokedSubjects)
      .values({ subject, revokedBefore, reason })
      .onConflictDoUpdate({ target: revokedSubjects.subject, set: { revokedBefore: sql`greatest(${revokedSubjects.revokedBefore}, excluded.revoked_before)`, reason } })
      .returning({ revokedBefore: revokedSubjects.revokedBefore });
    const notice = { subject, revokedBefore: row!.revokedBefore.getTime() };
    this.apply(notice);
    return notice;
  }

  /**
   * Stores a token revocation. It is kept until no token issued before now can be valid,
   * or until `expiresAt` (ms since epoch) when that is later.
   */
  async revokeToken(jti: string, expiresAt: number | null): Promise<Revocation> {
    const keepUntil = new Date(Math.max(expiresAt ?? 0, Date.now() + this.horizonMs));
    const [row] = await this.db
      .insert(revokedTokens)
      .values({ jti, expiresAt: keepUntil })
      .onConflictDoUpdate({ target: revokedTokens.jti, set: { expiresAt: sql`greatest(${revokedTokens.expiresAt}, excluded.expires_at)` } })
      .returning({ expiresAt: revokedTokens.expiresAt });
    const notice = { jti, expiresAt: row!.expiresAt.getTime() };
    this.apply(notice);
    return notice;
  }

  /**
   * Reads the stored revocations and merges them in (start-up and the periodic refresh).
   * Returns those this instance did not know of: their notices were lost, so the caller
   * must still end the connections they cover.
   */
  async reload(now = Date.now()): Promise<Revocation[]> {
    const subjects = await this.db.select().from(revokedSubjects);
    const tokens = await this.db.select().from(revokedTokens);
    const news: Revocation[] = [];
    for (const row of subjects) {
      const notice = { subject: row.subject, revokedBefore: row.revokedBefore.getTime() };
      if (this.apply(notice)) news.push(notice);
    }
    for (const row of tokens) {
      const notice = { jti: row.jti, expiresAt: row.expiresAt.getTime() };
      if (row.expiresAt.getTime() > now && this.apply(notice)) news.push(notice);
    }
    this.forgetExpired(now);
    return news;
  }

  /** Deletes stored revocations that no valid token can match any more; returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    const subjects = await this.db
      .delete(revokedSubjects)
      .where(lt(revokedSubjects.revokedBefore, new Date(now - this.horizonMs)))
      .returning({ subject: revokedSubjects.subject });
    const tokens = await this.db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date(now))).returning({ jti: revokedTokens.jti });
    this.forgetExpired(now);
    return subjects.length + tokens.length;
  }

  private forgetExpired(now: number): void {
    for (const [subject, before] of this.subjects) if (before < now - this.horizonMs) this.subjects.delete(subject);
    for (const [jti, until] of this.tokens) if (until < now) this.tokens.delete(jti);
  }
}
