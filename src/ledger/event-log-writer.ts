/**
 * Appends events to the log inside the writing transaction. Sequences come from the
 * owners' rows, which the transaction has locked, so they are gap-free and in commit order.
 */
import { randomUUID } from 'node:crypto';
import { inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { owners } from '../db/schema.ts';
import type { EventDraft, WalletEvent } from '../domain/events.ts';
import { insertJsonRows, type Column } from './bulk-insert.ts';

/** A drizzle transaction on {@link Database}. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

const EVENT_COLUMNS: readonly Column[] = [
  ['event_id', 'uuid'],
  ['owner_id', 'text'],
  ['sequence', 'bigint'],
  ['wallet_id', 'uuid'],
  ['type', 'text'],
  ['occurred_at', 'timestamptz'],
  ['data', 'jsonb'],
];

/**
 * Locks the owners' log heads for the rest of the transaction and returns each one's
 * last sequence. Rows are locked in owner order, so two writers that share owners queue
 * instead of deadlocking; writers of other owners don't wait.
 */
export async function lockOwners(tx: Tx, ownerIds: readonly string[]): Promise<Map<string, number>> {
  const sorted = [...new Set(ownerIds)].sort();
  await tx
    .insert(owners)
    .values(sorted.map((ownerId) => ({ ownerId })))
    .onConflictDoNothing();
  const rows = await tx
    .select({ ownerId: owners.ownerId, last: owners.lastSequence })
    .from(owners)
    .where(inArray(owners.ownerId, sorted))
    .orderBy(owners.ownerId)
    .for('update');
  return new Map(rows.map((row) => [row.ownerId, row.last]));
}

/**
 * Gives each owner's drafts ids and consecutive sequences after its last one, stores them
 * and moves the heads, with one statement for the events and one for the heads.
 */
export async function appendEvents(
  tx: Tx,
  heads: ReadonlyMap<string, number>,
  drafts: ReadonlyMap<string, readonly EventDraft[]>,
  now: Date,
): Promise<Map<string, WalletEvent[]>> {
  const appended = new Map<string, WalletEvent[]>();
  const occurredAt = now.toISOString();
  for (const [ownerId, list] of drafts) {
    if (list.length === 0) continue;
    const last = heads.get(ownerId)!;
    appended.set(
      ownerId,
      list.map((draft, i) => ({ eventId: randomUUID(), ownerId, walletId: draft.walletId, sequence: last + i + 1, occurredAt, type: draft.type, data: draft.data }) as WalletEvent),
    );
  }
  if (appended.size === 0) return appended;
  const rows = [...appended.values()].flat().map((e) => ({ event_id: e.eventId, owner_id: e.ownerId, sequence: e.sequence, wallet_id: e.walletId, type: e.type, occurred_at: occurredAt, data: e.data }));
  await tx.execute(insertJsonRows('events', EVENT_COLUMNS, rows));
  const moves = sql.join(
    [...appended].map(([ownerId, list]) => sql`(${ownerId}, ${list.length}::bigint)`),
    sql`, `,
  );
  await tx.execute(sql`update ${owners} set last_sequence = ${owners.lastSequence} + v.count from (values ${moves}) as v(owner_id, count) where ${owners.ownerId} = v.owner_id`);
  return appended;
}
