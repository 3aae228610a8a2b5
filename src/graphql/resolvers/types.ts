/** Field resolvers of the object types: mostly mapping stored shapes to the SDL. */
import { available } from '../../domain/balance.ts';
import { cursorOf } from '../../domain/events.ts';
import { formatMoney } from '../../domain/money.ts';
import type { Resolvers } from '../generated/resolvers-types.ts';
import { transactionConnection } from './connections.ts';

const EVENT_TYPENAMES = {
  TRANSACTION: 'TransactionEvent',
  BALANCE: 'BalanceEvent',
  WALLET_STATUS: 'WalletStatusEvent',
  FRAUD: 'FraudEvent',
  NOTIFICATION: 'NotificationEvent',
} as const;

export const typeResolvers: Resolvers = {
  Me: {
    id: (principal) => principal.subject,
    role: (principal) => principal.role,
    tenant: (principal) => principal.tenant,
    wallets: (principal, _args, ctx) => ctx.services.queries.walletsOf(principal.subject),
  },
  Wallet: {
    balance: (wallet) => ({
      walletId: wallet.id,
      currency: wallet.currency,
      available: formatMoney(available(wallet)),
      ledger: formatMoney(wallet.ledger),
      pending: formatMoney(wallet.pending),
    }),
    transactions: (wallet, args, ctx) => transactionConnection(ctx, wallet.id, args),
  },
  WalletEvent: {
    __resolveType: (event) => EVENT_TYPENAMES[event.type],
  },
  TransactionEvent: {
    cursor: (event) => cursorOf(event),
    transaction: (event) => event.data,
    previousStatus: (event) => event.data.previousStatus,
  },
  BalanceEvent: {
    cursor: (event) => cursorOf(event),
    balance: (event) => event.data,
  },
  WalletStatusEvent: {
    cursor: (event) => cursorOf(event),
    change: (event) => event.data.change,
    status: (event) => event.data.status,
    reason: (event) => event.data.reason,
  },
};
