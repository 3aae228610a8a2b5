/**
 * The once-per-crossing rules of alert rules, on the evaluation alone: drafted events in,
 * firings and rule state out.
 */
import { describe, expect, it } from 'vitest';
import type { AlertRule, AlertRuleKind } from '../../../src/domain/alert-rules.ts';
import type { EventDraft } from '../../../src/domain/events.ts';
import { displayAmount } from '../../../src/notifications/messages.ts';
import { evaluateRules } from '../../../src/notifications/rule-evaluation.ts';

const WALLET = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';

function rule(kind: AlertRuleKind, threshold: bigint, extra: Partial<AlertRule> = {}): AlertRule {
  const at = new Date(0);
  return { id: `r-${kind}`, ownerId: 'o', walletId: WALLET, kind, threshold, currency: 'NGN', timeZone: kind === 'DAILY_SPEND_ABOVE' ? 'UTC' : null, armed: true, spendDay: null, spent: 0n, createdAt: at, updatedAt: at, ...extra };
}

function balance(available: bigint, walletId = WALLET): EventDraft {
  const text = available.toString();
  return { type: 'BALANCE', walletId, data: { walletId, currency: 'NGN', available: text, ledger: text, pending: '0' } };
}

function txn(amount: bigint, direction: 'DEBIT' | 'CREDIT', status: 'PENDING' | 'SUCCESS' | 'FAILED', previousStatus: 'PENDING' | 'SUCCESS' | null = null): EventDraft {
  const at = new Date(0).toISOString();
  return {
    type: 'TRANSACTION',
    walletId: WALLET,
    data: { id: 't', walletId: WALLET, direction, type: 'PAYMENT', amount: amount.toString(), currency: 'NGN', status, previousStatus, counterparty: null, description: null, reversalReason: null, createdAt: at, updatedAt: at },
  };
}

const NOON = new Date('2026-12-06T12:00:00Z');

describe('BALANCE_BELOW', () => {
  it('fires on the drop below the line, stays quiet while below, re-arms at or above it', () => {
    const below = rule('BALANCE_BELOW', 100n);
    const rules = new Map([[WALLET, [below]]]);
    const drafts = [balance(150n), balance(99n), balance(50n), balance(100n), balance(99n)];
    const { firings, changed } = evaluateRules(rules, drafts, NOON);
    expect(firings.map((f) => [f.cause, f.value])).toEqual([
      [drafts[1], 99n],
      [drafts[4], 99n],
    ]);
    expect(below.armed).toBe(false);
    expect(changed).toEqual([below]);
  });

  it('a disarmed rule neither fires nor changes while the balance stays below', () => {
    const below = rule('BALANCE_BELOW', 100n, { armed: false });
    const { firings, changed } = evaluateRules(new Map([[WALLET, [below]]]), [balance(10n), balance(5n)], NOON);
    expect(firings).toEqual([]);
    expect(changed).toEqual([]);
  });

  it('looks only at its own wallet', () => {
    const { firings } = evaluateRules(new Map([[WALLET, [rule('BALANCE_BELOW', 100n)]]]), [balance(1n, OTHER)], NOON);
    expect(firings).toEqual([]);
  });
});

describe('TRANSACTION_ABOVE', () => {
  it('fires for each new posting strictly above the line, in either direction, and not when one settles', () => {
    const above = rule('TRANSACTION_ABOVE', 1_000n);
    const drafts = [txn(1_000n, 'DEBIT', 'PENDING'), txn(1_001n, 'DEBIT', 'PENDING'), txn(5_000n, 'CREDIT', 'SUCCESS'), txn(5_000n, 'DEBIT', 'SUCCESS', 'PENDING')];
    const { firings, changed } = evaluateRules(new Map([[WALLET, [above]]]), drafts, NOON);
    expect(firings.map((f) => f.cause)).toEqual([drafts[1], drafts[2]]);
    expect(changed).toEqual([]);
  });
});

describe('DAILY_SPEND_ABOVE', () => {
  it('adds settled debits only (posted settled, or settled later) and fires once when the day passes the budget', () => {
    const daily = rule('DAILY_SPEND_ABOVE', 1_000n);
    const drafts = [
      txn(600n, 'DEBIT', 'PENDING'), // not settled: not spent
      txn(600n, 'DEBIT', 'SUCCESS', 'PENDING'), // settled now: 600
      txn(400n, 'DEBIT', 'SUCCESS'), // 1,000: at the budget, not above
      txn(900n, 'CREDIT', 'SUCCESS'), // a credit is not spending
      txn(1n, 'DEBIT', 'SUCCESS'), // 1,001: fires
      txn(500n, 'DEBIT', 'SUCCESS'), // 1,501: already above, quiet
    ];
    const { firings } = evaluateRules(new Map([[WALLET, [daily]]]), drafts, NOON);
    expect(firings.map((f) => [f.cause, f.value])).toEqual([[drafts[4], 1_001n]]);
    expect(daily.spent).toBe(1_501n);
    expect(daily.spendDay).toBe('2026-12-06');
  });

  it("counts days in the rule's zone and starts each day from nothing", () => {
    const daily = rule('DAILY_SPEND_ABOVE', 100n, { timeZone: 'Africa/Lagos', spendDay: '2026-12-06', spent: 90n });
    const rules = new Map([[WALLET, [daily]]]);
    // 23:30 UTC on the 6th is 00:30 on the 7th in Lagos (UTC+1): a new day.
    const { firings } = evaluateRules(rules, [txn(50n, 'DEBIT', 'SUCCESS')], new Date('2026-12-06T23:30:00Z'));
    expect(firings).toEqual([]);
    expect([daily.spendDay, daily.spent]).toEqual(['2026-12-07', 50n]);
    const next = evaluateRules(rules, [txn(51n, 'DEBIT', 'SUCCESS')], new Date('2026-12-07T10:00:00Z'));
    expect(next.firings.map((f) => f.value)).toEqual([101n]);
  });
});

describe('displayAmount', () => {
  it('writes minor units with the currency’s own decimals, exactly at any size', () => {
    expect(displayAmount(123_456_789n, 'NGN')).toBe('1,234,567.89 NGN');
    expect(displayAmount(5n, 'USD')).toBe('0.05 USD');
    expect(displayAmount(1500n, 'JPY')).toBe('1,500 JPY');
    expect(displayAmount(9_223_372_036_854_775_807n, 'USD')).toBe('92,233,720,368,547,758.07 USD');
    expect(displayAmount(-250n, 'NGN')).toBe('-2.50 NGN');
  });
});
