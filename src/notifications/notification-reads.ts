/** The notification centre's reads: an owner's notifications newest first, and the unread count. */
import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { notificationInboxes, notifications } from '../db/schema.ts';
import { badInput } from '../domain/errors.ts';
import type { NotificationData } from '../domain/events.ts';

/** One page of notifications, each with the cursor after it. */
export interface NotificationPage {
  items: { cursor: string; node: NotificationData }[];
  hasNextPage: boolean;
}

const CURSOR = /^n1:(\d{1,17})$/;

function encodeNotificationCursor(position: number): string {
  return Buffer.from(`n1:${position}`, 'utf8').toString('base64url');
}

function decodeNotificationCursor(cursor: string): number {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput('after is not a notification cursor issued by this server', 'after');
  return Number(match[1]);
}

type Row = typeof notifications.$inferSelect;

function toData(row: Row): NotificationData {
  return {
    id: row.id,
    ownerId: row.ownerId,
    walletId: row.walletId,
    kind: row.kind,
    title: row.title,
    body: row.body,
    causeEventId: row.causeEventId,
    ruleId: row.ruleId,
    transactionId: row.transactionId,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt ? row.readAt.toISOString() : null,
  };
}

/** Reads of the notification centre. */
export class NotificationReads {
  constructor(private readonly db: Database) {}

  /** The owner's notifications, newest first, after `after` (a cursor of this connection). */
  async page(ownerId: string, first: number, after: string | null, unreadOnly: boolean): Promise<NotificationPage> {
    const conditions = [eq(notifications.ownerId, ownerId)];
    if (after) conditions.push(lt(notifications.position, decodeNotificationCursor(after)));
    if (unreadOnly) conditions.push(isNull(notifications.readAt));
    const rows = await this.db
      .select()
      .from(notifications)
      .where(and(...conditions))
      .orderBy(desc(notifications.position))
      .limit(first + 1);
    return {
      items: rows.slice(0, first).map((row) => ({ cursor: encodeNotificationCursor(row.position), node: toData(row) })),
      hasNextPage: rows.length > first,
    };
  }

  /** How many of the owner's notifications are unread. */
  async unreadCount(ownerId: string): Promise<number> {
    const [row] = await this.db.select({ unread: notificationInboxes.unread }).from(notificationInboxes).where(eq(notificationInboxes.ownerId, ownerId));
    return row?.unread ?? 0;
  }
}
