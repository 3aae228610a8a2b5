/**
 * Currencies: ISO 4217 alphabetic codes in current use, as the runtime's ICU data (CLDR)
 * lists them (`Intl.supportedValuesOf`), a kept list rather than one typed by hand.
 */
import { badInput } from './errors.ts';

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Validates an ISO 4217 code in current use (upper-case, such as NGN or USD). */
export function parseCurrency(value: string, field = 'currency'): string {
  if (!CURRENCIES.has(value)) throw badInput(`${field} must be an ISO 4217 currency code in use, such as NGN or USD (got "${value.slice(0, 16)}")`, field);
  return value;
}
