/**
 * Which tenant each owner belongs to, and which owner each wallet: the facts the access
 * rules need to keep a service token inside its tenant. Neither ever changes once set (an
 * owner's tenant is fixed with its first wallet, a wallet never changes owner), so both are
 * cached: a producer posting to the same wallets pays for the lookups once.
 */
import { inArray } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { owners, wallets } from '../db/schema.ts';
import { isUuid } from './rows.ts';

/** Entries each cache keeps (the oldest goes first). */
const CACHE_SIZE = 50_000;

export class Tenancy {
  private readonly tenants = new Map<string, string>();
  private readonly walletOwners = new Map<string, string>();

  constructor(private readonly db: Database) {}

  /** The tenant of each of `ownerIds` that has one (an owner gets its tenant with its first wallet). */
  tenantsOf(ownerIds: readonly string[]): Promise<Map<string, string>> {
    return cachedLookup(this.tenants, ownerIds, async (missing) =>
      (await this.db.select({ key: owners.ownerId, value: owners.tenantId }).from(owners).where(inArray(owners.ownerId, missing))),
    );
  }

  /** The owner of each of `walletIds` that exists. */
  ownersOfWallets(walletIds: readonly string[]): Promise<Map<string, string>> {
    // Only a UUID can name a wallet; anything else is simply not found.
    return cachedLookup(this.walletOwners, walletIds.filter(isUuid), async (missing) =>
      (await this.db.select({ key: wallets.id, value: wallets.ownerId }).from(wallets).where(inArray(wallets.id, missing))),
    );
  }
}

/** Looks `keys` up in `cache`, asks `load` for the ones it lacks (once, together), and remembers what it found. */
async function cachedLookup(cache: Map<string, string>, keys: readonly string[], load: (missing: string[]) => Promise<{ key: string; value: string }[]>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const missing = new Set<string>();
  for (const key of keys) {
    const value = cache.get(key);
    if (value !== undefined) found.set(key, value);
    else missing.add(key);
  }
  if (missing.size) {
    for (const row of await load([...missing])) {
      found.set(row.key, row.value);
      remember(cache, row.key, row.value);
    }
  }
  return found;
}

function remember(cache: Map<string, string>, key: string, value: string): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}
