/** Builds the event payloads for a change: the full new state, never a diff. */
import { available } from '../domain/balance.ts';
import type { EventDraft, WalletStatusChange } from '../domain/events.ts';
import type { Transaction, TransactionStatus, Wallet } from '../domain/ledger-types.ts';
import { formatMoney } from '../domain/money.ts';

export function transactionDraft(txn: Transaction, previousStatus: TransactionStatus | null): EventDraft {
  return {
    type: 'TRANSACTION',
    walletId: txn.walletId,
    data: {
      id: txn.id,
      walletId: txn.walletId,
      direction: txn.direction,
      type: txn.type,
      amount: formatMoney(txn.amount),
      currency: txn.currency,
      status: txn.status,
      previousStatus,
      counterparty: txn.counterparty,
      description: txn.description,
      reversalReason: txn.reversalReason,
      createdAt: txn.createdAt.toISOString(),
      updatedAt: txn.updatedAt.toISOString(),
    },
  };
}

export function balanceDraft(wallet: Wallet): EventDraft {
  return {
    type: 'BALANCE',
    walletId: wallet.id,
    data: {
      walletId: wallet.id,
      currency: wallet.currency,
      available: formatMoney(available(wallet)),
      ledger: formatMoney(wallet.ledger),
      pending: formatMoney(wallet.pending),
    },
  };
}

export function walletStatusDraft(wallet: Wallet, change: WalletStatusChange, reason: string | null): EventDraft {
  return {
    type: 'WALLET_STATUS',
    walletId: wallet.id,
    data: { walletId: wallet.id, change, status: wallet.status, currency: wallet.currency, reason },
  };
}
