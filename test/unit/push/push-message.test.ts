/** What a device is pushed for each kind of event: one push per notification, opted-in types, nothing else. */
import { describe, expect, it } from 'vitest';
import type { NotificationEvent, WalletEvent } from '../../../src/domain/events.ts';
import { pushMessageFor } from '../../../src/push/push-message.ts';

const WALLET = '00000000-0000-4000-8000-000000000001';
const envelope = { eventId: '00000000-0000-4000-8000-0000000000aa', ownerId: 'ada', walletId: WALLET, sequence: 7, occurredAt: '2026-12-06T10:00:00.000Z' };

function notificationEvent(change: 'CREATED' | 'READ', kind: 'FRAUD_FLAG' | 'BALANCE_BELOW' = 'BALANCE_BELOW'): NotificationEvent {
  const notification = {
    id: 'n-1',
    ownerId: 'ada',
    walletId: WALLET,
    kind,
    title: 'Low balance',
    body: 'Your available balance is 5.00 NGN, below 10.00 NGN.',
    causeEventId: envelope.eventId,
    ruleId: 'r-1',
    transactionId: null,
    createdAt: envelope.occurredAt,
    readAt: null,
  };
  return {
    ...envelope,
    type: 'NOTIFICATION',
    data: { walletId: WALLET, currency: 'NGN', change, notification: change === 'CREATED' ? notification : null, readIds: change === 'READ' ? ['n-1'] : [], readAt: null, unreadCount: 3 },
  };
}

const balance: WalletEvent = { ...envelope, type: 'BALANCE', data: { walletId: WALLET, currency: 'NGN', available: '123456', ledger: '123456', pending: '0' } };

describe('pushMessageFor', () => {
  it('pushes a created notification with its words, the badge and its ids', () => {
    expect(pushMessageFor(notificationEvent('CREATED'), null)).toEqual({
      title: 'Low balance',
      body: 'Your available balance is 5.00 NGN, below 10.00 NGN.',
      urgent: false,
      badge: 3,
      data: { type: 'NOTIFICATION', eventId: envelope.eventId, cursor: expect.any(String), walletId: WALLET, occurredAt: envelope.occurredAt, notificationId: 'n-1', kind: 'BALANCE_BELOW' },
    });
  });

  it('makes a fraud notification urgent', () => {
    expect(pushMessageFor(notificationEvent('CREATED', 'FRAUD_FLAG'), null)?.urgent).toBe(true);
  });

  it('does not push read changes, nor event types the device did not opt into', () => {
    expect(pushMessageFor(notificationEvent('READ'), ['BALANCE'])).toBeNull();
    expect(pushMessageFor(balance, null)).toBeNull();
    expect(pushMessageFor(balance, ['TRANSACTION'])).toBeNull();
  });

  it('pushes an opted-in event type in words', () => {
    expect(pushMessageFor(balance, ['BALANCE'])).toMatchObject({ title: 'Balance', body: 'Available: 1,234.56 NGN', urgent: false, badge: null });
  });
});
