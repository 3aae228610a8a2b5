/** Read-side queries over wallets and transactions, for the polling API. */
import { and, asc, desc, eq, gte, inArray, lt, lte, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { readsOn, type Reads } from '../db/replicas.ts';
import { transactions, wallets } from '../db/schema.ts';
import { badInput } from '../domain/errors.ts';
import type { Direction, Transaction, TransactionStatus, TransactionType, Wallet } from '../domain/ledger-types.ts';
import { assertUuid, loadTransaction, loadWallet, toTransaction } from './rows.ts';

/** Narrows a transaction list; every field is optional and they combine with AND. */
export interface TransactionFilter {
  status?: readonly TransactionStatus[] | null;
  direction?: Direction | null;
  type?: readonly TransactionType[] | null;
  minAmount?: bigint | null;
  maxAmount?: bigint | null;
}

/** One page of a keyset-paginated list, newest first. */
export interface TransactionPage {
  items: { cursor: string; node: Transaction }[];
  hasNextPage: boolean;
}

export class LedgerQueries {
  /** Pages go through `reads` (a replica when there are some); lookups of one row stay on the primary, where they cost less than a replica's check. */
  constructor(
    private readonly db: Database,
    private readonly reads: Reads = readsOn(db),
  ) {}

  /** A wallet by id; NOT_FOUND when absent or malformed. */
  async wallet(id: string): Promise<Wallet> {
    assertUuid(id, 'wallet');
    return loadWallet(this.db, id);
  }

  /** All wallets of one owner, oldest first. */
  async walletsOf(ownerId: string): Promise<Wallet[]> {
    return this.db.select().from(wallets).where(eq(wallets.ownerId, ownerId)).orderBy(asc(wallets.createdAt), asc(wallets.id));
  }

  /** A transaction by id; NOT_FOUND when absent or malformed. */
  async transaction(id: string): Promise<Transaction> {
    assertUuid(id, 'transaction');
    return loadTransaction(this.db, id);
  }

  /** A page of a wallet's transactions, newest first, after the cursor `after`. */
  async transactionsOf(walletId: string, filter: TransactionFilter, first: number, after: string | null): Promise<TransactionPage> {
    const conditions: SQL[] = [eq(transactions.walletId, walletId)];
    if (after !== null) conditions.push(lt(transactions.position, decodeTransactionCursor(after)));
    if (filter.status?.length) conditions.push(inArray(transactions.status, [...filter.status]));
    if (filter.type?.length) conditions.push(inArray(transactions.type, [...filter.type]));
    if (filter.direction) conditions.push(eq(transactions.direction, filter.direction));
    if (filter.minAmount != null) conditions.push(gte(transactions.amount, filter.minAmount));
    if (filter.maxAmount != null) conditions.push(lte(transactions.amount, filter.maxAmount));
    const rows = await this.reads.run((db) =>
      db
        .select()
        .from(transactions)
        .where(and(...conditions))
        .orderBy(desc(transactions.position))
        .limit(first + 1),
    );
    return {
      items: rows.slice(0, first).map((row) => ({ cursor: encodeTransactionCursor(row.position), node: toTransaction(row) })),
      hasNextPage: rows.length > first,
    };
  }
}

function encodeTransactionCursor(position: number): string {
  return Buffer.from(`t1:${position}`, 'utf8').toString('base64url');
}

function decodeTransactionCursor(cursor: string): number {
  const match = /^t1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput('after is not a transactions cursor issued by this server', 'after');
  return Number(match[1]);
}
