/**
 * The notification centre's writes, inside the transaction of the change that causes
 * them: notifications stored, read state moved, and the unread count kept beside them, each
 * returned as the NOTIFICATION event drafts that carry the change to every device.
 */
import { sql } from 'drizzle-orm';
import { notificationInboxes, notifications, wallets } from '../db/schema.ts';
import { rowsOf, type Tx } from '../db/client.ts';
import { insertJsonRows, inJsonList, jsonRecordset, type Column } from '../db/bulk-insert.ts';
import type { EventDraft, NotificationData } from '../domain/events.ts';
import { lockInbox } from './inbox-lock.ts';

const NOTIFICATION_COLUMNS: readonly Column[] = [
  ['id', 'uuid'],
  ['owner_id', 'text'],
  ['wallet_id', 'uuid'],
  ['kind', 'text'],
  ['title', 'text'],
  ['body', 'text'],
  ['cause_event_id', 'uuid'],
  ['rule_id', 'uuid'],
  ['transaction_id', 'uuid'],
  ['created_at', 'timestamptz'],
];

/** Most ids one READ event carries; marking more makes several events, so each stays small. */
export const READ_IDS_PER_EVENT = 1_000;

/** A notification to store, with its wallet's currency (which its event carries). */
export interface NewNotification {
  notification: NotificationData;
  currency: string;
}

/**
 * Stores `created` and raises their owners' unread counts (owners in id order, like every
 * other lock of several owners). Returns one CREATED draft per notification, in the given
 * order, each carrying the owner's count just after it.
 */
export async function recordNotifications(tx: Tx, created: readonly NewNotification[]): Promise<EventDraft[]> {
  if (created.length === 0) return [];
  const rows = created.map(({ notification: n }) => ({
    id: n.id,
    owner_id: n.ownerId,
    wallet_id: n.walletId,
    kind: n.kind,
    title: n.title,
    body: n.body,
    cause_event_id: n.causeEventId,
    rule_id: n.ruleId,
    transaction_id: n.transactionId,
    created_at: n.createdAt,
  }));
  const added = new Map<string, number>();
  for (const { notification } of created) added.set(notification.ownerId, (added.get(notification.ownerId) ?? 0) + 1);
  const counts = [...added].map(([owner_id, count]) => ({ owner_id, count }));
  const [, raised] = await Promise.all([
    tx.execute(insertJsonRows('notifications', NOTIFICATION_COLUMNS, rows)),
    tx.execute(
      sql`insert into ${notificationInboxes} (owner_id, unread)
          select owner_id, count from ${jsonRecordset('c', [['owner_id', 'text'], ['count', 'integer']], counts)} order by owner_id collate "C"
          on conflict (owner_id) do update set unread = ${notificationInboxes.unread} + excluded.unread returning owner_id, unread`,
    ),
  ]);
  // Each owner's count after its last new notification; the earlier ones count back from it.
  const after = new Map(rowsOf<{ owner_id: string; unread: number | string }>(raised).map((row) => [row.owner_id, Number(row.unread)]));
  const left = new Map(added);
  return created.map(({ notification, currency }) => {
    const remaining = left.get(notification.ownerId)! - 1;
    left.set(notification.ownerId, remaining);
    return {
      type: 'NOTIFICATION',
      walletId: notification.walletId,
      data: { walletId: notification.walletId, currency, change: 'CREATED', notification, readIds: [], readAt: null, unreadCount: after.get(notification.ownerId)! - remaining },
    };
  });
}

/** What a read change did: the ids it marked read, the count after it, and its event drafts (one per wallet). */
export interface ReadChange {
  readIds: string[];
  unreadCount: number;
  drafts: EventDraft[];
}

/**
 * Marks the owner's unread notifications read: those of `ids` (others' ids and ones
 * already read are passed over), or all of them when `ids` is null. Notifications already
 * read make no event; a change that marks nothing makes none at all.
 */
export async function markRead(tx: Tx, ownerId: string, ids: readonly string[] | null, now: Date): Promise<ReadChange> {
  const which = ids === null ? sql`true` : inJsonList(sql`n.id`, ids, 'uuid');
  const [before, marked] = await Promise.all([
    lockInbox(tx, ownerId),
    tx.execute(
      sql`update ${notifications} n set read_at = ${now.toISOString()}::timestamptz from ${wallets} w
          where n.owner_id = ${ownerId} and n.read_at is null and ${which} and w.id = n.wallet_id
          returning n.id, n.wallet_id, w.currency, n.position`,
    ),
  ]);
  const rows = rowsOf<{ id: string; wallet_id: string; currency: string; position: number | string }>(marked).sort((a, b) => Number(a.position) - Number(b.position));
  if (rows.length === 0) return { readIds: [], unreadCount: before, drafts: [] };
  const [{ unread }] = rowsOf<{ unread: number | string }>(
    await tx.execute(sql`update ${notificationInboxes} set unread = greatest(${notificationInboxes.unread} - ${rows.length}, 0) where owner_id = ${ownerId} returning unread`),
  ) as [{ unread: number | string }];
  const unreadCount = Number(unread);
  const byWallet = new Map<string, { currency: string; ids: string[] }>();
  for (const row of rows) {
    const group = byWallet.get(row.wallet_id) ?? { currency: row.currency, ids: [] };
    group.ids.push(row.id);
    byWallet.set(row.wallet_id, group);
  }
  // The events of one change follow each other: each carries the count once it and those before it are read.
  let later = rows.length;
  const readAt = now.toISOString();
  const drafts: EventDraft[] = [];
  for (const [walletId, group] of byWallet) {
    for (let start = 0; start < group.ids.length; start += READ_IDS_PER_EVENT) {
      const readIds = group.ids.slice(start, start + READ_IDS_PER_EVENT);
      later -= readIds.length;
      drafts.push({ type: 'NOTIFICATION', walletId, data: { walletId, currency: group.currency, change: 'READ', notification: null, readIds, readAt, unreadCount: unreadCount + later } });
    }
  }
  return { readIds: rows.map((row) => row.id), unreadCount, drafts };
}
