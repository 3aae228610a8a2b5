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
  async tenantsOf(ownerIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing = new Set<string>();
    for (const id of ownerIds) {
      const tenant = this.tenants.get(id);
      if (tenant !== undefined) found.set(id, tenant);
      else missing.add(id);
    }
    if (missing.size) {
      const rows = await this.db.select({ id: owners.ownerId, tenant: owners.tenantId }).from(owners).where(inArray(owners.ownerId, [...missing]));
      for (const row of rows) {
        found.set(row.id, row.tenant);
        remember(this.tenants, row.id, row.tenant);
      }
    }
    return found;
  }

  /** The owner of each of `walletIds` that exists. */
  async ownersOfWallets(walletIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing = new Set<string>();
    for (const id of walletIds) {
      const owner = this.walletOwners.get(id);
      if (owner !== undefined) found.set(id, owner);
      else if (isUuid(id)) missing.add(id);
    }
    if (missing.size) {
      const rows = await this.db.select({ id: wallets.id, owner: wallets.ownerId }).from(wallets).where(inArray(wallets.id, [...missing]));
      for (const row of rows) {
        found.set(row.id, row.owner);
        remember(this.walletOwners, row.id, row.owner);
      }
    }
    return found;
  }
}

function remember(cache: Map<string, string>, key: string, value: string): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}
