// A client typed by graphql-codegen's client preset (`npm run codegen` writes
// examples/generated/): the result and variables types come from the schema.
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in.
import { resumable } from '@wallet-events/client';
import { graphql } from './generated/gql.ts';
import type { BalanceUpdatesSubscription } from './generated/graphql.ts';

export const BalanceUpdates = graphql(`
  subscription BalanceUpdates($after: String, $walletId: ID) {
    balanceChanged(after: $after, walletId: $walletId) {
      sequence
      cursor
      walletId
      balance { available ledger pending currency }
    }
  }
`);

export type BalanceUpdate = BalanceUpdatesSubscription['balanceChanged'];

/** Calls `onBalance` with each typed balance change after `after`, across reconnects; returns the stop function. */
export function watchBalances(wsUrl: string, token: string, onBalance: (update: BalanceUpdate) => void, after?: string): () => void {
  const client = resumable(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } }));
  const stop = client.subscribe<BalanceUpdatesSubscription>(
    { query: print(BalanceUpdates), variables: { after } },
    { next: ({ data }) => data && onBalance(data.balanceChanged), error: (error) => console.error(error), complete: () => {} },
  );
  return () => {
    stop();
    void client.dispose();
  };
}
