/**
 * Which alert rules a change fires, and how their state moves: a pure function of the
 * rules and the events the change drafted, so the once-per-crossing rules can be read (and
 * tested) apart from any database.
 */
import { dayIn, type AlertRule } from '../domain/alert-rules.ts';
import type { EventDraft } from '../domain/events.ts';

/** A rule that fired on one drafted event. */
export interface Firing {
  rule: AlertRule;
  /** The drafted event that crossed the line (a BALANCE or TRANSACTION draft). */
  cause: EventDraft;
  /** What crossed: the balance's available, the posting's amount, or the day's settled debits. */
  value: bigint;
}

/** What evaluating a change gave: firings in the order of their causes, and the rules whose state moved. */
export interface Evaluation {
  firings: Firing[];
  changed: AlertRule[];
}

/**
 * Walks `drafts` (one owner's events of one change, in order) past the rules of their
 * wallets, moving each rule's state as the events move the wallet:
 *
 * - BALANCE_BELOW fires when available goes from at or above the line to below it, then
 *   stays quiet until available is back at or above it (it re-arms).
 * - TRANSACTION_ABOVE fires for every new posting whose amount is above the line.
 * - DAILY_SPEND_ABOVE adds each debit that becomes settled (posted as SUCCESS, or settled
 *   later) to the day it settles on in the rule's zone, and fires when that day's sum goes
 *   from at or below the budget to above it: once a day at most.
 *
 * The rules' objects are updated in place; `changed` lists those whose stored state must be
 * written.
 */
export function evaluateRules(rulesByWallet: ReadonlyMap<string, readonly AlertRule[]>, drafts: readonly EventDraft[], now: Date): Evaluation {
  const firings: Firing[] = [];
  const changed = new Set<AlertRule>();
  for (const draft of drafts) {
    const rules = rulesByWallet.get(draft.walletId);
    if (!rules?.length) continue;
    if (draft.type === 'BALANCE') {
      const availableNow = BigInt(draft.data.available);
      for (const rule of rules) {
        if (rule.kind !== 'BALANCE_BELOW') continue;
        if (rule.armed && availableNow < rule.threshold) {
          rule.armed = false;
          changed.add(rule);
          firings.push({ rule, cause: draft, value: availableNow });
        } else if (!rule.armed && availableNow >= rule.threshold) {
          rule.armed = true;
          changed.add(rule);
        }
      }
    } else if (draft.type === 'TRANSACTION') {
      const { amount, direction, status, previousStatus } = draft.data;
      const value = BigInt(amount);
      const created = previousStatus === null;
      const settledDebit = direction === 'DEBIT' && status === 'SUCCESS' && previousStatus !== 'SUCCESS';
      for (const rule of rules) {
        if (rule.kind === 'TRANSACTION_ABOVE' && created && value > rule.threshold) {
          firings.push({ rule, cause: draft, value });
        } else if (rule.kind === 'DAILY_SPEND_ABOVE' && settledDebit) {
          const day = dayIn(rule.timeZone ?? 'UTC', now);
          if (rule.spendDay !== day) {
            rule.spendDay = day;
            rule.spent = 0n;
          }
          const before = rule.spent;
          rule.spent += value;
          changed.add(rule);
          if (before <= rule.threshold && rule.spent > rule.threshold) firings.push({ rule, cause: draft, value: rule.spent });
        }
      }
    }
  }
  return { firings, changed: [...changed] };
}
