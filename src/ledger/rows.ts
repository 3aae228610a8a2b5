/** Row ↔ domain mapping and the locked reads the writers share. */
import { eq } from 'drizzle-orm';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { Transaction, Wallet } from '../domain/ledger-types.ts';
import { transactions, wallets } from '../db/schema.ts';
import type { Database, Tx } from '../db/client.ts';

type Reader = Database | Tx;

/** Reads a wallet, optionally locking its row; NOT_FOUND when absent. */
export async function loadWallet(db: Reader, id: string, lock = false): Promise<Wallet & { ruleCount: number }> {
  const query = db.select().from(wallets).where(eq(wallets.id, id));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw new DomainError(ErrorCode.NOT_FOUND, `wallet ${id} does not exist`, { walletId: id });
  return row;
}

/** Reads a transaction, optionally locking its row; NOT_FOUND when absent. */
export async function loadTransaction(db: Reader, id: string, lock = false): Promise<Transaction> {
  const query = db.select().from(transactions).where(eq(transactions.id, id));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw new DomainError(ErrorCode.NOT_FOUND, `transaction ${id} does not exist`, { transactionId: id });
  return toTransaction(row);
}

/** Drops the storage-only `position` column. */
export function toTransaction(row: typeof transactions.$inferSelect): Transaction {
  const { position: _position, ...txn } = row;
  return txn;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` can name a row (ids are UUIDs). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/**
 * Ids are UUIDs; anything else can't name a row. Checking first turns a malformed id
 * into NOT_FOUND instead of a database cast error (which would be masked as internal).
 */
export function assertUuid(id: string, what: 'wallet' | 'transaction'): void {
  if (!isUuid(id)) {
    throw new DomainError(ErrorCode.NOT_FOUND, `${what} ${id} does not exist`, { [`${what}Id`]: id });
  }
}
