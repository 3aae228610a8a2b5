/**
 * The push tables as the delivery side uses them: leases over devices (a fair share per
 * live instance, as webhook endpoints are shared), the devices due a push, and a device's
 * position moved, only while the lease is still the caller's.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { rowsOf, type Database, type Tx } from '../db/client.ts';
import { pushDeadLetters, pushDevices, pushInstances } from '../db/schema.ts';

export type DeviceRow = typeof pushDevices.$inferSelect;

/** A device whose owner's log is ahead of it, with the owner's head. */
export interface DueDevice {
  device: DeviceRow;
  head: number;
}

/** Where a device's step left it. */
export interface DeviceProgress {
  sequence: number;
  attempts: number;
  retryAt: Date | null;
  lastError: string | null;
  pushedAt: Date | null;
}

export class PushStore {
  constructor(private readonly db: Database) {}

  /**
   * Renews `holder`'s leases and takes free ones (never held, or expired with a dead
   * holder) up to its share: devices ÷ live instances, rounded up. Returns how many it
   * holds and how many of those are past its share.
   */
  async leaseRound(holder: string, ttlMs: number): Promise<{ held: number; excess: number }> {
    const ttl = sql`${`${ttlMs} milliseconds`}::interval`;
    await this.db.execute(sql`insert into ${pushInstances} (holder, seen_at) values (${holder}, now()) on conflict (holder) do update set seen_at = now()`);
    await this.db.execute(sql`delete from ${pushInstances} where seen_at < now() - ${ttl} * 10`);
    const renewed = rowsOf<{ n: number | string }>(
      await this.db.execute(sql`with r as (update ${pushDevices} set lease_expires_at = now() + ${ttl} where lease_holder = ${holder} returning 1) select count(*) as n from r`),
    );
    const held = Number(renewed[0]!.n);
    const counts = rowsOf<{ total: number | string; live: number | string }>(
      await this.db.execute(sql`select (select count(*) from ${pushDevices}) as total, (select count(*) from ${pushInstances} where seen_at > now() - ${ttl}) as live`),
    )[0]!;
    const share = Math.ceil(Number(counts.total) / Math.max(1, Number(counts.live)));
    if (held >= share) return { held, excess: held - share };
    const taken = rowsOf<{ n: number | string }>(
      await this.db.execute(
        sql`with free as (
              select id from ${pushDevices} where lease_holder is null or lease_expires_at < now() order by created_at limit ${share - held} for update skip locked
            ), t as (
              update ${pushDevices} d set lease_holder = ${holder}, lease_expires_at = now() + ${ttl} from free where d.id = free.id returning 1
            ) select count(*) as n from t`,
      ),
    );
    return { held: held + Number(taken[0]!.n), excess: 0 };
  }

  /** Gives back `count` of `holder`'s leases (another instance joined), the most recently created first. */
  async releaseSome(holder: string, count: number): Promise<void> {
    if (count <= 0) return;
    await this.db.execute(
      sql`update ${pushDevices} set lease_holder = null, lease_expires_at = null
          where id in (select id from ${pushDevices} where lease_holder = ${holder} order by created_at desc limit ${count})`,
    );
  }

  /** Lets every lease of `holder` go at once (a clean shutdown). */
  async releaseAll(holder: string): Promise<void> {
    await this.db.update(pushDevices).set({ leaseHolder: null, leaseExpiresAt: null }).where(eq(pushDevices.leaseHolder, holder));
    await this.db.delete(pushInstances).where(eq(pushInstances.holder, holder));
  }

  /** Up to `limit` of `holder`'s devices whose owner's log is ahead of them and that are not waiting for a retry. */
  async due(holder: string, limit: number): Promise<DueDevice[]> {
    const rows = rowsOf<DeviceRowSql & { head: number | string }>(
      await this.db.execute(
        sql`select d.*, o.last_sequence as head from ${pushDevices} d join owners o on o.owner_id = d.owner_id
            where d.lease_holder = ${holder} and d.lease_expires_at > now() and o.last_sequence > d.sequence
              and (d.retry_at is null or d.retry_at <= now())
            order by d.retry_at nulls first limit ${limit}`,
      ),
    );
    return rows.map((row) => ({ device: fromSql(row), head: Number(row.head) }));
  }

  /** The soonest retry among `holder`'s devices, if any waits. */
  async nextRetry(holder: string): Promise<Date | null> {
    const [row] = rowsOf<{ at: string | Date | null }>(await this.db.execute(sql`select min(retry_at) as at from ${pushDevices} where lease_holder = ${holder} and retry_at is not null`));
    return row?.at ? new Date(row.at) : null;
  }

  /** Records a device's step, only while `holder` still holds it; false when the lease was lost. */
  async progress(deviceId: string, holder: string, to: DeviceProgress, deadLetters: readonly { eventId: string; sequence: number; attempts: number; error: string | null }[]): Promise<boolean> {
    const move = (db: Database | Tx) =>
      db
        .update(pushDevices)
        .set({
          sequence: to.sequence,
          attempts: to.attempts,
          retryAt: to.retryAt,
          lastError: to.lastError,
          ...(to.pushedAt ? { lastPushedAt: to.pushedAt } : {}),
          updatedAt: new Date(),
        })
        .where(and(eq(pushDevices.id, deviceId), eq(pushDevices.leaseHolder, holder)))
        .returning({ ownerId: pushDevices.ownerId });
    // Most steps record a position only: one statement, no transaction around it.
    if (deadLetters.length === 0) return (await move(this.db)).length > 0;
    return this.db.transaction(async (tx) => {
      const [updated] = await move(tx);
      if (!updated) return false;
      await tx.insert(pushDeadLetters).values(
        deadLetters.map((letter) => ({ id: randomUUID(), deviceId, ownerId: updated.ownerId, eventId: letter.eventId, sequence: letter.sequence, attempts: letter.attempts, lastError: letter.error, createdAt: new Date() })),
      );
      return true;
    });
  }

  /** Removes a device the push service says is gone. */
  async remove(deviceId: string): Promise<void> {
    await this.db.delete(pushDevices).where(eq(pushDevices.id, deviceId));
  }
}

type DeviceRowSql = {
  id: string;
  owner_id: string;
  tenant_id: string;
  platform: DeviceRow['platform'];
  address: string;
  p256dh: string | null;
  auth: string | null;
  types: DeviceRow['types'] | string;
  label: string | null;
  sequence: number | string;
  attempts: number;
  retry_at: string | Date | null;
  last_error: string | null;
  last_pushed_at: string | Date | null;
  lease_holder: string | null;
  lease_expires_at: string | Date | null;
  created_at: string | Date;
  updated_at: string | Date;
};

const date = (value: string | Date | null): Date | null => (value === null ? null : new Date(value));

function fromSql(row: DeviceRowSql): DeviceRow {
  return {
    id: row.id,
    ownerId: row.owner_id,
    tenantId: row.tenant_id,
    platform: row.platform,
    address: row.address,
    p256dh: row.p256dh,
    auth: row.auth,
    types: typeof row.types === 'string' ? (JSON.parse(row.types) as DeviceRow['types']) : row.types,
    label: row.label,
    sequence: Number(row.sequence),
    attempts: row.attempts,
    retryAt: date(row.retry_at),
    lastError: row.last_error,
    lastPushedAt: date(row.last_pushed_at),
    leaseHolder: row.lease_holder,
    leaseExpiresAt: date(row.lease_expires_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** Deletes up to `batch` dead letters older than `before`; returns how many went. */
export async function pruneDeadLetters(db: Database, before: Date, batch = 5_000): Promise<number> {
  const doomed = db.select({ id: pushDeadLetters.id }).from(pushDeadLetters).where(lt(pushDeadLetters.createdAt, before)).limit(batch);
  const gone = await db.delete(pushDeadLetters).where(sql`${pushDeadLetters.id} in (${doomed})`).returning({ id: pushDeadLetters.id });
  return gone.length;
}
