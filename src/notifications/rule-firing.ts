/**
 * Alert rules inside a posting's transaction: evaluate the rules of the wallets the
 * change touched, write their state, and store a notification for each firing, its
 * NOTIFICATION event right after the event that caused it.
 */
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/client.ts';
import type { AlertRule } from '../domain/alert-rules.ts';
import type { EventDraft, NotificationData, TransactionEventData } from '../domain/events.ts';
import { ruleText } from './messages.ts';
import { recordNotifications, type NewNotification } from './inbox.ts';
import { evaluateRules, type Firing } from './rule-evaluation.ts';
import { saveRuleStates } from './alert-rule-store.ts';

/**
 * Runs the rules of `rulesByWallet` over the change's `drafts` (per owner, in order),
 * putting each notification's event into its owner's list right after its cause, and
 * returns the rule-state write still in flight. Costs nothing when no touched wallet has a
 * rule (the lists are left as they are); one more round trip only when a rule fires (the
 * unread counts the events carry must be read back).
 */
export async function fireRules(tx: Tx, drafts: ReadonlyMap<string, EventDraft[]>, rulesByWallet: ReadonlyMap<string, readonly AlertRule[]>, now: Date): Promise<{ written: Promise<unknown> }> {
  if (rulesByWallet.size === 0) return { written: Promise.resolve() };
  const firings: Firing[] = [];
  const changed: AlertRule[] = [];
  for (const list of drafts.values()) {
    const evaluation = evaluateRules(rulesByWallet, list, now);
    firings.push(...evaluation.firings);
    changed.push(...evaluation.changed);
  }
  const written = saveRuleStates(tx, changed, now);
  // An object, not the promise itself: an async function would wait for the write before answering.
  if (firings.length === 0) return { written };
  const created: NewNotification[] = firings.map((firing) => notificationOf(firing, drafts.get(firing.rule.ownerId) ?? [], now));
  const [made] = await Promise.all([recordNotifications(tx, created), written]);
  // Each notification's event goes right after its cause (causes were given ids above).
  firings.forEach((firing, i) => {
    const list = drafts.get(firing.rule.ownerId)!;
    list.splice(list.indexOf(firing.cause) + 1, 0, made[i]!);
  });
  return { written };
}

function notificationOf(firing: Firing, ownerDrafts: readonly EventDraft[], now: Date): NewNotification {
  const { rule, cause, value } = firing;
  cause.eventId ??= randomUUID();
  const txn = transactionBehind(cause, ownerDrafts);
  const text = ruleText(rule.kind, rule.threshold, rule.currency, value, txn);
  const notification: NotificationData = {
    id: randomUUID(),
    ownerId: rule.ownerId,
    walletId: rule.walletId,
    kind: rule.kind,
    title: text.title,
    body: text.body,
    causeEventId: cause.eventId,
    ruleId: rule.id,
    transactionId: txn?.id ?? null,
    createdAt: now.toISOString(),
    readAt: null,
  };
  return { notification, currency: rule.currency };
}

/** The transaction an event is about: its own data, or, for a balance, the transaction drafted just before it on that wallet. */
function transactionBehind(cause: EventDraft, ownerDrafts: readonly EventDraft[]): TransactionEventData | null {
  if (cause.type === 'TRANSACTION') return cause.data;
  for (let i = ownerDrafts.indexOf(cause) - 1; i >= 0; i--) {
    const draft = ownerDrafts[i]!;
    if (draft.walletId !== cause.walletId) continue;
    return draft.type === 'TRANSACTION' ? draft.data : null;
  }
  return null;
}
