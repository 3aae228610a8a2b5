/**
 * Appends events to the log inside the writing transaction. Sequences come from the
 * owner's row, which the transaction has locked, so they are gap-free and in commit order.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events, owners } from '../db/schema.ts';
import type { EventDraft, WalletEvent } from '../domain/events.ts';

/** A drizzle transaction on {@link Database}. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * Locks the owner's log head for the rest of the transaction and returns its last
 * sequence. Concurrent writers for the same owner queue here; other owners don't wait.
 */
export async function lockOwner(tx: Tx, ownerId: string): Promise<number> {
  await tx.insert(owners).values({ ownerId }).onConflictDoNothing();
  const [row] = await tx.select({ last: owners.lastSequence }).from(owners).where(eq(owners.ownerId, ownerId)).for('update');
  return row!.last;
}

/** Gives the drafts ids and consecutive sequences after `lastSequence` and stores them. */
export async function appendEvents(
  tx: Tx,
  ownerId: string,
  lastSequence: number,
  drafts: readonly EventDraft[],
  now: Date,
): Promise<WalletEvent[]> {
  if (drafts.length === 0) return [];
  const appended = drafts.map(
    (draft, i) =>
      ({
        eventId: randomUUID(),
        ownerId,
        walletId: draft.walletId,
        sequence: lastSequence + i + 1,
        occurredAt: now.toISOString(),
        type: draft.type,
        data: draft.data,
      }) as WalletEvent,
  );
  await tx.insert(events).values(
    appended.map((e) => ({
      eventId: e.eventId,
      ownerId,
      sequence: e.sequence,
      walletId: e.walletId,
      type: e.type,
      occurredAt: now,
      data: e.data,
    })),
  );
  await tx
    .update(owners)
    .set({ lastSequence: sql`${owners.lastSequence} + ${drafts.length}` })
    .where(eq(owners.ownerId, ownerId));
  return appended;
}
