// urql with subscriptionExchange, over graphql-ws or over graphql-sse's single connection
// mode (/graphql/stream). `resumable` makes every automatic reconnect continue after the
// last event received, with no gap and no duplicate.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in.
import { resumable } from '@wallet-events/client';

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

/** The GraphQL endpoint (`http://…/graphql`), or a function naming one per connection attempt. */
type Endpoint = string | (() => string);
type Transport = { subscribe: (request: { query: string; variables?: Record<string, unknown> }, sink: any) => () => void };

const urlOf = (endpoint: Endpoint) => (typeof endpoint === 'string' ? endpoint : endpoint());

function watch(endpoint: Endpoint, token: string, transport: Transport, onEvent: (event: FeedEvent) => void, after?: string) {
  const client = new Client({
    url: urlOf(endpoint),
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
  return client.subscription<{ walletEvents: FeedEvent }>(WALLET_EVENTS, { after }).subscribe((result) => result.data && onEvent(result.data.walletEvents));
}

/** Watches over graphql-ws (`ws://…/graphql`); returns the stop function. */
export function watchWithUrqlWs(endpoint: Endpoint, token: string, onEvent: (event: FeedEvent) => void, after?: string): () => void {
  const ws = resumable(createWsClient({ url: () => urlOf(endpoint).replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } }));
  const { unsubscribe } = watch(endpoint, token, ws, onEvent, after);
  return () => {
    unsubscribe();
    void ws.dispose();
  };
}

/** Watches over graphql-sse's single connection mode (`http://…/graphql/stream`); returns the stop function. */
export function watchWithUrqlSse(endpoint: Endpoint, token: string, onEvent: (event: FeedEvent) => void, after?: string): () => void {
  const sse = resumable(createSseClient({ url: () => `${urlOf(endpoint)}/stream`, singleConnection: true, headers: { authorization: `Bearer ${token}` } }));
  const { unsubscribe } = watch(endpoint, token, sse, onEvent, after);
  return () => {
    unsubscribe();
    sse.dispose();
  };
}
