/** The pure rules of src/domain: money parsing, balance transitions, cursors, event filters. */
import { describe, expect, it } from 'vitest';
import { applyDelta, balanceDelta } from '../../src/domain/balance.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { cursorOf, decodeCursor } from '../../src/domain/events.ts';
import type { Wallet } from '../../src/domain/ledger-types.ts';
import { MAX_MONEY, parseMoney } from '../../src/domain/money.ts';
import { eventFilter } from '../../src/domain/event-filter.ts';
import { makeEvent } from '../support/memory-log.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as DomainError).code;
  }
  return undefined;
}

describe('parseMoney', () => {
  it('accepts digit strings, negative ones and safe integers, exactly', () => {
    expect(parseMoney('9007199254740993')).toBe(9007199254740993n);
    expect(parseMoney('-12')).toBe(-12n);
    expect(parseMoney(42)).toBe(42n);
    expect(parseMoney(MAX_MONEY.toString())).toBe(MAX_MONEY);
  });

  it.each([['1.5'], ['1e3'], [' 12'], [''], ['0x10'], [1.5], [2 ** 60], [NaN], [null], [true], [(MAX_MONEY + 1n).toString()]])('refuses %s', (value) => {
    expect(codeOf(() => parseMoney(value))).toBe('BAD_USER_INPUT');
  });
});

describe('balanceDelta', () => {
  it.each([
    ['CREDIT', null, 'PENDING', 0n, 0n],
    ['DEBIT', null, 'PENDING', 0n, 100n],
    ['CREDIT', null, 'SUCCESS', 100n, 0n],
    ['DEBIT', null, 'SUCCESS', -100n, 0n],
    ['CREDIT', 'PENDING', 'SUCCESS', 100n, 0n],
    ['DEBIT', 'PENDING', 'SUCCESS', -100n, -100n],
    ['CREDIT', 'PENDING', 'FAILED', 0n, 0n],
    ['DEBIT', 'PENDING', 'FAILED', 0n, -100n],
    ['CREDIT', 'SUCCESS', 'REVERSED', -100n, 0n],
    ['DEBIT', 'SUCCESS', 'REVERSED', 100n, 0n],
  ] as const)('%s %s → %s moves ledger %d, pending %d', (direction, from, to, ledger, pending) => {
    expect(balanceDelta(direction, 100n, from, to)).toEqual({ ledger, pending });
  });

  it.each([
    ['FAILED', 'SUCCESS'],
    ['REVERSED', 'SUCCESS'],
    ['PENDING', 'REVERSED'],
    ['SUCCESS', 'FAILED'],
  ] as const)('refuses %s → %s', (from, to) => {
    expect(codeOf(() => balanceDelta('CREDIT', 1n, from, to))).toBe('INVALID_TRANSITION');
  });
});

describe('applyDelta', () => {
  const wallet: Wallet = { id: 'w', ownerId: 'o', currency: 'NGN', status: 'ACTIVE', ledger: 100n, pending: 30n, createdAt: new Date(), updatedAt: new Date() };

  it('refuses to take more than is available', () => {
    expect(applyDelta(wallet, { ledger: 0n, pending: 70n })).toEqual({ ledger: 100n, pending: 100n });
    expect(codeOf(() => applyDelta(wallet, { ledger: 0n, pending: 71n }))).toBe('INSUFFICIENT_FUNDS');
  });

  it('allows changes that do not reduce what is available', () => {
    expect(applyDelta({ ...wallet, pending: 200n }, { ledger: 0n, pending: -30n })).toEqual({ ledger: 100n, pending: 170n });
  });

  it('refuses an overflow of the ledger', () => {
    expect(codeOf(() => applyDelta({ ...wallet, ledger: MAX_MONEY }, { ledger: 1n, pending: 0n }))).toBe('BAD_USER_INPUT');
  });
});

describe('cursors', () => {
  it('round-trip owner and sequence, whatever the owner id holds', () => {
    const owner = 'merchant:ké/ 42';
    expect(decodeCursor(cursorOf({ ownerId: owner, sequence: 2 ** 40 }))).toEqual({ ownerId: owner, sequence: 2 ** 40 });
  });

  it.each([['garbage'], [''], [Buffer.from('v2:1:x').toString('base64url')], [Buffer.from('v1:abc:x').toString('base64url')]])('refuses %s', (cursor) => {
    expect(codeOf(() => decodeCursor(cursor))).toBe('BAD_USER_INPUT');
  });
});

describe('eventFilter', () => {
  const balance = makeEvent('o-1', 1, 'BALANCE');
  const transaction = makeEvent('o-1', 2, 'TRANSACTION');
  const status = makeEvent('o-1', 3, 'WALLET_STATUS');

  it('matches by type, one filter shared for the same types in any order (one per field, not per subscriber)', () => {
    const byType = eventFilter({ types: ['TRANSACTION', 'BALANCE'] });
    expect([balance, transaction, status].map(byType)).toEqual([true, true, false]);
    expect(eventFilter({ types: ['BALANCE', 'TRANSACTION'] })).toBe(byType);
    expect(eventFilter({})).toBe(eventFilter({ types: [] }));
    expect([balance, transaction, status].every(eventFilter({}))).toBe(true);
  });

  it('matches wallet, currency and transaction criteria with its own predicate', () => {
    expect(eventFilter({ walletId: 'w-2' })(balance)).toBe(false);
    expect(eventFilter({ walletId: 'w-1', types: ['BALANCE'] })(balance)).toBe(true);
    expect(eventFilter({ currency: 'USD' })(transaction)).toBe(false);
    expect(eventFilter({ transaction: { status: ['PENDING'] } })(transaction)).toBe(false);
    expect(eventFilter({ transaction: { status: ['SUCCESS'], minAmount: 1n } })(transaction)).toBe(true);
  });
});
