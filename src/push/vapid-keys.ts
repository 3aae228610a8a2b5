/**
 * The server's VAPID keys: from configuration, or, on the embedded default with no keys
 * configured, generated once and kept in the data directory (as the development JWT
 * secret is), so browsers' subscriptions survive a restart. On PostgreSQL without keys
 * Web Push is off: instances must share one pair, which only configuration can give them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webPush from 'web-push';
import type { VapidKeys } from './web-push-sender.ts';

const FILE = 'dev-vapid-keys.json';

/** The keys to use, or null when Web Push is off. */
export async function vapidKeys(configured: { publicKey: string | null; privateKey: string | null; subject: string }, embedded: { dataDir: string } | null): Promise<VapidKeys | null> {
  if (configured.publicKey && configured.privateKey) return { publicKey: configured.publicKey, privateKey: configured.privateKey, subject: configured.subject };
  if (!embedded) return null;
  const pair = await storedPair(embedded.dataDir);
  return { ...pair, subject: configured.subject };
}

async function storedPair(dataDir: string): Promise<{ publicKey: string; privateKey: string }> {
  if (dataDir.startsWith('memory://')) return webPush.generateVAPIDKeys();
  const path = join(dataDir, FILE);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as { publicKey: string; privateKey: string };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = webPush.generateVAPIDKeys();
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx' fails if another process wrote it meanwhile; then read theirs.
    await writeFile(path, `${JSON.stringify(pair)}\n`, { mode: 0o600, flag: 'wx' });
    return pair;
  } catch {
    return JSON.parse(await readFile(path, 'utf8')) as { publicKey: string; privateKey: string };
  }
}
