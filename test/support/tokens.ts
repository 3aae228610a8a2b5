import { mintToken } from '../../src/auth/mint.ts';
import type { Role } from '../../src/domain/principal.ts';

/** The HS256 secret every test server is configured with. */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** A valid token for `subject` with `role`. */
export function token(subject: string, role: Role = 'user', ttlSeconds = 3600): Promise<string> {
  return mintToken(TEST_SECRET, { subject, role, ttlSeconds });
}

/** A `service` token of `tenant`. */
export function tenantToken(subject: string, tenant: string): Promise<string> {
  return mintToken(TEST_SECRET, { subject, role: 'service', ttlSeconds: 3600, tenant });
}
