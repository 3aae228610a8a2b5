/**
 * Posting many transactions in one database transaction with a constant number of round
 * trips: keys are claimed, wallets locked, rows inserted and balances saved with one
 * statement each, whatever the batch size. The result is exactly what posting the items
 * one after another would give (same balances, same events in the same order), or, when
 * any item is refused, nothing at all.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys, wallets } from '../db/schema.ts';
import { applyDelta, assertWalletAcceptsPostings, balanceDelta } from '../domain/balance.ts';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { EventDraft } from '../domain/events.ts';
import { DIRECTION_OF_TYPE, type Direction, type Transaction, type TransactionType, type Wallet } from '../domain/ledger-types.ts';
import { balanceDraft, transactionDraft } from './event-drafts.ts';
import { rowsOf, type Tx } from '../db/client.ts';
import { inJsonList, insertJsonRows, jsonRecordset, type Column } from '../db/bulk-insert.ts';
import { optionalText, requiredText } from './input-rules.ts';
import { assertUuid, loadTransaction } from './rows.ts';
import { rulesOfWallets } from '../notifications/alert-rule-store.ts';
import type { AlertRule } from '../domain/alert-rules.ts';
import { fireRules } from '../notifications/rule-firing.ts';

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

/** One posting with the producer it is posted for (idempotency keys are scoped to it). */
export interface Posting {
  input: PostTransactionInput;
  caller: string;
}

/** A posting whose input has been checked and normalised. */
export interface CheckedPosting {
  walletId: string;
  direction: Direction;
  type: TransactionType;
  amount: bigint;
  status: 'PENDING' | 'SUCCESS';
  counterparty: string | null;
  description: string | null;
  key: string;
  caller: string;
  requestHash: string;
}

const TRANSACTION_COLUMNS: readonly Column[] = [
  ['id', 'uuid'],
  ['wallet_id', 'uuid'],
  ['owner_id', 'text'],
  ['direction', 'text'],
  ['type', 'text'],
  ['amount', 'bigint'],
  ['currency', 'text'],
  ['status', 'text'],
  ['counterparty', 'text'],
  ['description', 'text'],
  ['reversal_reason', 'text'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
];

const BALANCE_COLUMNS: readonly Column[] = [
  ['id', 'uuid'],
  ['ledger', 'bigint'],
  ['pending', 'bigint'],
  ['updated_at', 'timestamptz'],
];

const KEY_COLUMNS: readonly Column[] = [
  ['principal', 'text'],
  ['key', 'text'],
  ['request_hash', 'text'],
  ['transaction_id', 'uuid'],
  ['created_at', 'timestamptz'],
];

/** One item of a batch was refused; nothing of the batch was written. */
export class PostingRefused extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`posting ${index} was refused`);
  }
}

/** The refusal of a batch item as producers see it: the item's position in message and `index`. */
export function itemError(refusal: PostingRefused): unknown {
  const { error, index } = refusal;
  if (!(error instanceof DomainError)) return error;
  return new DomainError(error.code, `inputs[${index}]: ${error.message}`, { ...error.details, index });
}

/** Checks one input (no database access); throws BAD_USER_INPUT or NOT_FOUND. */
export function checkPosting({ input, caller }: Posting): CheckedPosting {
  const key = requiredText(input.idempotencyKey, 'idempotencyKey');
  const counterparty = optionalText(input.counterparty, 'counterparty');
  const description = optionalText(input.description, 'description');
  const status = input.status ?? 'PENDING';
  if (input.amount <= 0n) throw badInput('amount must be greater than zero', 'amount');
  assertUuid(input.walletId, 'wallet');
  const required = DIRECTION_OF_TYPE[input.type];
  if (required && input.direction !== required) throw badInput(`a ${input.type} is a ${required}, not a ${input.direction}`, 'direction');
  const requestHash = createHash('sha256')
    .update(JSON.stringify([input.walletId, input.direction, input.type, input.amount.toString(), status, counterparty, description]))
    .digest('hex');
  return { walletId: input.walletId, direction: input.direction, type: input.type, amount: input.amount, status, counterparty, description, key, caller, requestHash };
}

/** A posting's outcome in a group: its result, or its refusal (a {@link DomainError}). */
export type PostingOutcome = PostResult | { refused: DomainError };

/**
 * Applies checked postings inside `tx` (the caller appends the events it returns).
 * Returns one outcome per posting and the event drafts per owner, in posting order.
 *
 * How a refused item is handled depends on `mode`: `all-or-nothing` (a batch) throws
 * {@link PostingRefused} naming the first refused item; `each-alone` (group commit) answers
 * that item with its refusal, writes nothing of it (its claimed key is released), and
 * carries on with the rest in the same transaction.
 *
 * Statements that do not wait on each other's answers are sent together (postgres.js
 * pipelines what is issued at once on a transaction's connection): the key claims with the
 * wallet locks, then every write. The writes are left in flight as `written`, for the
 * caller to send the event append behind them and await both: a group commit costs two
 * round trips besides BEGIN and COMMIT, however many statements it runs.
 */
export async function applyPostings(
  tx: Tx,
  postings: readonly CheckedPosting[],
  now: Date,
  mode: 'all-or-nothing' | 'each-alone' = 'all-or-nothing',
): Promise<{ results: PostingOutcome[]; drafts: Map<string, EventDraft[]>; written: Promise<unknown> }> {
  const ids = postings.map(() => randomUUID());
  // A retry's wallet is locked too, though it is not written: harmless, and it saves a round trip.
  const [claimed, locked] = await Promise.all([claimKeys(tx, postings, ids, now), lockWallets(tx, postings.map((p) => p.walletId))]);
  // Alert rules, read behind the locks, so they hold the state the wallets' last posting
  // left; only for wallets that have some (the locked rows say), so a posting to a wallet
  // without rules pays nothing for them.
  const watched = [...locked.values()].filter((wallet) => wallet.ruleCount > 0).map((wallet) => wallet.id);
  const rules = watched.length ? await rulesOfWallets(tx, watched) : new Map<string, AlertRule[]>();

  const results: PostingOutcome[] = [];
  const released: number[] = [];
  const drafts = new Map<string, EventDraft[]>();
  const created: Transaction[] = [];
  const changed = new Set<string>();
  for (const [index, posting] of postings.entries()) {
    try {
      if (!claimed.has(index)) {
        results.push(await replay(tx, posting));
        continue;
      }
      const wallet = locked.get(posting.walletId);
      if (!wallet) throw new DomainError(ErrorCode.NOT_FOUND, `wallet ${posting.walletId} does not exist`, { walletId: posting.walletId });
      assertWalletAcceptsPostings(wallet);
      const next = applyDelta(wallet, balanceDelta(posting.direction, posting.amount, null, posting.status));
      const txn = newTransaction(ids[index]!, posting, wallet, now);
      created.push(txn);
      results.push({ transaction: txn, replayed: false });
      const ownerDrafts = drafts.get(wallet.ownerId) ?? [];
      ownerDrafts.push(transactionDraft(txn, null));
      if (next.ledger !== wallet.ledger || next.pending !== wallet.pending) {
        Object.assign(wallet, next, { updatedAt: now });
        changed.add(wallet.id);
        ownerDrafts.push(balanceDraft({ ...wallet }));
      }
      drafts.set(wallet.ownerId, ownerDrafts);
    } catch (error) {
      if (mode === 'all-or-nothing' || !(error instanceof DomainError)) throw new PostingRefused(index, error);
      results.push({ refused: error });
      if (claimed.has(index)) released.push(index);
    }
  }
  const writes: Promise<unknown>[] = [releaseKeys(tx, released.map((i) => postings[i]!))];
  if (created.length > 0) {
    const at = now.toISOString();
    const rows = created.map((t) => ({
      id: t.id,
      wallet_id: t.walletId,
      owner_id: t.ownerId,
      direction: t.direction,
      type: t.type,
      amount: t.amount.toString(),
      currency: t.currency,
      status: t.status,
      counterparty: t.counterparty,
      description: t.description,
      reversal_reason: null,
      created_at: at,
      updated_at: at,
    }));
    writes.push(tx.execute(insertJsonRows('transactions', TRANSACTION_COLUMNS, rows)).then(() => undefined));
  }
  writes.push(saveBalances(tx, [...changed].map((id) => locked.get(id)!)));
  writes.push((await fireRules(tx, drafts, rules, now)).written);
  return { results, drafts, written: Promise.all(writes) };
}

function newTransaction(id: string, posting: CheckedPosting, wallet: Wallet, now: Date): Transaction {
  return {
    id,
    walletId: wallet.id,
    ownerId: wallet.ownerId,
    direction: posting.direction,
    type: posting.type,
    amount: posting.amount,
    currency: wallet.currency,
    status: posting.status,
    counterparty: posting.counterparty,
    description: posting.description,
    reversalReason: null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Claims every key in one statement; returns the indexes that were new (the rest are
 * retries). Keys are inserted in (principal, key) order, the same global order in every
 * transaction: two groups that share keys then wait for each other in one direction
 * only, and never deadlock.
 */
async function claimKeys(tx: Tx, postings: readonly CheckedPosting[], ids: readonly string[], now: Date): Promise<Set<number>> {
  const indexOf = new Map(postings.map((p, i) => [`${p.caller}\u0000${p.key}`, i]));
  const at = now.toISOString();
  const rows = postings.map((p, i) => ({ principal: p.caller, key: p.key, request_hash: p.requestHash, transaction_id: ids[i]!, created_at: at }));
  const result = await tx.execute(insertJsonRows('idempotency_keys', KEY_COLUMNS, rows, sql`on conflict do nothing returning principal, key`, 'principal, key'));
  return new Set(rowsOf<{ principal: string; key: string }>(result).map((row) => indexOf.get(`${row.principal}\u0000${row.key}`)!));
}

/** Gives back the keys of refused items, so a corrected retry with the same key is a new posting. */
async function releaseKeys(tx: Tx, refused: readonly CheckedPosting[]): Promise<void> {
  if (refused.length === 0) return;
  const rows = refused.map((p) => ({ principal: p.caller, key: p.key }));
  await tx.execute(
    sql`delete from ${idempotencyKeys} k using ${jsonRecordset('r', [['principal', 'text'], ['key', 'text']], rows)} where k.principal = r.principal and k.key = r.key`,
  );
}

/** Locks the wallets in id order (so concurrent batches never deadlock) and returns them by id. */
async function lockWallets(tx: Tx, ids: readonly string[]): Promise<Map<string, Wallet & { ruleCount: number }>> {
  const unique = [...new Set(ids)].sort();
  if (unique.length === 0) return new Map();
  const rows = await tx.select().from(wallets).where(inJsonList(wallets.id, unique, 'uuid')).orderBy(wallets.id).for('update');
  return new Map(rows.map((row) => [row.id, row]));
}

/** Stores the final balances of every changed wallet in one statement. */
async function saveBalances(tx: Tx, changed: readonly Wallet[]): Promise<void> {
  if (changed.length === 0) return;
  const values = jsonRecordset(
    'v',
    BALANCE_COLUMNS,
    changed.map((w) => ({ id: w.id, ledger: w.ledger.toString(), pending: w.pending.toString(), updated_at: w.updatedAt.toISOString() })),
  );
  await tx.execute(sql`update ${wallets} set ledger = v.ledger, pending = v.pending, updated_at = v.updated_at from ${values} where ${wallets.id} = v.id`);
}

/** An idempotent retry: the original transaction, or IDEMPOTENCY_CONFLICT if the input differs. */
async function replay(tx: Tx, posting: CheckedPosting): Promise<PostResult> {
  const [existing] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, posting.caller), eq(idempotencyKeys.key, posting.key)));
  if (!existing || existing.requestHash !== posting.requestHash) {
    throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, `idempotencyKey "${posting.key}" was already used with a different input`, {
      idempotencyKey: posting.key,
    });
  }
  return { transaction: await loadTransaction(tx, existing.transactionId), replayed: true };
}
