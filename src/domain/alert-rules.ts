/** Alert rules: what a user asks to be told about a wallet, and the state that fires them once per crossing. */
import { badInput } from './errors.ts';

export type AlertRuleKind = 'BALANCE_BELOW' | 'TRANSACTION_ABOVE' | 'DAILY_SPEND_ABOVE';
export const ALERT_RULE_KINDS: readonly AlertRuleKind[] = ['BALANCE_BELOW', 'TRANSACTION_ABOVE', 'DAILY_SPEND_ABOVE'];

/** A rule as stored: its line and the state its evaluation moves. */
export interface AlertRule {
  id: string;
  ownerId: string;
  walletId: string;
  kind: AlertRuleKind;
  /** The line, in the wallet's minor units: a balance, a posting's amount, or a day's settled debits. */
  threshold: bigint;
  currency: string;
  /** DAILY_SPEND_ABOVE: the IANA zone whose midnight starts a day; null for the other kinds. */
  timeZone: string | null;
  /** BALANCE_BELOW: true while available is at or above the line (the next drop below fires). */
  armed: boolean;
  /** DAILY_SPEND_ABOVE: the day `spent` counts, as YYYY-MM-DD in the rule's zone. */
  spendDay: string | null;
  spent: bigint;
  createdAt: Date;
  updatedAt: Date;
}

const DAY_FORMATS = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = DAY_FORMATS.get(timeZone);
  if (!format) {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    DAY_FORMATS.set(timeZone, format);
  }
  return format;
}

/** The calendar day `at` falls on in `timeZone`, as YYYY-MM-DD. */
export function dayIn(timeZone: string, at: Date): string {
  return dayFormat(timeZone).format(at);
}

/** An IANA time zone the runtime knows (such as Africa/Lagos or UTC), in its canonical spelling; BAD_USER_INPUT otherwise. */
export function parseTimeZone(value: string, field = 'timeZone'): string {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw badInput(`${field} must be an IANA time zone such as Africa/Lagos or UTC (got "${value.slice(0, 64)}")`, field);
  }
}
