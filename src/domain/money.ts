import { badInput } from './errors.ts';

/**
 * Money is an integer number of minor units (kobo, cents) held as a bigint end to end,
 * so amounts stay exact beyond 2^53. The database column is int8, hence this ceiling.
 */
export const MAX_MONEY = 2n ** 63n - 1n;

const DIGITS = /^-?\d+$/;

/**
 * Parses a client-supplied amount: a string of digits (optional leading `-`) or a safe
 * integer. Floats, exponents, blanks and numbers beyond 2^53 given as Int are refused,
 * because any of them would silently lose precision.
 */
export function parseMoney(value: unknown, field = 'amount'): bigint {
  if (typeof value === 'bigint') return checkRange(value, field);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw badInput(`${field} must be an integer number of minor units; pass large values as a string of digits`, field);
    }
    return checkRange(BigInt(value), field);
  }
  if (typeof value === 'string' && DIGITS.test(value)) return checkRange(BigInt(value), field);
  throw badInput(`${field} must be an integer number of minor units, as a string of digits or an Int`, field);
}

function checkRange(value: bigint, field: string): bigint {
  if (value > MAX_MONEY || value < -MAX_MONEY) throw badInput(`${field} is out of range (at most ${MAX_MONEY})`, field);
  return value;
}

/** Parses an amount that must be strictly positive (a posting, a filter bound). */
export function parsePositiveMoney(value: unknown, field = 'amount'): bigint {
  const amount = parseMoney(value, field);
  if (amount <= 0n) throw badInput(`${field} must be greater than zero`, field);
  return amount;
}

/** The wire form of an amount: its decimal digits. */
export function formatMoney(value: bigint): string {
  return value.toString();
}
