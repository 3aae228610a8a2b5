/**
 * Durable consumers (docs/ARCHITECTURE.md, "Consumers"): each consumer has a stored cursor
 * per owner that acks advance cumulatively — idempotent, never backwards. A subscription
 * naming a consumer and no `after` starts from it, so every unacked event is delivered
 * again. A consumer belongs to the principal that uses it: the key is (owner, principal,
 * name), so nobody can read, move or reconfigure another principal's consumer.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { consumerCursors } from '../db/schema.ts';
import { createWithinQuota } from './consumer-quota.ts';
import type { ConsumerKey } from '../backbone/topic-messages.ts';

export class ConsumerCursors {
  constructor(
    private readonly db: Database,
    /** Consumers one principal may keep per owner. */
    private readonly limit: number,
  ) {}

  /**
   * The consumer's acked sequence, refreshing its lifetime. A consumer seen for the first
   * time starts at `head` (like a new Kafka group at "latest"), and that start is stored at
   * once so that a reconnect before the first ack still resumes from there instead of from
   * a newer head. LIMIT_EXCEEDED when the principal already has its quota of consumers.
   */
  async startFor(ownerId: string, consumer: ConsumerKey, head: number): Promise<number> {
    const [known] = await this.db
      .update(consumerCursors)
      .set({ updatedAt: new Date() })
      .where(this.keyIs(ownerId, consumer))
      .returning({ sequence: consumerCursors.sequence });
    if (known) return known.sequence;
    return this.create(ownerId, consumer, head);
  }

  /** Advances the cursor to `sequence` unless it is already there or beyond; returns the stored value. */
  async ack(ownerId: string, consumer: ConsumerKey, sequence: number): Promise<number> {
    const [row] = await this.db
      .update(consumerCursors)
      .set({ sequence: sql`greatest(${consumerCursors.sequence}, ${sequence})`, updatedAt: new Date() })
      .where(this.keyIs(ownerId, consumer))
      .returning({ sequence: consumerCursors.sequence });
    return row ? row.sequence : this.create(ownerId, consumer, sequence);
  }

  /** Forgets consumers neither used nor acked since `before`; returns how many went. */
  async prune(before: Date): Promise<number> {
    const gone = await this.db.delete(consumerCursors).where(lt(consumerCursors.updatedAt, before)).returning({ consumer: consumerCursors.consumer });
    return gone.length;
  }

  /** Stores a new consumer at `sequence` (or, if a concurrent call created it, moves it forward). */
  private create(ownerId: string, consumer: ConsumerKey, sequence: number): Promise<number> {
    return createWithinQuota(this.db, consumerCursors, { ownerId, principal: consumer.principal }, this.limit, async (tx) => {
      const [row] = await tx
        .insert(consumerCursors)
        .values({ ownerId, principal: consumer.principal, consumer: consumer.name, sequence, updatedAt: new Date() })
        .onConflictDoUpdate({
          target: [consumerCursors.ownerId, consumerCursors.principal, consumerCursors.consumer],
          set: { sequence: sql`greatest(${consumerCursors.sequence}, excluded.sequence)`, updatedAt: sql`excluded.updated_at` },
        })
        .returning({ sequence: consumerCursors.sequence });
      return row!.sequence;
    });
  }

  private keyIs(ownerId: string, consumer: ConsumerKey) {
    return and(eq(consumerCursors.ownerId, ownerId), eq(consumerCursors.principal, consumer.principal), eq(consumerCursors.consumer, consumer.name));
  }
}
