/**
 * The wallet-events client: exactly-once processing on top of at-least-once delivery.
 *
 * - Resumes: it remembers the cursor of the last event the app processed and, after any
 *   reconnect, subscribes again after it (on whichever instance answers).
 * - Deduplicates on `eventId`, so a redelivered event reaches the app once.
 * - Acks processed events in batches when a `consumer` is named.
 * - Reconnects with exponential backoff (1 s … 32 s, jitter) and asks `token()` for a
 *   token on every connect, so a refreshed token is used.
 * - Reports its connection state: connecting, connected, reconnecting, closed.
 * Works in browsers (native WebSocket) and Node (pass `webSocketImpl` from `ws`).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { AckBatcher } from './acks.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { RecentIds } from './dedup.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface WalletEventsClientOptions {
  /** The WebSocket URL, or a function giving one per connection attempt (e.g. to rotate instances). */
  url: string | (() => string | Promise<string>);
  /** Called on every connection attempt and ack, so a refreshed token is picked up. */
  token: () => string | Promise<string>;
  /** A WebSocket implementation where there is no global one (Node: `ws`). */
  webSocketImpl?: unknown;
  /** A durable consumer name: subscriptions then resume from its acks, and processed events are acked. */
  consumer?: string;
  /** The HTTP endpoint for acks; by default the WebSocket URL with http(s). */
  httpUrl?: string;
  ackBatchSize?: number;
  ackIntervalMs?: number;
  backoff?: BackoffOptions;
  /** How many recent event ids to remember for deduplication. */
  dedupWindow?: number;
}

/** What the client knows of each delivered event, besides the selected data. */
export interface EventMeta {
  eventId: string;
  cursor: string;
  sequence: number;
}

export interface SubscribeOptions<TData> {
  /**
   * A subscription with one root field that declares `$after` and `$consumer` (the client
   * fills them in): a string, or a typed document from codegen (e.g.
   * {@link WalletEventsSubscription}), which types `onEvent`'s data.
   */
  query: string | TypedDocumentNode<Record<string, TData>, Record<string, unknown>>;
  variables?: Record<string, unknown>;
  /** Start after this cursor (else after the consumer's acks, else now). */
  after?: string | null;
  /** Called once per event, in order; the next event waits for a returned promise. */
  onEvent: (data: TData, meta: EventMeta) => void | Promise<void>;
  /** A refusal the client cannot recover from by itself (e.g. CURSOR_EXPIRED, FORBIDDEN). */
  onError?: (error: unknown) => void;
}

export interface EventSubscription {
  /** The cursor of the last event processed, to persist and pass as `after` later. */
  readonly cursor: string | null;
  unsubscribe(): void;
}

/** Server codes after which resubscribing from the last cursor is the right move. */
const RESUMABLE = new Set(['SLOW_CONSUMER', 'ACK_TIMEOUT']);

interface Payload {
  query: string;
  variables: Record<string, unknown>;
}

export class WalletEventsClient {
  private readonly ws: Client;
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly acks: AckBatcher | null;
  private readonly recent: RecentIds;
  private current: ConnectionState = 'connecting';
  private closed = false;

  constructor(private readonly options: WalletEventsClientOptions) {
    this.recent = new RecentIds(options.dedupWindow);
    this.ws = createClient({
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      lazy: true,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => !this.closed,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoffDelay(retries - 1, options.backoff))),
      connectionParams: async () => ({ authorization: `Bearer ${await options.token()}` }),
      on: {
        connecting: (isRetry) => this.setState(isRetry ? 'reconnecting' : 'connecting'),
        connected: () => this.setState('connected'),
        closed: () => {
          if (this.closed) this.setState('closed');
        },
      },
    });
    this.acks = options.consumer
      ? new AckBatcher({
          httpUrl: options.httpUrl ?? httpUrlOf(options.url),
          consumer: options.consumer,
          token: options.token,
          batchSize: options.ackBatchSize ?? 50,
          intervalMs: options.ackIntervalMs ?? 1_000,
          onError: () => {},
        })
      : null;
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.current;
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes; events reach `onEvent` once each, in order, across reconnects. */
  subscribe<TData = Record<string, unknown>>(options: SubscribeOptions<TData>): EventSubscription {
    // graphql-ws sends this same payload object again after a reconnect, so keeping its
    // `after` at the last processed event makes every resubscription resume from there.
    const payload: Payload = {
      query: typeof options.query === 'string' ? options.query : print(options.query),
      variables: { ...options.variables, after: options.after ?? null, ...(this.options.consumer ? { consumer: this.options.consumer } : {}) },
    };
    let lastSequence = -1;
    let stopped = false;
    let dispose: () => void = () => {};
    let chain: Promise<void> = Promise.resolve();
    let attempt = 0;

    const handle = async (result: FormattedExecutionResult<Record<string, TData>, { cursor?: string; sequence?: number; eventId?: string }>) => {
      const meta = result.extensions;
      if (result.errors?.length) {
        const code = (result.errors[0] as { extensions?: { code?: string } }).extensions?.code;
        if (code && RESUMABLE.has(code)) return restart();
        stopped = true;
        dispose();
        options.onError?.(result.errors);
        return;
      }
      if (!meta?.cursor || meta.sequence === undefined || !meta.eventId) return;
      attempt = 0;
      // A redelivery (after a reconnect or a resume) is recognized and skipped.
      if (meta.sequence <= lastSequence || this.recent.seen(meta.eventId)) return;
      await options.onEvent(Object.values(result.data ?? {})[0] as TData, { eventId: meta.eventId, cursor: meta.cursor, sequence: meta.sequence });
      lastSequence = meta.sequence;
      payload.variables.after = meta.cursor;
      this.acks?.processed(meta.eventId);
    };

    const start = () => {
      dispose = this.ws.subscribe<Record<string, TData>, { cursor?: string; sequence?: number; eventId?: string }>(payload, {
        next: (result) => {
          chain = chain.then(() => handle(result)).catch((error: unknown) => options.onError?.(error));
        },
        error: (error) => {
          if (!stopped && !this.closed) options.onError?.(error);
        },
        complete: () => {},
      });
    };

    // The server ended the stream for a reason resuming cures: subscribe again, after a pause.
    const restart = () => {
      dispose();
      if (stopped || this.closed) return;
      setTimeout(() => !stopped && !this.closed && start(), backoffDelay(attempt++, this.options.backoff));
    };

    start();
    return {
      get cursor() {
        return (payload.variables.after as string | null) ?? null;
      },
      unsubscribe: () => {
        stopped = true;
        dispose();
      },
    };
  }

  /** Sends any pending ack now. */
  flushAcks(): Promise<void> {
    return this.acks?.flush() ?? Promise.resolve();
  }

  /** Flushes acks and closes the connection for good. */
  async close(): Promise<void> {
    await this.flushAcks();
    this.closed = true;
    await this.ws.dispose();
    this.setState('closed');
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}

function httpUrlOf(url: WalletEventsClientOptions['url']): string {
  if (typeof url !== 'string') throw new Error('httpUrl is required when url is a function');
  return url.replace(/^ws/, 'http');
}
