/** The checks on messages read from the backbone: what passes, and what is refused and why. */
import { describe, expect, it } from 'vitest';
import { readRevocation } from '../../src/auth/revocations.ts';
import type { WalletEvent } from '../../src/domain/events.ts';
import { readCommitWake, TENANTS_PER_WAKE } from '../../src/backbone/commit-wakes.ts';
import { readTopicMessage } from '../../src/backbone/topic-messages.ts';

const OWNER = 'alice';
const WALLET = '7d3c1a52-98b4-4f0e-a9f1-0c2d3e4f5a6b';
const MAX = 1024 * 1024;

const balance: WalletEvent = {
  eventId: '2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f',
  ownerId: OWNER,
  walletId: WALLET,
  sequence: 7,
  occurredAt: '2026-11-22T10:00:00.000Z',
  type: 'BALANCE',
  data: { walletId: WALLET, currency: 'NGN', available: '100', ledger: '150', pending: '50' },
};
const transaction: WalletEvent = {
  ...balance,
  sequence: 8,
  type: 'TRANSACTION',
  data: {
    id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    walletId: WALLET,
    direction: 'DEBIT',
    type: 'PAYMENT',
    amount: '50',
    currency: 'NGN',
    status: 'PENDING',
    previousStatus: null,
    counterparty: 'shop',
    description: null,
    reversalReason: null,
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
  },
};
const status: WalletEvent = { ...balance, sequence: 9, type: 'WALLET_STATUS', data: { walletId: WALLET, change: 'FROZEN', status: 'FROZEN', currency: 'NGN', reason: 'review' } };

const read = (message: unknown) => readTopicMessage(typeof message === 'string' ? message : JSON.stringify(message), OWNER, MAX);

describe('owner topic messages', () => {
  it('pass through when well formed: events of the topic’s owner, acks and preference notices', () => {
    expect(read({ kind: 'events', events: [balance, transaction, status] })).toEqual({ kind: 'events', events: [balance, transaction, status] });
    expect(read({ kind: 'ack', principal: 'user:alice', consumer: 'phone', sequence: 9 })).toEqual({ kind: 'ack', principal: 'user:alice', consumer: 'phone', sequence: 9 });
    const criteria = { types: ['TRANSACTION'], walletId: WALLET, currency: 'NGN', transaction: { status: ['PENDING'], direction: 'DEBIT', transactionTypes: null, minAmount: '10', maxAmount: null } };
    expect(read({ kind: 'preferences', principal: 'service:fraud', consumer: 'fraud', criteria })).toEqual({ kind: 'preferences', principal: 'service:fraud', consumer: 'fraud', criteria });
    expect(read({ kind: 'preferences', principal: 'service:fraud', consumer: 'fraud', criteria: null })).toMatchObject({ kind: 'preferences' });
  });

  it.each([
    ['not JSON', '{"kind":', 'not JSON'],
    ['not an object', '[1,2]', 'not an object'],
    ['an unknown kind', { kind: 'shutdown' }, 'an unknown kind'],
    ['no events', { kind: 'events', events: [] }, 'events'],
    ['an event of another owner', { kind: 'events', events: [{ ...balance, ownerId: 'mallory' }] }, 'events'],
    ['a sequence that is not a whole number', { kind: 'events', events: [{ ...balance, sequence: 1.5 }] }, 'events'],
    ['an amount that is a float', { kind: 'events', events: [{ ...balance, data: { ...balance.data, available: 1.5 } }] }, 'events'],
    ['an amount that is not digits', { kind: 'events', events: [{ ...transaction, data: { ...transaction.data, amount: '1e9' } }] }, 'events'],
    ['an unknown status', { kind: 'events', events: [{ ...transaction, data: { ...transaction.data, status: 'MAYBE' } }] }, 'events'],
    ['data of another wallet', { kind: 'events', events: [{ ...balance, data: { ...balance.data, walletId: '00000000-0000-4000-8000-000000000000' } }] }, 'events'],
    ['an event id that is not a UUID', { kind: 'events', events: [{ ...balance, eventId: 'x' }] }, 'events'],
    ['more than 500 events', { kind: 'events', events: Array.from({ length: 501 }, () => balance) }, 'events'],
    ['an ack without a principal', { kind: 'ack', consumer: 'phone', sequence: 9 }, 'ack'],
    ['an ack with a negative sequence', { kind: 'ack', principal: 'user:alice', consumer: 'phone', sequence: -1 }, 'ack'],
    ['criteria with a bad amount', { kind: 'preferences', principal: 'p', consumer: 'c', criteria: { transaction: { minAmount: 'ten' } } }, 'preferences'],
    ['criteria with an unknown type', { kind: 'preferences', principal: 'p', consumer: 'c', criteria: { types: ['ALL'] } }, 'preferences'],
  ])('are refused with %s', (_name, message, reason) => {
    const result = read(message);
    expect(result).toHaveProperty('refused');
    expect((result as { refused: string }).refused).toContain(reason);
  });

  it('are refused unread past the size limit', () => {
    expect(readTopicMessage(`"${'x'.repeat(2000)}"`, OWNER, 1000)).toEqual({ refused: 'larger than 1000 bytes' });
  });
});

describe('revocation notices', () => {
  it('pass through when they name a subject or a token id with a time', () => {
    expect(readRevocation('{"subject":"alice","revokedBefore":1700000000000}', MAX)).toEqual({ subject: 'alice', revokedBefore: 1700000000000 });
    expect(readRevocation('{"jti":"t-1","expiresAt":1700000000000}', MAX)).toEqual({ jti: 't-1', expiresAt: 1700000000000 });
  });

  it.each(['nope', 'null', '{}', '{"subject":"alice"}', '{"subject":123,"revokedBefore":1}', '{"jti":"t","expiresAt":"soon"}', '{"subject":"","revokedBefore":1}'])('are refused: %s', (raw) => {
    expect(readRevocation(raw, MAX)).toBeNull();
  });
});

describe('firehose wakes read from the backbone', () => {
  it('takes a wake of the exact shape', () => {
    expect(readCommitWake(JSON.stringify({ txId: 42, tenants: ['acme', 'default'] }), MAX)).toEqual({ txId: 42, tenants: ['acme', 'default'] });
  });

  it('refuses anything else, saying why', () => {
    const refused = (raw: string) => (readCommitWake(raw, MAX) as { refused: string }).refused;
    expect(refused('x'.repeat(MAX + 1))).toMatch(/larger than/);
    expect(refused('{')).toBe('not JSON');
    expect(refused('null')).toMatch(/txId/);
    expect(refused(JSON.stringify({ txId: -1, tenants: ['acme'] }))).toMatch(/txId/);
    expect(refused(JSON.stringify({ txId: 1.5, tenants: ['acme'] }))).toMatch(/txId/);
    expect(refused(JSON.stringify({ txId: 1, tenants: [] }))).toMatch(/tenants/);
    expect(refused(JSON.stringify({ txId: 1, tenants: ['*'] }))).toMatch(/not a tenant name/);
    expect(refused(JSON.stringify({ txId: 1, tenants: [7] }))).toMatch(/not a tenant name/);
    expect(refused(JSON.stringify({ txId: 1, tenants: Array(TENANTS_PER_WAKE + 1).fill('a') }))).toMatch(/tenants/);
  });
});
