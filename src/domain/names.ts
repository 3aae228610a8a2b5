import { badInput } from './errors.ts';

const MAX_CONSUMER_BYTES = 128;

/** Validates a durable consumer name (a device or service id chosen by the client). */
export function parseConsumer(value: string, field = 'consumer'): string {
  const name = value.trim();
  if (name === '') throw badInput(`${field} must not be empty`, field);
  if (Buffer.byteLength(name, 'utf8') > MAX_CONSUMER_BYTES) throw badInput(`${field} must be at most ${MAX_CONSUMER_BYTES} bytes`, field);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badInput(`${field} must not contain control characters`, field);
  return name;
}
