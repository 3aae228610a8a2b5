// urql with subscriptionExchange, over graphql-ws or over graphql-sse (/graphql/stream).
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in.

const WALLET_EVENTS = `
  subscription WalletEvents($after: String) {
    walletEvents(after: $after) { eventId sequence cursor type }
  }
`;

export interface FeedEvent {
  eventId: string;
  sequence: number;
  cursor: string;
  type: string;
}

type Transport = { subscribe: (request: { query: string; variables?: Record<string, unknown> }, sink: any) => () => void };

function urqlClient(httpUrl: string, token: string, transport: Transport): Client {
  return new Client({
    url: httpUrl,
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: transport.subscribe({ query: request.query ?? '', variables: request.variables }, sink) }),
        }),
      }),
    ],
  });
}

/** Watches over graphql-ws (`ws://…/graphql`); returns the stop function. */
export function watchWithUrqlWs(httpUrl: string, token: string, onEvent: (event: FeedEvent) => void, after?: string): () => void {
  const ws = createWsClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
  const { unsubscribe } = urqlClient(httpUrl, token, ws)
    .subscription<{ walletEvents: FeedEvent }>(WALLET_EVENTS, { after })
    .subscribe((result) => result.data && onEvent(result.data.walletEvents));
  return () => {
    unsubscribe();
    void ws.dispose();
  };
}

/** Watches over graphql-sse's single-connection mode (`http://…/graphql/stream`); returns the stop function. */
export function watchWithUrqlSse(httpUrl: string, token: string, onEvent: (event: FeedEvent) => void, after?: string): () => void {
  const sse = createSseClient({ url: `${httpUrl}/stream`, headers: { authorization: `Bearer ${token}` } });
  const { unsubscribe } = urqlClient(httpUrl, token, sse)
    .subscription<{ walletEvents: FeedEvent }>(WALLET_EVENTS, { after })
    .subscribe((result) => result.data && onEvent(result.data.walletEvents));
  return () => {
    unsubscribe();
    sse.dispose();
  };
}
