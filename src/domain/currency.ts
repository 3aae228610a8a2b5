import { badInput } from './errors.ts';

const ISO_4217 = /^[A-Z]{3}$/;

/** Validates an ISO 4217 alphabetic code (upper-case, three letters). */
export function parseCurrency(value: string, field = 'currency'): string {
  if (!ISO_4217.test(value)) throw badInput(`${field} must be an ISO 4217 code such as NGN or USD`, field);
  return value;
}
