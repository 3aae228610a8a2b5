/**
 * The state changes of the ledger (docs/ARCHITECTURE.md, "The data path"). Each public method is one database
 * transaction that changes rows and appends their events; events are published only
 * after the commit, so nobody sees a change that could still roll back.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database, Tx } from '../db/client.ts';
import { transactions, wallets } from '../db/schema.ts';
import { applyDelta, assertWalletAcceptsPostings, balanceDelta } from '../domain/balance.ts';
import { parseCurrency } from '../domain/currency.ts';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { EventDraft, EventPublisher, NotificationKind } from '../domain/events.ts';
import type { Transaction, Wallet } from '../domain/ledger-types.ts';
import { balanceDraft, transactionDraft, walletStatusDraft } from './event-drafts.ts';
import { appendEvents, type Appended } from './event-log-writer.ts';
import { claimOwner } from './owner-claim.ts';
import { GroupCommit } from './group-commit.ts';
import { requiredText } from './input-rules.ts';
import { applyPostings, checkPosting, itemError, PostingRefused, type CheckedPosting, type PostingOutcome, type PostResult, type PostTransactionInput } from './postings.ts';
import { assertUuid, isUuid, loadTransaction, loadWallet, toTransaction } from './rows.ts';
import { checkFlag, raiseFlag, type FraudFlag, type FraudFlagInput } from './fraud-flags.ts';
import { markRead, type ReadChange } from '../notifications/inbox.ts';
import { rulesOfWallets } from '../notifications/alert-rule-store.ts';
import { fireRules } from '../notifications/rule-firing.ts';

export type { PostResult, PostTransactionInput } from './postings.ts';

interface Change<T> {
  result: T;
  /** Event drafts per owner, in the order they happened. */
  drafts: ReadonlyMap<string, readonly EventDraft[]>;
  /** Writes still in flight, which the event append is pipelined behind. */
  written?: Promise<unknown>;
}

/** How the ledger writes; every field has a default. */
/** How single postings are grouped into transactions. */
export interface GroupCommitSettings {
  /** Most concurrent single postings written in one transaction. */
  maxGroup: number;
  /** Groups written at the same time, a further one only while a full group waits; at most the database pool size (1 on PGlite). */
  maxConcurrentGroups: number;
  /** Single postings waiting for a group before new ones are refused (RATE_LIMITED). */
  maxWaitingPostings: number;
}

export interface LedgerOptions {
  clock?: () => Date;
  /** Told how many events each commit appended (metrics). */
  onAppended?: (count: number) => void;
  /** Group commit, from GROUP_COMMIT_MAX, GROUP_COMMIT_CONCURRENCY and GROUP_COMMIT_QUEUE_LIMIT. */
  groupCommit: GroupCommitSettings;
  /** Told how each database transaction ended (metrics). */
  onTransaction?: (outcome: 'committed' | 'rolled_back') => void;
  /** Told of each notification a committed transaction made (metrics). */
  onNotified?: (kind: NotificationKind) => void;
}

export class Ledger {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly clock: () => Date;
  private readonly onAppended: (count: number) => void;
  private readonly onTransaction: (outcome: 'committed' | 'rolled_back') => void;
  private readonly onNotified: (kind: NotificationKind) => void;
  private readonly group: GroupCommit;

  constructor(
    private readonly db: Database,
    private readonly publisher: EventPublisher,
    options: LedgerOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.onAppended = options.onAppended ?? (() => {});
    this.onTransaction = options.onTransaction ?? (() => {});
    this.onNotified = options.onNotified ?? (() => {});
    this.group = new GroupCommit(
      (postings) => this.writeGroup(postings),
      options.groupCommit.maxGroup,
      options.groupCommit.maxConcurrentGroups,
      options.groupCommit.maxWaitingPostings,
    );
  }

  /** Opens an ACTIVE wallet with zero balances; appends WalletStatusEvent CREATED. */
  async createWallet(input: { ownerId: string; currency: string }, tenant: string): Promise<Wallet> {
    const ownerId = requiredText(input.ownerId, 'ownerId');
    const currency = parseCurrency(input.currency);
    return this.commitOne(async (tx, now) => {
      await claimOwner(tx, ownerId, tenant);
      const wallet: Wallet = { id: randomUUID(), ownerId, currency, status: 'ACTIVE', ledger: 0n, pending: 0n, createdAt: now, updatedAt: now };
      await tx.insert(wallets).values(wallet);
      return { result: wallet, ownerId, drafts: [walletStatusDraft(wallet, 'CREATED', null)] };
    });
  }

  /**
   * Posts a transaction. The idempotency key is scoped to `caller` (the producer's token
   * subject): the same key with the same input returns the original transaction and
   * appends nothing; with a different input it is IDEMPOTENCY_CONFLICT. Concurrent posts
   * are written together (group commit); each still gets its own outcome.
   */
  async postTransaction(input: PostTransactionInput, caller: string): Promise<PostResult> {
    return this.group.post(checkPosting({ input, caller }));
  }

  /**
   * Posts a batch in one database transaction: all of it, in order, or, when any item is
   * refused, none of it (the error names the item in `index`). Keys follow the rules of
   * {@link postTransaction}; a key may appear only once in a batch.
   */
  async postTransactions(inputs: readonly PostTransactionInput[], caller: string): Promise<PostResult[]> {
    if (inputs.length === 0) return [];
    const checked = inputs.map((input, index) => {
      try {
        return checkPosting({ input, caller });
      } catch (error) {
        throw itemError(new PostingRefused(index, error));
      }
    });
    const seen = new Map<string, number>();
    checked.forEach((posting, index) => {
      const first = seen.get(posting.key);
      if (first !== undefined) throw badInput(`inputs[${index}]: idempotencyKey "${posting.key}" is also used by inputs[${first}]; each posting needs its own key`, 'idempotencyKey');
      seen.set(posting.key, index);
    });
    try {
      return (await this.writePostings(checked, 'all-or-nothing')) as PostResult[];
    } catch (error) {
      throw error instanceof PostingRefused ? itemError(error) : error;
    }
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

  /** Flags a transaction as possible fraud (see {@link raiseFlag}); the input is checked before any database access. */
  async flagTransaction(input: FraudFlagInput): Promise<FraudFlag> {
    const checked = checkFlag(input);
    return this.commitOne(async (tx, now) => {
      const { flag, ownerId, drafts } = await raiseFlag(tx, checked, now);
      return { result: flag, ownerId, drafts };
    });
  }

  /**
   * Marks the owner's notifications read: those of `ids`, or every unread one when `ids` is
   * null. The change is one NOTIFICATION event per wallet concerned, so every device of the
   * owner moves its badge; notifications already read are passed over and make none.
   */
  async markNotificationsRead(ownerId: string, ids: readonly string[] | null): Promise<ReadChange> {
    const wanted = ids === null ? null : ids.filter(isUuid);
    return this.commitOne(async (tx, now) => {
      const change = await markRead(tx, ownerId, wanted, now);
      return { result: change, ownerId, drafts: change.drafts };
    });
  }

  private async transition(id: string, to: 'SUCCESS' | 'FAILED' | 'REVERSED', reason: string | null): Promise<Transaction> {
    assertUuid(id, 'transaction');
    return this.commitOne(async (tx, now) => {
      const current = await loadTransaction(tx, id, true);
      if (current.status === to) return { result: current, ownerId: current.ownerId, drafts: [] };
      const wallet = await loadWallet(tx, current.walletId, true);
      assertWalletAcceptsPostings(wallet);
      // The rules are read behind the wallet's lock, and only when it has some (see applyPostings).
      const rules = wallet.ruleCount > 0 ? await rulesOfWallets(tx, [wallet.id]) : new Map();
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
      await (await fireRules(tx, new Map([[current.ownerId, drafts]]), rules, now)).written;
      return { result: updated, ownerId: current.ownerId, drafts };
    });
  }

  private async changeStatus(
    id: string,
    decide: (wallet: Wallet) => { status: Wallet['status']; change: 'FROZEN' | 'UNFROZEN' | 'CLOSED'; reason: string | null } | null,
  ): Promise<Wallet> {
    assertUuid(id, 'wallet');
    return this.commitOne(async (tx, now) => {
      const wallet = await loadWallet(tx, id, true);
      if (wallet.status === 'CLOSED') {
        throw new DomainError(ErrorCode.WALLET_CLOSED, `wallet ${id} is closed`, { walletId: id });
      }
      const decision = decide(wallet);
      if (!decision) return { result: wallet, ownerId: wallet.ownerId, drafts: [] };
      const updated: Wallet = { ...wallet, status: decision.status, updatedAt: now };
      await tx.update(wallets).set({ status: decision.status, updatedAt: now }).where(eq(wallets.id, id));
      return { result: updated, ownerId: wallet.ownerId, drafts: [walletStatusDraft(updated, decision.change, decision.reason)] };
    });
  }

  /** Stores new balances; returns the BalanceEvent draft, or null when nothing moved. */
  private async saveBalances(tx: Tx, wallet: Wallet, next: { ledger: bigint; pending: bigint }, now: Date): Promise<EventDraft | null> {
    if (next.ledger === wallet.ledger && next.pending === wallet.pending) return null;
    await tx.update(wallets).set({ ledger: next.ledger, pending: next.pending, updatedAt: now }).where(eq(wallets.id, wallet.id));
    return balanceDraft({ ...wallet, ...next, updatedAt: now });
  }

  /** Resolves when no write is in progress (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes a group-commit group: each refused item is answered alone, the rest commit together. */
  private writeGroup(postings: readonly CheckedPosting[]): Promise<PostingOutcome[]> {
    return this.writePostings(postings, 'each-alone');
  }

  /** Writes checked postings in one transaction (see {@link applyPostings} for `mode`). */
  private writePostings(postings: readonly CheckedPosting[], mode: 'all-or-nothing' | 'each-alone'): Promise<PostingOutcome[]> {
    return this.commit(async (tx, now) => {
      const { results, drafts, written } = await applyPostings(tx, postings, now, mode);
      return { result: results, drafts, written };
    });
  }

  /** {@link commit} for a change of one owner's rows; `work` names the owner from the rows it locked. */
  private commitOne<T>(work: (tx: Tx, now: Date) => Promise<{ result: T; ownerId: string; drafts: EventDraft[] }>): Promise<T> {
    return this.commit(async (tx, now) => {
      const change = await work(tx, now);
      return { result: change.result, drafts: new Map([[change.ownerId, change.drafts]]) };
    });
  }

  /**
   * Runs `work` in one transaction, appends the events it drafted (taking the owners' log
   * locks last), commits, then publishes. A failed publish loses nothing: the events are
   * in the log, and subscribers repair gaps from it.
   */
  private async commit<T>(work: (tx: Tx, now: Date) => Promise<Change<T>>): Promise<T> {
    this.inFlight++;
    try {
      let written: { result: T; appended: Appended };
      try {
        written = await this.db.transaction(async (tx) => {
          const now = this.clock();
          const change = await work(tx, now);
          const [appended] = await Promise.all([appendEvents(tx, change.drafts, now), change.written]);
          return { result: change.result, appended };
        });
      } catch (error) {
        this.onTransaction('rolled_back');
        throw error;
      }
      this.onTransaction('committed');
      const { result, appended } = written;
      for (const [ownerId, events] of appended.events) {
        this.onAppended(events.length);
        for (const event of events) if (event.type === 'NOTIFICATION' && event.data.notification) this.onNotified(event.data.notification.kind);
        await this.publisher.publish(ownerId, events);
      }
      if (appended.tenants.size) await this.publisher.publishCommitWake?.([...appended.tenants], appended.txId);
      return result;
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
