import { DomainError, ErrorCode } from './errors.ts';
import type { Balances, Direction, TransactionStatus, Wallet } from './ledger-types.ts';
import { MAX_MONEY } from './money.ts';

/** available = ledger − pending. */
export function available(b: Balances): bigint {
  return b.ledger - b.pending;
}

/** The change one posting makes to a wallet's balances. */
interface Delta {
  ledger: bigint;
  pending: bigint;
}

/**
 * The effect on the balances of a transaction of `direction` and `amount` moving from
 * `from` (null when it is created) to `to`. A PENDING debit holds funds; SUCCESS moves
 * them; FAILED releases them; REVERSED undoes a settled one. A pending credit changes
 * nothing until it settles: money that has not arrived is never spendable.
 */
export function balanceDelta(direction: Direction, amount: bigint, from: TransactionStatus | null, to: TransactionStatus): Delta {
  const sign = direction === 'CREDIT' ? 1n : -1n;
  const held = direction === 'DEBIT' ? amount : 0n;
  switch (`${from ?? 'NEW'}>${to}`) {
    case 'NEW>PENDING':
      return { ledger: 0n, pending: held };
    case 'NEW>SUCCESS':
      return { ledger: sign * amount, pending: 0n };
    case 'PENDING>SUCCESS':
      return { ledger: sign * amount, pending: -held };
    case 'PENDING>FAILED':
      return { ledger: 0n, pending: -held };
    case 'SUCCESS>REVERSED':
      return { ledger: -sign * amount, pending: 0n };
    default:
      throw new DomainError(ErrorCode.INVALID_TRANSITION, `a transaction cannot go from ${from ?? 'nothing'} to ${to}`, { from, to });
  }
}

/**
 * Applies a delta, enforcing the invariants: funds that would leave the wallet (a debit,
 * a hold, a reversed credit) must be available, and no figure may overflow.
 */
export function applyDelta(wallet: Wallet, delta: Delta): Balances {
  const next = { ledger: wallet.ledger + delta.ledger, pending: wallet.pending + delta.pending };
  const reducesAvailable = available(next) < available(wallet);
  if (reducesAvailable && available(next) < 0n) {
    throw new DomainError(ErrorCode.INSUFFICIENT_FUNDS, `wallet ${wallet.id} has ${available(wallet)} available`, {
      walletId: wallet.id,
      available: available(wallet).toString(),
    });
  }
  if (next.ledger > MAX_MONEY || next.pending > MAX_MONEY) {
    throw new DomainError(ErrorCode.BAD_USER_INPUT, 'the balance would exceed the largest amount the ledger holds', { field: 'amount' });
  }
  return next;
}

/** Refuses any posting to a wallet that is not ACTIVE. */
export function assertWalletAcceptsPostings(wallet: Wallet): void {
  if (wallet.status === 'FROZEN') {
    throw new DomainError(ErrorCode.WALLET_FROZEN, `wallet ${wallet.id} is frozen`, { walletId: wallet.id });
  }
  if (wallet.status === 'CLOSED') {
    throw new DomainError(ErrorCode.WALLET_CLOSED, `wallet ${wallet.id} is closed`, { walletId: wallet.id });
  }
}
