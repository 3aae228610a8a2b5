/**
 * The state changes of the ledger (DESIGN.md §3–§4). Each public method is one database
 * transaction that changes rows and appends their events; events are published only
 * after the commit, so nobody sees a change that could still roll back.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { idempotencyKeys, transactions, wallets } from '../db/schema.ts';
import { applyDelta, assertWalletAcceptsPostings, balanceDelta } from '../domain/balance.ts';
import { parseCurrency } from '../domain/currency.ts';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { EventDraft, EventPublisher, WalletEvent } from '../domain/events.ts';
import type { Direction, Transaction, TransactionType, Wallet } from '../domain/ledger-types.ts';
import { balanceDraft, transactionDraft, walletStatusDraft } from './event-drafts.ts';
import { appendEvents, lockOwner, type Tx } from './event-log-writer.ts';
import { optionalText, requiredText } from './input-rules.ts';
import { assertUuid, loadTransaction, loadWallet, toTransaction } from './rows.ts';

/** What a producer posts. `amount` is already an exact bigint. */
export interface PostTransactionInput {
  walletId: string;
  direction: Direction;
  type: TransactionType;
  amount: bigint;
  /** PENDING (default) holds or awaits funds; SUCCESS posts a settled transaction at once. */
  status?: 'PENDING' | 'SUCCESS';
  counterparty?: string | null;
  description?: string | null;
  idempotencyKey: string;
}

/** The outcome of a post: `replayed` is true when an idempotent retry returned the original. */
export interface PostResult {
  transaction: Transaction;
  replayed: boolean;
}

interface Change<T> {
  result: T;
  drafts: EventDraft[];
}

export class Ledger {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly publisher: EventPublisher,
    private readonly clock: () => Date = () => new Date(),
    /** Told how many events each commit appended (metrics). */
    private readonly onAppended: (count: number) => void = () => {},
  ) {}

  /** Opens an ACTIVE wallet with zero balances; appends WalletStatusEvent CREATED. */
  async createWallet(input: { ownerId: string; currency: string }): Promise<Wallet> {
    const ownerId = requiredText(input.ownerId, 'ownerId');
    const currency = parseCurrency(input.currency);
    return this.commit(ownerId, async (tx, now) => {
      const wallet: Wallet = { id: randomUUID(), ownerId, currency, status: 'ACTIVE', ledger: 0n, pending: 0n, createdAt: now, updatedAt: now };
      await tx.insert(wallets).values(wallet);
      return { result: wallet, drafts: [walletStatusDraft(wallet, 'CREATED', null)] };
    });
  }

  /**
   * Posts a transaction. The idempotency key is scoped to `caller` (the producer's token
   * subject): the same key with the same input returns the original transaction and
   * appends nothing; with a different input it is IDEMPOTENCY_CONFLICT.
   */
  async postTransaction(input: PostTransactionInput, caller: string): Promise<PostResult> {
    const key = requiredText(input.idempotencyKey, 'idempotencyKey');
    const counterparty = optionalText(input.counterparty, 'counterparty');
    const description = optionalText(input.description, 'description');
    const status = input.status ?? 'PENDING';
    if (input.amount <= 0n) throw badInput('amount must be greater than zero', 'amount');
    const requestHash = hashRequest([input.walletId, input.direction, input.type, input.amount.toString(), status, counterparty, description]);
    const { ownerId } = await this.findWallet(input.walletId);

    return this.commit(ownerId, async (tx, now) => {
      const id = randomUUID();
      const claimed = await tx
        .insert(idempotencyKeys)
        .values({ principal: caller, key, requestHash, transactionId: id, createdAt: now })
        .onConflictDoNothing()
        .returning({ id: idempotencyKeys.transactionId });
      if (claimed.length === 0) return { result: await this.replay(tx, caller, key, requestHash), drafts: [] };

      const wallet = await loadWallet(tx, input.walletId, true);
      assertWalletAcceptsPostings(wallet);
      const next = applyDelta(wallet, balanceDelta(input.direction, input.amount, null, status));
      const txn: Transaction = {
        id,
        walletId: wallet.id,
        ownerId,
        direction: input.direction,
        type: input.type,
        amount: input.amount,
        currency: wallet.currency,
        status,
        counterparty,
        description,
        reversalReason: null,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(transactions).values(txn);
      const drafts = [transactionDraft(txn, null)];
      const balanceEvent = await this.saveBalances(tx, wallet, next, now);
      if (balanceEvent) drafts.push(balanceEvent);
      return { result: { transaction: txn, replayed: false }, drafts };
    });
  }

  /** Settles a PENDING transaction as SUCCESS or FAILED. Repeating the same settlement is a no-op. */
  async settleTransaction(id: string, status: 'SUCCESS' | 'FAILED'): Promise<Transaction> {
    return this.transition(id, status, null);
  }

  /** Reverses a SUCCESS transaction. Repeating it is a no-op. */
  async reverseTransaction(id: string, reason: string): Promise<Transaction> {
    return this.transition(id, 'REVERSED', requiredText(reason, 'reason'));
  }

  /** Freezes an ACTIVE wallet: postings are refused, events still flow. Freezing a frozen wallet is a no-op. */
  async freezeWallet(id: string, reason: string): Promise<Wallet> {
    const why = requiredText(reason, 'reason');
    return this.changeStatus(id, (wallet) => {
      if (wallet.status === 'FROZEN') return null;
      return { status: 'FROZEN', change: 'FROZEN', reason: why };
    });
  }

  /** Returns a FROZEN wallet to ACTIVE. Unfreezing an active wallet is a no-op. */
  async unfreezeWallet(id: string): Promise<Wallet> {
    return this.changeStatus(id, (wallet) => {
      if (wallet.status === 'ACTIVE') return null;
      return { status: 'ACTIVE', change: 'UNFROZEN', reason: null };
    });
  }

  /** Closes a wallet for good; it must hold no funds and no pending debits. */
  async closeWallet(id: string, reason: string): Promise<Wallet> {
    const why = requiredText(reason, 'reason');
    return this.changeStatus(id, (wallet) => {
      if (wallet.ledger !== 0n || wallet.pending !== 0n) {
        throw new DomainError(ErrorCode.INVALID_TRANSITION, `wallet ${id} still holds funds; settle and withdraw them before closing`, {
          walletId: id,
        });
      }
      return { status: 'CLOSED', change: 'CLOSED', reason: why };
    });
  }

  private async transition(id: string, to: 'SUCCESS' | 'FAILED' | 'REVERSED', reason: string | null): Promise<Transaction> {
    assertUuid(id, 'transaction');
    const { ownerId } = await loadTransaction(this.db, id);
    return this.commit(ownerId, async (tx, now) => {
      const current = await loadTransaction(tx, id, true);
      if (current.status === to) return { result: current, drafts: [] };
      const wallet = await loadWallet(tx, current.walletId, true);
      assertWalletAcceptsPostings(wallet);
      const next = applyDelta(wallet, balanceDelta(current.direction, current.amount, current.status, to));
      const [row] = await tx
        .update(transactions)
        .set({ status: to, updatedAt: now, ...(reason ? { reversalReason: reason } : {}) })
        .where(eq(transactions.id, id))
        .returning();
      const updated = toTransaction(row!);
      const drafts = [transactionDraft(updated, current.status)];
      const balanceEvent = await this.saveBalances(tx, wallet, next, now);
      if (balanceEvent) drafts.push(balanceEvent);
      return { result: updated, drafts };
    });
  }

  private async changeStatus(
    id: string,
    decide: (wallet: Wallet) => { status: Wallet['status']; change: 'FROZEN' | 'UNFROZEN' | 'CLOSED'; reason: string | null } | null,
  ): Promise<Wallet> {
    const { ownerId } = await this.findWallet(id);
    return this.commit(ownerId, async (tx, now) => {
      const wallet = await loadWallet(tx, id, true);
      if (wallet.status === 'CLOSED') {
        throw new DomainError(ErrorCode.WALLET_CLOSED, `wallet ${id} is closed`, { walletId: id });
      }
      const decision = decide(wallet);
      if (!decision) return { result: wallet, drafts: [] };
      const updated: Wallet = { ...wallet, status: decision.status, updatedAt: now };
      await tx.update(wallets).set({ status: decision.status, updatedAt: now }).where(eq(wallets.id, id));
      return { result: updated, drafts: [walletStatusDraft(updated, decision.change, decision.reason)] };
    });
  }

  /** Stores new balances; returns the BalanceEvent draft, or null when nothing moved. */
  private async saveBalances(tx: Tx, wallet: Wallet, next: { ledger: bigint; pending: bigint }, now: Date): Promise<EventDraft | null> {
    if (next.ledger === wallet.ledger && next.pending === wallet.pending) return null;
    await tx.update(wallets).set({ ledger: next.ledger, pending: next.pending, updatedAt: now }).where(eq(wallets.id, wallet.id));
    return balanceDraft({ ...wallet, ...next, updatedAt: now });
  }

  private async replay(tx: Tx, caller: string, key: string, requestHash: string): Promise<PostResult> {
    const [existing] = await tx
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.principal, caller), eq(idempotencyKeys.key, key)));
    if (!existing || existing.requestHash !== requestHash) {
      throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, `idempotencyKey "${key}" was already used with a different input`, {
        idempotencyKey: key,
      });
    }
    return { transaction: await loadTransaction(tx, existing.transactionId), replayed: true };
  }

  private async findWallet(id: string): Promise<Wallet> {
    assertUuid(id, 'wallet');
    return loadWallet(this.db, id);
  }

  /**
   * Runs `work` in one transaction holding the owner's log lock, appends the events it
   * drafted, commits, then publishes. A failed publish loses nothing: the events are in
   * the log, and subscribers repair gaps from it.
   */
  /** Resolves when no write is in progress (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async commit<T>(ownerId: string, work: (tx: Tx, now: Date) => Promise<Change<T>>): Promise<T> {
    this.inFlight++;
    try {
      return await this.commitNow(ownerId, work);
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async commitNow<T>(ownerId: string, work: (tx: Tx, now: Date) => Promise<Change<T>>): Promise<T> {
    const { result, appended } = await this.db.transaction(async (tx) => {
      const last = await lockOwner(tx, ownerId);
      const now = this.clock();
      const change = await work(tx, now);
      const appended: WalletEvent[] = await appendEvents(tx, ownerId, last, change.drafts, now);
      return { result: change.result, appended };
    });
    if (appended.length > 0) {
      this.onAppended(appended.length);
      await this.publisher.publish(ownerId, appended);
    }
    return result;
  }
}

/** A fixed-order list of the fields that define a request, so equal inputs hash equally. */
function hashRequest(fields: ReadonlyArray<string | null>): string {
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
