/**
 * Durable consumers (DESIGN.md §5): each (owner, consumer) has a stored cursor that acks
 * advance cumulatively — idempotent, never backwards. A subscription naming a consumer
 * and no `after` starts from it, so every unacked event is delivered again.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { consumerCursors } from '../db/schema.ts';

export class ConsumerCursors {
  constructor(private readonly db: Database) {}

  /**
   * The consumer's acked sequence. A consumer seen for the first time starts at `head`
   * (like a new Kafka group at "latest"), and that start is stored at once so that a
   * reconnect before the first ack still resumes from there instead of from a newer head.
   */
  async startFor(ownerId: string, consumer: string, head: number): Promise<number> {
    await this.db.insert(consumerCursors).values({ ownerId, consumer, sequence: head, updatedAt: new Date() }).onConflictDoNothing();
    return (await this.position(ownerId, consumer)) ?? head;
  }

  /** The acked sequence, or null for an unknown consumer. */
  async position(ownerId: string, consumer: string): Promise<number | null> {
    const [row] = await this.db
      .select({ sequence: consumerCursors.sequence })
      .from(consumerCursors)
      .where(and(eq(consumerCursors.ownerId, ownerId), eq(consumerCursors.consumer, consumer)));
    return row?.sequence ?? null;
  }

  /** Advances the cursor to `sequence` unless it is already there or beyond; returns the stored value. */
  async ack(ownerId: string, consumer: string, sequence: number): Promise<number> {
    const [row] = await this.db
      .insert(consumerCursors)
      .values({ ownerId, consumer, sequence, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: [consumerCursors.ownerId, consumerCursors.consumer],
        set: { sequence: sql`greatest(${consumerCursors.sequence}, excluded.sequence)`, updatedAt: sql`excluded.updated_at` },
      })
      .returning({ sequence: consumerCursors.sequence });
    return row!.sequence;
  }
}
