/** Real clients for tests: fetch for HTTP, graphql-ws's client, and an EventSource. */
import { EventSource } from 'eventsource';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface Response<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
  status: number;
}

/** POSTs an operation and returns the parsed response. */
export async function gql<T = any>(url: string, token: string | null, query: string, variables?: Record<string, unknown>): Promise<Response<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Response<T>;
  return { ...body, status: res.status };
}

/** Like {@link gql} but fails the test on any error and returns `data`. */
export async function gqlData<T = any>(url: string, token: string | null, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await gql<T>(url, token, query, variables);
  if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

/** The codes of a response's errors. */
export function codes(res: Response<unknown>): (string | undefined)[] {
  return (res.errors ?? []).map((error) => error.extensions?.code);
}

/** A graphql-ws client authenticated with `token` in the connection_init payload. */
export function wsClient(url: string, token: string | null, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    ...options,
  });
}

/** What one subscription has received so far. */
export interface Collector<T> {
  items: T[];
  errors: unknown[];
  completed: boolean;
  /** Resolves once `count` items arrived (or fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves when the subscription ends (complete or error). */
  ended: Promise<void>;
  dispose(): void;
}

function collector<T>(): Collector<T> & { push(item: T): void; fail(error: unknown): void; complete(): void } {
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const state = {
    items: [] as T[],
    errors: [] as unknown[],
    completed: false,
    ended,
    dispose: () => {},
    push(item: T) {
      state.items.push(item);
    },
    fail(error: unknown) {
      state.errors.push(error);
      resolveEnded();
    },
    complete() {
      state.completed = true;
      resolveEnded();
    },
    async waitFor(count: number, timeoutMs = 15_000) {
      await waitUntil(() => state.items.length >= count || state.errors.length > 0, timeoutMs, () => `${state.items.length}/${count} items, errors ${JSON.stringify(state.errors)}`);
      if (state.items.length < count) throw new Error(`subscription failed: ${JSON.stringify(state.errors)}`);
      return state.items;
    },
  };
  return state;
}

/** Subscribes over graphql-ws and collects each `next` payload's `data[field]`. */
export function subscribeWs<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Collector<T> {
  const c = collector<T>();
  c.dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) c.fail(result.errors);
        else c.push(Object.values(result.data ?? {})[0] as T);
      },
      error: (error) => c.fail(error),
      complete: () => c.complete(),
    },
  );
  return c;
}

/** Subscribes with a plain EventSource on a GET URL (token in `?token=`), as a browser would. */
export function subscribeSse<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Collector<T> & { source: EventSource } {
  const target = new URL(url);
  target.searchParams.set('query', query);
  target.searchParams.set('variables', JSON.stringify(variables));
  target.searchParams.set('token', token);
  const source = new EventSource(target.toString());
  const c = collector<T>();
  source.addEventListener('next', (event) => {
    const result = JSON.parse(event.data) as { data?: Record<string, T>; errors?: unknown[] };
    if (result.errors?.length) c.fail(result.errors);
    else c.push(Object.values(result.data ?? {})[0] as T);
  });
  source.addEventListener('complete', () => {
    source.close();
    c.complete();
  });
  source.onerror = (event) => {
    if (source.readyState === EventSource.CLOSED) c.fail(event);
  };
  c.dispose = () => source.close();
  return Object.assign(c, { source });
}

/** Polls `condition` until true; fails with `describe()` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A bare graphql-transport-ws socket that has sent `connection_init` with `token` and
 * received its `connection_ack`: for tests that need to control the socket itself (stop
 * reading it, send raw frames, cut it).
 */
export async function acknowledgedSocket(url: string, token: string): Promise<WebSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
  return socket;
}
