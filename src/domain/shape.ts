/**
 * Small predicates for checking untrusted JSON (messages read from the backbone): each
 * says whether a value has the expected shape, never throws, and allocates nothing.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole number within JavaScript's exact range, at least `min`. */
export function isWhole(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** A non-empty string of at most `max` characters. */
export function isText(value: unknown, max = 1_024): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** {@link isText}, or null. */
export function isOptionalText(value: unknown, max = 1_024): value is string | null {
  return value === null || isText(value, max);
}

/** An exact amount in minor units as JSON carries it: digits with an optional leading `-`. */
export function isMoneyText(value: unknown): value is string {
  return typeof value === 'string' && /^-?\d{1,40}$/.test(value);
}

/** One of `allowed`. */
export function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

/** An array whose every item passes `check`, of at most `max` items. */
export function isListOf<T>(value: unknown, check: (item: unknown) => item is T, max = 10_000): value is T[] {
  return Array.isArray(value) && value.length <= max && value.every(check);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its usual text form. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
