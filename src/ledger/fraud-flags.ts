/**
 * Fraud flags: a risk service's verdict on a transaction, appended to the owner's log as a
 * FRAUD event with the notification it makes, in one transaction.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { fraudFlags } from '../db/schema.ts';
import { badInput } from '../domain/errors.ts';
import type { EventDraft, TransactionEventData } from '../domain/events.ts';
import type { Transaction } from '../domain/ledger-types.ts';
import { recordNotifications } from '../notifications/inbox.ts';
import { fraudText } from '../notifications/messages.ts';
import { transactionDraft } from './event-drafts.ts';
import { requiredText } from './input-rules.ts';
import { assertUuid, loadTransaction } from './rows.ts';

/** What a risk service says of a transaction. */
export interface FraudFlagInput {
  transactionId: string;
  /** 0 to 100. */
  score: number;
  reason: string;
  /** The flagging token's subject. */
  flaggedBy: string;
}

/** A stored flag, with the transaction as it stood when flagged. */
export interface FraudFlag {
  id: string;
  transaction: Transaction;
  score: number;
  reason: string;
  flaggedBy: string;
  createdAt: Date;
  /** True when this exact flag had been raised before and nothing new was appended. */
  replayed: boolean;
}

/** Checks a flag's input (no database access); BAD_USER_INPUT or NOT_FOUND. */
export function checkFlag(input: FraudFlagInput): FraudFlagInput {
  assertUuid(input.transactionId, 'transaction');
  if (!Number.isInteger(input.score) || input.score < 0 || input.score > 100) throw badInput('score must be an integer from 0 to 100', 'score');
  return { ...input, reason: requiredText(input.reason, 'reason') };
}

/**
 * Raises the flag inside `tx`: the FRAUD event and its notification's event for the
 * transaction's owner. The same flag sent again (same transaction, service, score and
 * reason, as a retry would) returns the first and appends nothing.
 */
export async function raiseFlag(tx: Tx, input: FraudFlagInput, now: Date): Promise<{ flag: FraudFlag; ownerId: string; drafts: EventDraft[] }> {
  const txn = await loadTransaction(tx, input.transactionId);
  const requestHash = createHash('sha256').update(JSON.stringify([input.score, input.reason])).digest('hex');
  const id = randomUUID();
  const eventId = randomUUID();
  const [inserted] = await tx
    .insert(fraudFlags)
    .values({ id, transactionId: txn.id, ownerId: txn.ownerId, walletId: txn.walletId, score: input.score, reason: input.reason, flaggedBy: input.flaggedBy, requestHash, eventId, createdAt: now })
    .onConflictDoNothing()
    .returning();
  if (!inserted) {
    const [earlier] = await tx
      .select()
      .from(fraudFlags)
      .where(and(eq(fraudFlags.transactionId, txn.id), eq(fraudFlags.flaggedBy, input.flaggedBy), eq(fraudFlags.requestHash, requestHash)));
    const flag = { id: earlier!.id, transaction: txn, score: earlier!.score, reason: earlier!.reason, flaggedBy: earlier!.flaggedBy, createdAt: earlier!.createdAt, replayed: true };
    return { flag, ownerId: txn.ownerId, drafts: [] };
  }
  const snapshot = transactionDraft(txn, null).data as TransactionEventData;
  const fraud: EventDraft = {
    eventId,
    type: 'FRAUD',
    walletId: txn.walletId,
    data: { walletId: txn.walletId, currency: txn.currency, flagId: id, transaction: snapshot, score: input.score, reason: input.reason, flaggedBy: input.flaggedBy },
  };
  const text = fraudText(snapshot, input.score, input.reason);
  const [notification] = await recordNotifications(tx, [
    {
      currency: txn.currency,
      notification: {
        id: randomUUID(),
        ownerId: txn.ownerId,
        walletId: txn.walletId,
        kind: 'FRAUD_FLAG',
        title: text.title,
        body: text.body,
        causeEventId: eventId,
        ruleId: null,
        transactionId: txn.id,
        createdAt: now.toISOString(),
        readAt: null,
      },
    },
  ]);
  const flag = { id, transaction: txn, score: input.score, reason: input.reason, flaggedBy: input.flaggedBy, createdAt: now, replayed: false };
  return { flag, ownerId: txn.ownerId, drafts: [fraud, notification!] };
}
