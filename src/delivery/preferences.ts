/** Saved subscription filters per (owner, consumer). */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { subscriptionPreferences } from '../db/schema.ts';
import type { StoredCriteria } from './filters.ts';

export class PreferenceStore {
  constructor(private readonly db: Database) {}

  /** The saved criteria, or null when the consumer has none. */
  async get(ownerId: string, consumer: string): Promise<StoredCriteria | null> {
    const [row] = await this.db
      .select({ criteria: subscriptionPreferences.criteria })
      .from(subscriptionPreferences)
      .where(and(eq(subscriptionPreferences.ownerId, ownerId), eq(subscriptionPreferences.consumer, consumer)));
    return (row?.criteria as StoredCriteria | undefined) ?? null;
  }

  /** Replaces the saved criteria. */
  async put(ownerId: string, consumer: string, criteria: StoredCriteria): Promise<void> {
    const now = new Date();
    await this.db
      .insert(subscriptionPreferences)
      .values({ ownerId, consumer, criteria, updatedAt: now })
      .onConflictDoUpdate({ target: [subscriptionPreferences.ownerId, subscriptionPreferences.consumer], set: { criteria, updatedAt: now } });
  }
}
