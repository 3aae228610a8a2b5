/**
 * What GraphiQL (at /graphql in a browser) opens with: three example tabs — a live
 * subscription, a polling query, a producer mutation — and the token in the header
 * editor, where the user replaces `<token>` with one from `npm run token`.
 */
const HEADERS = JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2);

const SUBSCRIPTION = `# A live, resumable feed of your wallets' events (a user token:
#   npm run token -- --sub alice --role user).
# Pass "after" (any event's cursor) to resume exactly after it.
subscription LiveWalletEvents($after: String) {
  walletEvents(after: $after) {
    __typename
    sequence
    cursor
    occurredAt
    walletId
    ... on TransactionEvent {
      previousStatus
      transaction { id type direction amount currency status description }
    }
    ... on BalanceEvent { balance { available ledger pending currency } }
    ... on WalletStatusEvent { change status reason }
  }
}
`;

const POLLING = `# Polling: your wallets, and the event log after a cursor (oldest first).
# Keep pageInfo.endCursor and pass it as "after" next time.
query Poll($after: String) {
  me {
    id
    wallets { id currency status balance { available ledger pending } }
  }
  events(after: $after, first: 20) {
    edges { cursor node { __typename sequence occurredAt walletId } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

const MUTATION = `# Producers (a service token: npm run token -- --sub producer --role service).
# Create a wallet first: mutation { createWallet(input: { ownerId: "alice", currency: "NGN" }) { id } }
mutation Post($input: PostTransactionInput!) {
  postTransaction(input: $input) {
    replayed
    transaction { id status amount currency }
  }
}
`;

const MUTATION_VARIABLES = JSON.stringify(
  { input: { walletId: '<wallet id>', direction: 'CREDIT', type: 'DEPOSIT', amount: '150000', status: 'SUCCESS', idempotencyKey: 'deposit-1' } },
  null,
  2,
);

/** Yoga's `graphiql` option. */
export const GRAPHIQL_OPTIONS = {
  title: 'wallet-events',
  headers: HEADERS,
  defaultHeaders: HEADERS,
  defaultQuery: SUBSCRIPTION,
  defaultTabs: [
    { query: SUBSCRIPTION, variables: '{}', headers: HEADERS },
    { query: POLLING, variables: '{}', headers: HEADERS },
    { query: MUTATION, variables: MUTATION_VARIABLES, headers: HEADERS },
  ],
};
