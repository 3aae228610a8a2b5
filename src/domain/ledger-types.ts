/** Lifecycle of a wallet. */
export type WalletStatus = 'ACTIVE' | 'FROZEN' | 'CLOSED';
/** Lifecycle of a transaction: PENDING → SUCCESS | FAILED; SUCCESS → REVERSED. */
export type TransactionStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'REVERSED';
export type Direction = 'CREDIT' | 'DEBIT';
export type TransactionType = 'TRANSFER' | 'DEPOSIT' | 'WITHDRAWAL' | 'PAYMENT' | 'FEE' | 'REFUND';

export const TRANSACTION_STATUSES: readonly TransactionStatus[] = ['PENDING', 'SUCCESS', 'FAILED', 'REVERSED'];
export const DIRECTIONS: readonly Direction[] = ['CREDIT', 'DEBIT'];
export const TRANSACTION_TYPES: readonly TransactionType[] = ['TRANSFER', 'DEPOSIT', 'WITHDRAWAL', 'PAYMENT', 'FEE', 'REFUND'];

/**
 * The one direction a type can have. Money comes in by a deposit and goes out by a
 * withdrawal or a fee; a transfer, a payment and a refund are seen from either side (the
 * payer's wallet is debited, the payee's credited), so they take both.
 */
export const DIRECTION_OF_TYPE: Readonly<Partial<Record<TransactionType, Direction>>> = { DEPOSIT: 'CREDIT', WITHDRAWAL: 'DEBIT', FEE: 'DEBIT' };

/** The three figures of a wallet's balance, in minor units. `available` is derived. */
export interface Balances {
  ledger: bigint;
  pending: bigint;
}

/** A wallet as the ledger stores it. */
export interface Wallet extends Balances {
  id: string;
  ownerId: string;
  currency: string;
  status: WalletStatus;
  createdAt: Date;
  updatedAt: Date;
}

/** A transaction as the ledger stores it. */
export interface Transaction {
  id: string;
  walletId: string;
  ownerId: string;
  direction: Direction;
  type: TransactionType;
  amount: bigint;
  currency: string;
  status: TransactionStatus;
  counterparty: string | null;
  description: string | null;
  reversalReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}
