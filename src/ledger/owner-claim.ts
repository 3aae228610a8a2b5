/** An owner's tenant is fixed with its first wallet; later wallets must come from the same tenant. */
import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { owners } from '../db/schema.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';

/**
 * Inside the wallet's transaction: creates `ownerId` in `tenant`, or checks that it is
 * there already. Two tenants racing for a new owner id queue on its row: the first to
 * commit keeps it, the other is refused (FORBIDDEN, the same answer as for an owner that was
 * always the other tenant's, so the refusal says nothing about who has it).
 */
export async function claimOwner(tx: Tx, ownerId: string, tenant: string): Promise<void> {
  await tx.execute(sql`insert into ${owners} (owner_id, tenant_id) values (${ownerId}, ${tenant}) on conflict (owner_id) do nothing`);
  const [row] = await tx.select({ tenant: owners.tenantId }).from(owners).where(eq(owners.ownerId, ownerId));
  if (row?.tenant !== tenant) throw new DomainError(ErrorCode.FORBIDDEN, `owner ${ownerId} is not in tenant ${tenant}`, { reason: 'tenant', tenant });
}
