// Apollo Client over graphql-ws, resuming by itself: `resumable` makes every automatic
// reconnect continue after the last event received, with no gap and no duplicate.
import { ApolloClient, InMemoryCache, gql } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in.
import { resumable } from '@wallet-events/client';

const WALLET_EVENTS = gql`
  subscription WalletEvents($after: String) {
    walletEvents(after: $after) {
      eventId
      sequence
      cursor
      type
      ... on BalanceEvent {
        balance { available currency }
      }
    }
  }
`;

export interface FeedEvent {
  eventId: string;
  sequence: number;
  cursor: string;
  type: string;
}

/** Calls `onEvent` for each event after `after` (or from now), across reconnects; returns the stop function. */
export function watchWithApollo(wsUrl: string | (() => string), token: string, onEvent: (event: FeedEvent) => void, after?: string): () => void {
  const wsClient = resumable(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } }));
  const client = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  const subscription = client
    .subscribe<{ walletEvents: FeedEvent }>({ query: WALLET_EVENTS, variables: { after } })
    .subscribe({ next: ({ data }) => data && onEvent(data.walletEvents) });
  return () => {
    subscription.unsubscribe();
    client.stop();
    void wsClient.dispose();
  };
}
