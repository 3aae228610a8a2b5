/**
 * How long producers' idempotency keys are remembered. A retry with the same key within
 * IDEMPOTENCY_KEY_RETENTION returns the original transaction; after it, the key is
 * forgotten and the same key posts anew (as with Stripe's 24-hour window).
 */
import { inArray, lt } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema.ts';

/** Forgets up to `batch` keys first used before `before`; returns how many went. */
export async function forgetIdempotencyKeys(db: Database, before: Date, batch = 5_000): Promise<number> {
  const doomed = db.select({ transactionId: idempotencyKeys.transactionId }).from(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).limit(batch);
  const gone = await db.delete(idempotencyKeys).where(inArray(idempotencyKeys.transactionId, doomed)).returning({ key: idempotencyKeys.key });
  return gone.length;
}
