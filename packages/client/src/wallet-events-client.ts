/**
 * The wallet-events client: exactly-once processing on top of at-least-once delivery.
 *
 * - Resumes: each subscription goes through {@link subscribeResuming}, so any reconnect or
 *   resubscription asks for the events after the last one received; events received and
 *   not yet processed stay queued, in order.
 * - Deduplicates per subscription on `eventId`.
 * - Acks processed events in batches, per subscription, when it names a `consumer`.
 * - Reconnects with exponential backoff (1 s … 32 s, jitter) and asks `token()` for a
 *   token on every connect, so a refreshed token is used.
 * - Retries what passes (INTERNAL_SERVER_ERROR, SLOW_CONSUMER, ACK_TIMEOUT, RATE_LIMITED)
 *   and reports what does not (FORBIDDEN, CURSOR_EXPIRED, a revoked token) to `onError`.
 * - Stops a subscription at an event whose `onEvent` throws, so that event comes again
 *   when the app resumes; nothing after it is processed before it.
 * - Reports its connection state: connecting, connected, reconnecting, closed.
 * Works in browsers (native WebSocket) and Node (pass `webSocketImpl` from `ws`).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { AckBatcher } from './acks.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { subscribeResuming } from './resumable.ts';
import { HANDLER_FAILED, WalletEventsError } from './wallet-events-error.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface WalletEventsClientOptions {
  /** The WebSocket URL, or a function giving one per connection attempt (e.g. to rotate instances). */
  url: string | (() => string | Promise<string>);
  /** Called on every connection attempt and ack, so a refreshed token is picked up. */
  token: () => string | Promise<string>;
  /** A WebSocket implementation where there is no global one (Node: `ws`). */
  webSocketImpl?: unknown;
  /** The HTTP endpoint for acks; by default the WebSocket URL with http(s). */
  httpUrl?: string;
  ackBatchSize?: number;
  ackIntervalMs?: number;
  /** Pauses between reconnects and between resubscriptions after a transient refusal. */
  backoff?: BackoffOptions;
  /** How many recent event ids each subscription remembers for deduplication. */
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
   * A subscription with one root field that declares `$after` (and `$consumer` when a
   * consumer is named) and passes them on: the client fills them in. A string, or a typed
   * document from codegen (e.g. {@link WalletEventsSubscription}), which types `onEvent`'s data.
   */
  query: string | TypedDocumentNode<Record<string, TData>, Record<string, unknown>>;
  variables?: Record<string, unknown>;
  /** Start after this cursor (else after the consumer's acks, else now). */
  after?: string | null;
  /**
   * A durable consumer for this subscription: without `after` it starts after the
   * consumer's acks, and processed events are acked. One subscription per consumer and
   * owner on a client, so one subscription's acks never cover another's unprocessed events.
   */
  consumer?: string;
  /** Called once per event, in order; the next event waits for a returned promise. A throw stops the subscription at this event. */
  onEvent: (data: TData, meta: EventMeta) => void | Promise<void>;
  /** The subscription stopped for a reason the client cannot cure by itself; `error.cursor` is where to resume. */
  onError?: (error: WalletEventsError) => void;
  /** It will subscribe again after `delayMs`, from the last event received, because of `error` (a transient refusal or a lost connection). */
  onRetry?: (error: WalletEventsError, delayMs: number) => void;
}

export interface EventSubscription {
  /** The cursor of the last event processed, to persist and pass as `after` later. */
  readonly cursor: string | null;
  unsubscribe(): void;
}

type EventResult<TData> = FormattedExecutionResult<Record<string, TData>, { cursor?: string; sequence?: number; eventId?: string }>;

export class WalletEventsClient {
  private readonly ws: Client;
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  /** Consumers in use, as `owner consumer`: each may have one subscription on this client. */
  private readonly consumers = new Set<string>();
  private readonly acks = new Set<AckBatcher>();
  private current: ConnectionState = 'connecting';
  private closed = false;

  constructor(private readonly options: WalletEventsClientOptions) {
    const ws: Client = createClient({
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
    this.ws = ws;
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
    const consumerKey = options.consumer ? `${String(options.variables?.ownerId ?? '')} ${options.consumer}` : null;
    if (consumerKey && this.consumers.has(consumerKey)) {
      throw new Error(`consumer "${options.consumer}" already has a subscription on this client for this owner: give each subscription its own consumer, or their acks would cover each other's events`);
    }
    if (consumerKey) this.consumers.add(consumerKey);
    const acks = options.consumer ? this.ackBatcher(options.consumer) : null;
    let processed: string | null = options.after ?? null;
    let stopped = false;
    let chain: Promise<void> = Promise.resolve();

    const stop = (error: WalletEventsError | null) => {
      if (stopped) return;
      stopped = true;
      dispose();
      if (consumerKey) this.consumers.delete(consumerKey);
      // The batcher stays in `acks` until its last ack is answered, so that close() waits
      // for it: a new session would otherwise resume this consumer from before that ack.
      if (acks) void acks.flush().finally(() => this.acks.delete(acks));
      if (error && !this.closed) options.onError?.(error);
    };

    const handle = async (result: EventResult<TData>) => {
      if (stopped) return;
      if (result.errors?.length) return stop(WalletEventsError.from(result.errors, processed));
      const meta = result.extensions;
      if (!meta?.cursor || meta.sequence === undefined || !meta.eventId) return;
      try {
        await options.onEvent(Object.values(result.data ?? {})[0] as TData, { eventId: meta.eventId, cursor: meta.cursor, sequence: meta.sequence });
      } catch (error) {
        // Stopped here, unacked: resuming from `processed` delivers this event again.
        return stop(new WalletEventsError(HANDLER_FAILED, `onEvent threw on event ${meta.eventId}: ${error instanceof Error ? error.message : String(error)}`, processed, { cause: error }));
      }
      if (stopped) return;
      processed = meta.cursor;
      acks?.processed(meta.eventId);
    };

    const dispose = subscribeResuming<EventResult<TData>>(
      this.ws,
      {
        query: typeof options.query === 'string' ? options.query : print(options.query),
        variables: { ...options.variables, after: options.after ?? null, ...(options.consumer ? { consumer: options.consumer } : {}) },
      },
      {
        next: (result) => {
          chain = chain.then(() => handle(result));
        },
        error: (error) => {
          chain = chain.then(() => stop(WalletEventsError.from(error, processed)));
        },
        complete: () => {
          chain = chain.then(() => stop(null));
        },
      },
      {
        backoff: this.options.backoff,
        dedupWindow: this.options.dedupWindow ?? 10_000,
        onRetry: (reported, delayMs) => options.onRetry?.(WalletEventsError.from(reported, processed), delayMs),
      },
    );

    return {
      get cursor() {
        return processed;
      },
      unsubscribe: () => stop(null),
    };
  }

  /** Sends any pending acks now. */
  async flushAcks(): Promise<void> {
    await Promise.all([...this.acks].map((acks) => acks.flush()));
  }

  /** Flushes acks, waits until every ack sent is answered (also those of stopped subscriptions), and closes the connection for good. */
  async close(): Promise<void> {
    await this.flushAcks();
    this.closed = true;
    await this.ws.dispose();
    this.setState('closed');
  }

  private ackBatcher(consumer: string): AckBatcher {
    const acks = new AckBatcher({
      httpUrl: this.options.httpUrl ?? httpUrlOf(this.options.url),
      consumer,
      token: this.options.token,
      batchSize: this.options.ackBatchSize ?? 50,
      intervalMs: this.options.ackIntervalMs ?? 1_000,
      // A lost ack only means a redelivery, which is deduplicated or processed again.
      onError: () => {},
    });
    this.acks.add(acks);
    return acks;
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
