/**
 * The body of a webhook: the event as the GraphQL API shows it (the fields a subscription
 * selecting all of them would return), with its feed cursor, as JSON.
 */
import { encodeFirehoseCursor, type FirehosePosition, type WalletEvent } from '../domain/events.ts';

/** The JSON body sent for `event`, read from the feed at `position`. */
export function webhookBody(event: WalletEvent, position: FirehosePosition): string {
  const envelope = {
    type: event.type,
    eventId: event.eventId,
    cursor: encodeFirehoseCursor(position),
    sequence: event.sequence,
    ownerId: event.ownerId,
    walletId: event.walletId,
    occurredAt: event.occurredAt,
  };
  switch (event.type) {
    case 'TRANSACTION': {
      const { previousStatus, ...transaction } = event.data;
      return JSON.stringify({ ...envelope, transaction, previousStatus });
    }
    case 'BALANCE': {
      const { available, ledger, pending, currency } = event.data;
      return JSON.stringify({ ...envelope, balance: { available, ledger, pending, currency } });
    }
    case 'WALLET_STATUS': {
      const { change, status, reason } = event.data;
      return JSON.stringify({ ...envelope, change, status, reason });
    }
    case 'FRAUD': {
      const { flagId, transaction, score, reason, flaggedBy } = event.data;
      const { previousStatus: _previousStatus, ...flagged } = transaction;
      return JSON.stringify({ ...envelope, flagId, transaction: flagged, score, reason, flaggedBy });
    }
    case 'NOTIFICATION': {
      const { change, notification, readIds, readAt, unreadCount } = event.data;
      return JSON.stringify({ ...envelope, notificationChange: change, notification, readIds, readAt, unreadCount });
    }
  }
}
