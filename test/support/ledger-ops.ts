/** Producer and reader operations over the public GraphQL API, for tests. */
import { randomUUID } from 'node:crypto';
import { gql, gqlData, type Response } from './clients.ts';

export const WALLET_FIELDS = 'id ownerId currency status balance { available ledger pending currency }';
export const TXN_FIELDS = 'id walletId direction type amount currency status counterparty description reversalReason';
export const EVENT_FIELDS = `
  __typename eventId ownerId walletId sequence cursor occurredAt type
  ... on TransactionEvent { previousStatus transaction { ${TXN_FIELDS} } }
  ... on BalanceEvent { balance { available ledger pending currency } }
  ... on WalletStatusEvent { change status reason }
`;

export interface PostInput {
  walletId: string;
  direction: 'CREDIT' | 'DEBIT';
  type?: string;
  amount: string | number;
  status?: 'PENDING' | 'SUCCESS';
  counterparty?: string;
  description?: string;
  idempotencyKey?: string;
}

/** Binds the operations to one server URL and producer token. */
export function producer(url: string, serviceToken: string) {
  const run = <T>(query: string, variables: Record<string, unknown>) => gql<T>(url, serviceToken, query, variables);
  return {
    createWalletRaw: (ownerId: string, currency = 'NGN') =>
      run<{ createWallet: any }>(`mutation($input: CreateWalletInput!) { createWallet(input: $input) { ${WALLET_FIELDS} } }`, { input: { ownerId, currency } }),
    async createWallet(ownerId: string, currency = 'NGN') {
      return (await gqlData<{ createWallet: any }>(url, serviceToken, `mutation($input: CreateWalletInput!) { createWallet(input: $input) { ${WALLET_FIELDS} } }`, { input: { ownerId, currency } })).createWallet;
    },
    postRaw: (input: PostInput): Promise<Response<{ postTransaction: { transaction: any; replayed: boolean } }>> =>
      run(`mutation($input: PostTransactionInput!) { postTransaction(input: $input) { replayed transaction { ${TXN_FIELDS} } } }`, {
        input: { type: 'TRANSFER', idempotencyKey: randomUUID(), ...input },
      }),
    async post(input: PostInput) {
      const res = await this.postRaw(input);
      if (res.errors?.length) throw new Error(`post failed: ${JSON.stringify(res.errors)}`);
      return res.data!.postTransaction.transaction;
    },
    postBatchRaw: (inputs: PostInput[]): Promise<Response<{ postTransactions: { transaction: any; replayed: boolean }[] }>> =>
      run(`mutation($inputs: [PostTransactionInput!]!) { postTransactions(inputs: $inputs) { replayed transaction { ${TXN_FIELDS} } } }`, {
        inputs: inputs.map((input) => ({ type: 'TRANSFER', idempotencyKey: randomUUID(), ...input })),
      }),
    settleRaw: (id: string, status: 'SUCCESS' | 'FAILED') =>
      run<{ settleTransaction: any }>(`mutation($id: ID!, $status: SettlementStatus!) { settleTransaction(id: $id, status: $status) { ${TXN_FIELDS} } }`, { id, status }),
    reverseRaw: (id: string, reason = 'chargeback') =>
      run<{ reverseTransaction: any }>(`mutation($id: ID!, $reason: String!) { reverseTransaction(id: $id, reason: $reason) { ${TXN_FIELDS} } }`, { id, reason }),
    freezeRaw: (id: string, reason = 'compliance review') =>
      run<{ freezeWallet: any }>(`mutation($id: ID!, $reason: String!) { freezeWallet(id: $id, reason: $reason) { ${WALLET_FIELDS} } }`, { id, reason }),
    unfreezeRaw: (id: string) => run<{ unfreezeWallet: any }>(`mutation($id: ID!) { unfreezeWallet(id: $id) { ${WALLET_FIELDS} } }`, { id }),
    async wallet(id: string) {
      return (await gqlData<{ wallet: any }>(url, serviceToken, `query($id: ID!) { wallet(id: $id) { ${WALLET_FIELDS} } }`, { id })).wallet;
    },
    /** The owner's whole event log, paging through `events`. */
    async log(ownerId: string) {
      const all: any[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = (
          await gqlData<{ events: any }>(url, serviceToken, `query($owner: ID, $after: String) { events(ownerId: $owner, after: $after, first: 500) { edges { cursor node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, {
            owner: ownerId,
            after,
          })
        ).events;
        all.push(...page.edges.map((edge: any) => edge.node));
        if (!page.pageInfo.hasNextPage) return all;
        after = page.pageInfo.endCursor;
      }
    },
  };
}

export type Producer = ReturnType<typeof producer>;

/** A unique owner id, so suites sharing a database never see each other's data. */
export function ownerId(prefix = 'owner'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
