/**
 * Standard Webhooks signatures: `webhook-signature` carries `v1,<base64 HMAC-SHA256>` of
 * `"<webhook-id>.<webhook-timestamp>.<body>"`, one per secret in force, separated by
 * spaces, so a receiver holding either the old or the new secret verifies during a
 * rotation's overlap.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The prefix of secrets in the spec's format (the rest is the base64 key). */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, `whsec_`-prefixed base64. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The key bytes of a `whsec_` secret. */
function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** A signer for a set of secrets; keys are decoded once, not per delivery. */
export class Signer {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map(keyOf);
  }

  /** The `webhook-signature` header for one message. */
  sign(id: string, timestampSeconds: number, body: string): string {
    const content = `${id}.${timestampSeconds}.${body}`;
    return this.keys.map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`).join(' ');
  }
}
