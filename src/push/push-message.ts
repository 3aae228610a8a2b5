/**
 * What a device is told of an event. A notification (a fired rule, a fraud flag) is one
 * push, made from its NOTIFICATION event; a device that opted into further event types
 * also gets those. Read changes are not pushed: they are for live devices.
 */
import { encodeCursor, type EventType, type WalletEvent } from '../domain/events.ts';
import type { PushMessage } from '../domain/push.ts';
import { displayAmount } from '../notifications/messages.ts';

/** The event types a device may opt into besides its notifications. */
export const OPT_IN_TYPES: readonly EventType[] = ['TRANSACTION', 'BALANCE', 'WALLET_STATUS', 'FRAUD'];

/** The push for `event` on a device that opted into `types` (null: notifications only), or null when it gets none. */
export function pushMessageFor(event: WalletEvent, types: readonly EventType[] | null): PushMessage | null {
  const data = { type: event.type, eventId: event.eventId, cursor: encodeCursor(event), walletId: event.walletId, occurredAt: event.occurredAt };
  if (event.type === 'NOTIFICATION') {
    const notification = event.data.notification;
    if (event.data.change !== 'CREATED' || !notification) return null;
    return {
      title: notification.title,
      body: notification.body,
      urgent: notification.kind === 'FRAUD_FLAG',
      badge: event.data.unreadCount,
      data: { ...data, notificationId: notification.id, kind: notification.kind },
    };
  }
  if (!types?.includes(event.type)) return null;
  switch (event.type) {
    case 'TRANSACTION': {
      const t = event.data;
      const amount = displayAmount(BigInt(t.amount), t.currency);
      return { title: t.direction === 'DEBIT' ? 'Debit' : 'Credit', body: `${amount}, ${t.status.toLowerCase()}${t.counterparty ? ` (${t.counterparty})` : ''}`, urgent: false, badge: null, data: { ...data, transactionId: t.id } };
    }
    case 'BALANCE':
      return { title: 'Balance', body: `Available: ${displayAmount(BigInt(event.data.available), event.data.currency)}`, urgent: false, badge: null, data };
    case 'WALLET_STATUS':
      return { title: 'Wallet', body: `Your wallet is ${event.data.status.toLowerCase()}${event.data.reason ? `: ${event.data.reason}` : ''}`, urgent: false, badge: null, data };
    case 'FRAUD':
      return { title: 'Possible fraud', body: `A transaction was flagged (risk ${event.data.score}/100)`, urgent: true, badge: null, data: { ...data, transactionId: event.data.transaction.id } };
  }
}
