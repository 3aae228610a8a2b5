/** The words of a notification: a short title and one sentence, as a phone shows them. */
import type { NotificationKind, TransactionEventData } from '../domain/events.ts';

const MINOR_DIGITS = new Map<string, number>();

/** How many minor-unit digits `currency` has (2 for USD, 0 for JPY), from the runtime's ICU data. */
function minorDigits(currency: string): number {
  let digits = MINOR_DIGITS.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    MINOR_DIGITS.set(currency, digits);
  }
  return digits;
}

/**
 * An amount in minor units written for people: `12,345.67 NGN`. Done on the digits, not
 * through a float, so it is exact at any size.
 */
export function displayAmount(minor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  const negative = minor < 0n;
  const text = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits ? `.${text.slice(text.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction} ${currency}`;
}

/** What a notification says. */
export interface NotificationText {
  title: string;
  body: string;
}

function describeTransaction(txn: TransactionEventData): string {
  const what = `${txn.direction === 'DEBIT' ? 'debit' : 'credit'} of ${displayAmount(BigInt(txn.amount), txn.currency)}`;
  return txn.counterparty ? `${what} (${txn.counterparty})` : what;
}

/** The text of a fraud flag's notification. */
export function fraudText(txn: TransactionEventData, score: number, reason: string): NotificationText {
  return { title: 'Possible fraud', body: `A ${describeTransaction(txn)} was flagged (risk ${score}/100): ${reason}` };
}

/** The text of a fired rule's notification; `value` is what crossed the line (see rule evaluation). */
export function ruleText(kind: Exclude<NotificationKind, 'FRAUD_FLAG'>, threshold: bigint, currency: string, value: bigint, txn: TransactionEventData | null): NotificationText {
  const line = displayAmount(threshold, currency);
  switch (kind) {
    case 'BALANCE_BELOW':
      return { title: 'Low balance', body: `Your available balance is ${displayAmount(value, currency)}, below ${line}.` };
    case 'TRANSACTION_ABOVE':
      return { title: 'Large transaction', body: `A ${txn ? describeTransaction(txn) : displayAmount(value, currency)} is above ${line}.` };
    case 'DAILY_SPEND_ABOVE':
      return { title: 'Daily budget passed', body: `You have spent ${displayAmount(value, currency)} today, above your budget of ${line}.` };
  }
}
