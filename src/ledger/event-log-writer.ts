/**
 * Appends events to the log inside the writing transaction. Sequences come from the
 * owners' rows, which the transaction locks, so they are gap-free and in commit order.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { owners } from '../db/schema.ts';
import type { EventDraft, WalletEvent } from '../domain/events.ts';
import { rowsOf, type Tx } from '../db/client.ts';
import { insertJsonRows, jsonRecordset, type Column } from '../db/bulk-insert.ts';

const HEAD_MOVE_COLUMNS: readonly Column[] = [
  ['owner_id', 'text'],
  ['count', 'bigint'],
];

const EVENT_COLUMNS: readonly Column[] = [
  ['event_id', 'uuid'],
  ['owner_id', 'text'],
  ['sequence', 'bigint'],
  ['wallet_id', 'uuid'],
  ['type', 'text'],
  ['occurred_at', 'timestamptz'],
  ['data', 'jsonb'],
  ['tenant_id', 'text'],
];

/**
 * Gives each owner's drafts ids and consecutive sequences after its log head, moves the
 * heads and stores the events: one statement for the heads, one for the events.
 *
 * Moving a head locks the owner's row until the transaction ends, so a concurrent writer
 * of the same owner waits here and takes the sequences after ours: commit order is
 * sequence order. Heads are moved in owner order, so writers that share owners queue
 * instead of deadlocking; writers of other owners never wait. This is the last lock a
 * writer takes (after its wallet and transaction rows), so it is held only for the insert
 * and the commit.
 */
/** What a transaction appended: its events per owner, its id, and the tenants they belong to. */
export interface Appended {
  events: Map<string, WalletEvent[]>;
  /** The writing transaction's id (the events' `tx_id`, the firehose's order); 0 when nothing was appended. */
  txId: number;
  tenants: Set<string>;
}

export async function appendEvents(tx: Tx, drafts: ReadonlyMap<string, readonly EventDraft[]>, now: Date): Promise<Appended> {
  const appended = new Map<string, WalletEvent[]>();
  const counts = [...drafts]
    .filter(([, list]) => list.length > 0)
    .map(([ownerId, list]) => ({ owner_id: ownerId, count: list.length }))
    .sort((a, b) => (a.owner_id < b.owner_id ? -1 : a.owner_id > b.owner_id ? 1 : 0));
  if (counts.length === 0) return { events: appended, txId: 0, tenants: new Set() };
  const moved = await tx.execute(
    sql`insert into ${owners} (owner_id, last_sequence) select owner_id, count from ${jsonRecordset('v', HEAD_MOVE_COLUMNS, counts)}
        on conflict (owner_id) do update set last_sequence = ${owners.lastSequence} + excluded.last_sequence
        returning owner_id, last_sequence, tenant_id, (pg_current_xact_id()::text)::bigint as tx_id`,
  );
  const headRows = rowsOf<{ owner_id: string; last_sequence: string | number; tenant_id: string; tx_id: string | number }>(moved);
  const heads = new Map(headRows.map((row) => [row.owner_id, Number(row.last_sequence)]));
  const tenants = new Map(headRows.map((row) => [row.owner_id, row.tenant_id]));
  const occurredAt = now.toISOString();
  for (const [ownerId, list] of drafts) {
    if (list.length === 0) continue;
    const last = heads.get(ownerId)! - list.length;
    appended.set(
      ownerId,
      list.map((draft, i) => ({ eventId: randomUUID(), ownerId, walletId: draft.walletId, sequence: last + i + 1, occurredAt, type: draft.type, data: draft.data }) as WalletEvent),
    );
  }
  // tx_id is left to its default: the id of this transaction.
  const rows = [...appended.values()]
    .flat()
    .map((e) => ({ event_id: e.eventId, owner_id: e.ownerId, sequence: e.sequence, wallet_id: e.walletId, type: e.type, occurred_at: occurredAt, data: e.data, tenant_id: tenants.get(e.ownerId)! }));
  await tx.execute(insertJsonRows('events', EVENT_COLUMNS, rows));
  return { events: appended, txId: Number(headRows[0]!.tx_id), tenants: new Set(tenants.values()) };
}
