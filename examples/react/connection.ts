// One resumable graphql-ws connection for the page, and its state for React to show.
import { createClient } from 'graphql-ws';
import { Client, subscriptionExchange } from 'urql';
import { resumable } from '@wallet-events/client';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

/** The page's connection: an urql client whose subscriptions resume by themselves, and its state. */
export interface Connection {
  client: Client;
  state(): ConnectionState;
  /** Calls `listener` on every state change; returns the function that stops it. */
  onChange(listener: () => void): () => void;
}

export function connect(apiUrl: string, token: string): Connection {
  let state: ConnectionState = 'connecting';
  const listeners = new Set<() => void>();
  const set = (next: ConnectionState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  // `resumable`: after any reconnect, each subscription continues after the last event it
  // received. graphql-ws's own retries cover short drops; the wrapper covers the rest.
  const ws = resumable(
    createClient({
      url: apiUrl.replace(/^http/, 'ws'),
      connectionParams: { authorization: `Bearer ${token}` },
      on: {
        connecting: (isRetry) => set(isRetry ? 'reconnecting' : 'connecting'),
        connected: () => set('connected'),
        closed: () => set('reconnecting'),
      },
    }),
  );
  const client = new Client({
    url: apiUrl,
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ query: request.query ?? '', variables: request.variables }, sink) }),
        }),
      }),
    ],
  });
  return {
    client,
    state: () => state,
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
