/**
 * Development convenience: with no key configured, the server generates an HS256 secret
 * and keeps it in the data directory, so `npm run token` (another process) signs tokens
 * the server accepts, and tokens survive a restart. Production never gets here (config
 * refuses to start without a key).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'dev-jwt-secret';

/** Where the generated secret lives, or null for an in-memory data directory. */
export function devSecretPath(dataDir: string): string | null {
  return dataDir.startsWith('memory://') ? null : join(dataDir, FILE);
}

/** Reads the stored development secret, creating it on first use. */
export async function loadOrCreateDevSecret(dataDir: string): Promise<{ secret: string; path: string | null; created: boolean }> {
  const path = devSecretPath(dataDir);
  if (!path) return { secret: randomBytes(32).toString('base64url'), path: null, created: true };
  try {
    return { secret: (await readFile(path, 'utf8')).trim(), path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(dataDir, { recursive: true });
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, path, created: true };
  } catch {
    return { secret: (await readFile(path, 'utf8')).trim(), path, created: false };
  }
}
