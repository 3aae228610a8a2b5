/** Saved subscription filters per (owner, principal, consumer): see {@link ConsumerCursors} on ownership. */
import { and, eq, gte, lt, notExists } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { consumerCursors, subscriptionPreferences } from '../db/schema.ts';
import { createWithinQuota } from './consumer-quota.ts';
import type { StoredCriteria } from '../domain/event-filter.ts';
import type { ConsumerKey } from '../backbone/topic-messages.ts';

export class PreferenceStore {
  constructor(
    private readonly db: Database,
    /** Saved preferences one principal may keep per owner. */
    private readonly limit: number,
  ) {}

  /** The saved criteria, or null when the consumer has none. */
  async get(ownerId: string, consumer: ConsumerKey): Promise<StoredCriteria | null> {
    const [row] = await this.db.select({ criteria: subscriptionPreferences.criteria }).from(subscriptionPreferences).where(this.keyIs(ownerId, consumer));
    return (row?.criteria as StoredCriteria | undefined) ?? null;
  }

  /** Replaces the saved criteria; LIMIT_EXCEEDED when a new consumer would pass the quota. */
  async put(ownerId: string, consumer: ConsumerKey, criteria: StoredCriteria): Promise<void> {
    const now = new Date();
    const updated = await this.db.update(subscriptionPreferences).set({ criteria, updatedAt: now }).where(this.keyIs(ownerId, consumer)).returning({ consumer: subscriptionPreferences.consumer });
    if (updated.length > 0) return;
    await createWithinQuota(this.db, subscriptionPreferences, { ownerId, principal: consumer.principal }, this.limit, (tx) =>
      tx
        .insert(subscriptionPreferences)
        .values({ ownerId, principal: consumer.principal, consumer: consumer.name, criteria, updatedAt: now })
        .onConflictDoUpdate({ target: [subscriptionPreferences.ownerId, subscriptionPreferences.principal, subscriptionPreferences.consumer], set: { criteria, updatedAt: now } }),
    );
  }

  /** Forgets preferences neither saved since `before` nor of a consumer used since then; returns how many went. */
  async prune(before: Date): Promise<number> {
    const used = this.db
      .select({ one: consumerCursors.consumer })
      .from(consumerCursors)
      .where(
        and(
          eq(consumerCursors.ownerId, subscriptionPreferences.ownerId),
          eq(consumerCursors.principal, subscriptionPreferences.principal),
          eq(consumerCursors.consumer, subscriptionPreferences.consumer),
          gte(consumerCursors.updatedAt, before),
        ),
      );
    const gone = await this.db
      .delete(subscriptionPreferences)
      .where(and(lt(subscriptionPreferences.updatedAt, before), notExists(used)))
      .returning({ consumer: subscriptionPreferences.consumer });
    return gone.length;
  }

  private keyIs(ownerId: string, consumer: ConsumerKey) {
    return and(eq(subscriptionPreferences.ownerId, ownerId), eq(subscriptionPreferences.principal, consumer.principal), eq(subscriptionPreferences.consumer, consumer.name));
  }
}
