/**
 * Appends events to the log inside the writing transaction. Sequences come from the
 * owners' rows, which the transaction locks, so they are gap-free and in commit order.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { events, owners } from '../db/schema.ts';
import type { EventDraft, WalletEvent } from '../domain/events.ts';
import { rowsOf, type Tx } from '../db/client.ts';
import { jsonRecordset, type Column } from '../db/bulk-insert.ts';

const HEAD_MOVE_COLUMNS: readonly Column[] = [
  ['owner_id', 'text'],
  ['count', 'bigint'],
];

/** An event row before its sequence is known: `back` is how many of its owner's new events come after it. */
const EVENT_COLUMNS: readonly Column[] = [
  ['event_id', 'uuid'],
  ['owner_id', 'text'],
  ['back', 'bigint'],
  ['wallet_id', 'uuid'],
  ['type', 'text'],
  ['occurred_at', 'timestamptz'],
  ['data', 'jsonb'],
];

/** What a transaction appended: its events per owner, its id, and the tenants they belong to. */
export interface Appended {
  events: Map<string, WalletEvent[]>;
  /** The writing transaction's id (the events' `tx_id`, the firehose's order); 0 when nothing was appended. */
  txId: number;
  tenants: Set<string>;
}

/**
 * Gives each owner's drafts ids and consecutive sequences after its log head, moves the
 * heads and stores the events, in one statement: every statement is a round trip, and on
 * a busy server the round trips, not the rows, were most of a small transaction's cost.
 *
 * Moving a head locks the owner's row until the transaction ends, so a concurrent writer
 * of the same owner waits here and takes the sequences after ours: commit order is
 * sequence order. Heads are moved in owner order, so writers that share owners queue
 * instead of deadlocking; writers of other owners never wait. This is the last lock a
 * writer takes (after its wallet and transaction rows), so it is held only for the insert
 * and the commit.
 */
export async function appendEvents(tx: Tx, drafts: ReadonlyMap<string, readonly EventDraft[]>, now: Date): Promise<Appended> {
  const appended = new Map<string, WalletEvent[]>();
  const counts = [...drafts]
    .filter(([, list]) => list.length > 0)
    .map(([ownerId, list]) => ({ owner_id: ownerId, count: list.length }))
    .sort((a, b) => (a.owner_id < b.owner_id ? -1 : a.owner_id > b.owner_id ? 1 : 0));
  if (counts.length === 0) return { events: appended, txId: 0, tenants: new Set() };
  const occurredAt = now.toISOString();
  const ids = new Map<string, string[]>();
  const rows: Record<string, unknown>[] = [];
  for (const [ownerId, list] of drafts) {
    const owned = list.map((draft) => draft.eventId ?? randomUUID());
    ids.set(ownerId, owned);
    list.forEach((draft, i) => rows.push({ event_id: owned[i], owner_id: ownerId, back: list.length - 1 - i, wallet_id: draft.walletId, type: draft.type, occurred_at: occurredAt, data: draft.data }));
  }
  // Each event's sequence is its owner's new head counted back; tx_id is left to its
  // default, the id of this transaction.
  const moved = await tx.execute(
    sql`with heads as (
          insert into ${owners} (owner_id, last_sequence) select owner_id, count from ${jsonRecordset('v', HEAD_MOVE_COLUMNS, counts)}
          on conflict (owner_id) do update set last_sequence = ${owners.lastSequence} + excluded.last_sequence
          returning owner_id, last_sequence, tenant_id
        ), stored as (
          insert into ${events} (event_id, owner_id, sequence, wallet_id, type, occurred_at, data, tenant_id)
          select e.event_id, e.owner_id, h.last_sequence - e.back, e.wallet_id, e.type, e.occurred_at, e.data, h.tenant_id
          from ${jsonRecordset('e', EVENT_COLUMNS, rows)} join heads h using (owner_id)
        )
        select owner_id, last_sequence, tenant_id, (pg_current_xact_id()::text)::bigint as tx_id from heads`,
  );
  const headRows = rowsOf<{ owner_id: string; last_sequence: string | number; tenant_id: string; tx_id: string | number }>(moved);
  const heads = new Map(headRows.map((row) => [row.owner_id, Number(row.last_sequence)]));
  const tenants = new Map(headRows.map((row) => [row.owner_id, row.tenant_id]));
  for (const [ownerId, list] of drafts) {
    if (list.length === 0) continue;
    const last = heads.get(ownerId)! - list.length;
    const owned = ids.get(ownerId)!;
    appended.set(
      ownerId,
      list.map((draft, i) => ({ eventId: owned[i]!, ownerId, walletId: draft.walletId, sequence: last + i + 1, occurredAt, type: draft.type, data: draft.data }) as WalletEvent),
    );
  }
  return { events: appended, txId: Number(headRows[0]!.tx_id), tenants: new Set(tenants.values()) };
}
