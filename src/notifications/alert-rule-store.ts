/**
 * Alert rules as stored: created and deleted by their owner (or a service of the owner's
 * tenant), read inside a posting's transaction after its wallets are locked, and their
 * state written back in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { alertRules, wallets } from '../db/schema.ts';
import { rowsOf, type Database, type Tx } from '../db/client.ts';
import { inJsonList, jsonRecordset, type Column } from '../db/bulk-insert.ts';
import { parseTimeZone, type AlertRule, type AlertRuleKind } from '../domain/alert-rules.ts';
import { available } from '../domain/balance.ts';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import { MAX_MONEY } from '../domain/money.ts';
import { isUuid } from '../domain/shape.ts';
import { lockInbox } from './inbox-lock.ts';

/** What a caller asks for. `threshold` is in the wallet's minor units. */
export interface AlertRuleInput {
  walletId: string;
  kind: AlertRuleKind;
  threshold: bigint;
  /** DAILY_SPEND_ABOVE only: the zone whose days are counted; UTC when absent. */
  timeZone?: string | null;
}

const STATE_COLUMNS: readonly Column[] = [
  ['id', 'uuid'],
  ['armed', 'boolean'],
  ['spend_day', 'text'],
  ['spent', 'bigint'],
  ['updated_at', 'timestamptz'],
];

/** Alert rules: their API, bounded per owner. */
export class AlertRules {
  constructor(
    private readonly db: Database,
    /** Most rules one owner may have (`MAX_ALERT_RULES_PER_OWNER`). */
    private readonly maxPerOwner: number,
  ) {}

  /**
   * A new rule on a wallet. A BALANCE_BELOW rule made while the balance is already below
   * its line starts disarmed: it fires the next time the balance drops below after having
   * been back at or above it, not at once.
   */
  async create(input: AlertRuleInput, now: Date): Promise<AlertRule> {
    if (!isUuid(input.walletId)) throw new DomainError(ErrorCode.NOT_FOUND, `wallet ${input.walletId} does not exist`, { walletId: input.walletId });
    if (input.threshold < 0n || input.threshold > MAX_MONEY) throw badInput(`threshold must be between 0 and ${MAX_MONEY}`, 'threshold');
    if (input.kind !== 'BALANCE_BELOW' && input.threshold === 0n) throw badInput(`a ${input.kind} threshold must be greater than zero`, 'threshold');
    let timeZone: string | null = null;
    if (input.kind === 'DAILY_SPEND_ABOVE') timeZone = parseTimeZone(input.timeZone ?? 'UTC');
    else if (input.timeZone != null) throw badInput('timeZone applies only to DAILY_SPEND_ABOVE rules', 'timeZone');
    return this.db.transaction(async (tx) => {
      // The wallet's lock, as a posting takes it: the balance a new rule arms on cannot move under it.
      const [wallet] = await tx.select().from(wallets).where(eq(wallets.id, input.walletId)).for('update');
      if (!wallet) throw new DomainError(ErrorCode.NOT_FOUND, `wallet ${input.walletId} does not exist`, { walletId: input.walletId });
      await lockInbox(tx, wallet.ownerId);
      const [{ count }] = rowsOf<{ count: number | string }>(await tx.execute(sql`select count(*) as count from ${alertRules} where ${alertRules.ownerId} = ${wallet.ownerId}`)) as [{ count: number | string }];
      if (Number(count) >= this.maxPerOwner) {
        throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `owner ${wallet.ownerId} already has ${this.maxPerOwner} alert rules; delete one first`, { limit: this.maxPerOwner });
      }
      const rule: AlertRule = {
        id: randomUUID(),
        ownerId: wallet.ownerId,
        walletId: wallet.id,
        kind: input.kind,
        threshold: input.threshold,
        currency: wallet.currency,
        timeZone,
        armed: input.kind !== 'BALANCE_BELOW' || available(wallet) >= input.threshold,
        spendDay: null,
        spent: 0n,
        createdAt: now,
        updatedAt: now,
      };
      await Promise.all([tx.insert(alertRules).values(rule), tx.update(wallets).set({ ruleCount: sql`${wallets.ruleCount} + 1` }).where(eq(wallets.id, wallet.id))]);
      return rule;
    });
  }

  /** The owner's rules, oldest first, optionally of one wallet. */
  list(ownerId: string, walletId: string | null = null): Promise<AlertRule[]> {
    const where = walletId ? and(eq(alertRules.ownerId, ownerId), eq(alertRules.walletId, walletId)) : eq(alertRules.ownerId, ownerId);
    return this.db.select().from(alertRules).where(where).orderBy(asc(alertRules.createdAt), asc(alertRules.id));
  }

  /** One rule; NOT_FOUND when absent (the caller checks it may reach its owner). */
  async get(id: string): Promise<AlertRule> {
    const [rule] = isUuid(id) ? await this.db.select().from(alertRules).where(eq(alertRules.id, id)) : [];
    if (!rule) throw new DomainError(ErrorCode.NOT_FOUND, `alert rule ${id} does not exist`, { ruleId: id });
    return rule;
  }

  /** Deletes a rule and returns it as it was; NOT_FOUND when it is already gone. */
  async delete(id: string): Promise<AlertRule> {
    const rule = await this.get(id);
    return this.db.transaction(async (tx) => {
      // The wallet's lock first, as everything that changes its rules takes it.
      await tx.select({ id: wallets.id }).from(wallets).where(eq(wallets.id, rule.walletId)).for('update');
      const [gone] = await tx.delete(alertRules).where(eq(alertRules.id, id)).returning();
      if (!gone) throw new DomainError(ErrorCode.NOT_FOUND, `alert rule ${id} does not exist`, { ruleId: id });
      await tx.update(wallets).set({ ruleCount: sql`greatest(${wallets.ruleCount} - 1, 0)` }).where(eq(wallets.id, rule.walletId));
      return gone;
    });
  }
}

/**
 * The rules of `walletIds`, by wallet. Run after the wallets' rows are locked (in the same
 * transaction), so it reads the state the last posting to them left. Callers pass only
 * wallets whose `ruleCount` is above zero: most have none, and then no statement is run.
 */
export async function rulesOfWallets(tx: Tx, walletIds: readonly string[]): Promise<Map<string, AlertRule[]>> {
  const byWallet = new Map<string, AlertRule[]>();
  if (walletIds.length === 0) return byWallet;
  const rows = await tx.select().from(alertRules).where(inJsonList(alertRules.walletId, [...new Set(walletIds)], 'uuid'));
  for (const rule of rows) {
    const list = byWallet.get(rule.walletId) ?? [];
    list.push(rule);
    byWallet.set(rule.walletId, list);
  }
  return byWallet;
}

/** Writes the state of rules an evaluation moved, in one statement. */
export async function saveRuleStates(tx: Tx, changed: readonly AlertRule[], now: Date): Promise<void> {
  if (changed.length === 0) return;
  const at = now.toISOString();
  const rows = changed.map((rule) => ({ id: rule.id, armed: rule.armed, spend_day: rule.spendDay, spent: rule.spent.toString(), updated_at: at }));
  await tx.execute(
    sql`update ${alertRules} set armed = v.armed, spend_day = v.spend_day, spent = v.spent, updated_at = v.updated_at from ${jsonRecordset('v', STATE_COLUMNS, rows)} where ${alertRules.id} = v.id`,
  );
}
