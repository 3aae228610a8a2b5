/**
 * Limits on free-text fields. They keep every event payload under 1 KB
 * whatever the characters, so they are counted in UTF-8 bytes, not characters.
 */
import { badInput } from '../domain/errors.ts';

export const TEXT_LIMITS = {
  ownerId: 128,
  counterparty: 128,
  description: 256,
  reason: 256,
  idempotencyKey: 128,
  tokenId: 256,
} as const;

/** Trims optional text; empty becomes null; too long or with control characters is refused. */
export function optionalText(value: string | null | undefined, field: keyof typeof TEXT_LIMITS): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  return checked(trimmed, field);
}

/** Like {@link optionalText}, but the value must be present. */
export function requiredText(value: string | null | undefined, field: keyof typeof TEXT_LIMITS): string {
  const text = optionalText(value, field);
  if (text === null) throw badInput(`${field} must not be empty`, field);
  return text;
}

function checked(value: string, field: keyof typeof TEXT_LIMITS): string {
  if (Buffer.byteLength(value, 'utf8') > TEXT_LIMITS[field]) {
    throw badInput(`${field} must be at most ${TEXT_LIMITS[field]} bytes`, field);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw badInput(`${field} must not contain control characters`, field);
  return value;
}
