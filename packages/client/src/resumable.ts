/**
 * Resume for the clients people already use. graphql-ws's and graphql-sse's clients
 * reconnect by themselves and send each subscription's *original* request again, so after
 * a reconnect a stream would start from "now" (a gap) or from the first cursor it was given
 * (duplicates). `resumable(client)` gives each subscription a request of its own whose
 * `variables.after` always holds the cursor of the last result handed on: every
 * resubscription, whoever makes it, asks for the events after it. Apollo's
 * `GraphQLWsLink`, urql's `subscriptionExchange` and bare clients get this by being given
 * the wrapped client.
 *
 * Per subscription it also drops redeliveries (by `extensions.eventId`) and resubscribes
 * from the last cursor, after a pause, when a stream ends for a reason that passes: a
 * transient refusal, or a connection the client gave up on (see {@link isTransient}), so a
 * server that is down for longer than the client's own retries still loses nothing. Every
 * other end (FORBIDDEN, CURSOR_EXPIRED, a refused token…) reaches the sink unchanged.
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { RecentIds } from './dedup.ts';
import { isTransient, retryAfterOf } from './error-codes.ts';
import { iterateOver } from './iterate.ts';
import type { OperationRequest, ResultSink } from './operation.ts';

export type { OperationRequest, ResultSink } from './operation.ts';

/** Any client with graphql-ws's `subscribe(request, sink) => dispose` shape. */
export interface SubscribingClient {
  subscribe(request: OperationRequest, sink: ResultSink<never>, ...rest: never[]): () => void;
}

export interface ResumableOptions {
  /** Pauses before resubscribing after a transient refusal (default 1 s … 32 s with jitter). */
  backoff?: BackoffOptions;
  /** How many recent event ids each subscription remembers to drop redeliveries (default 1,000). */
  dedupWindow?: number;
  /** Told each time a subscription will resubscribe after `delayMs`, with what ended it (e.g. to show "resuming"). */
  onRetry?: (reported: unknown, delayMs: number) => void;
}

/** The code given to a subscription that could not resume, because it does not pass `$after` on. */
export const NOT_RESUMABLE = 'NOT_RESUMABLE';

interface ResultShape {
  errors?: unknown;
  extensions?: { cursor?: unknown; eventId?: unknown } | null;
}

/** Returns `client` with a `subscribe` (and `iterate`) that resume after the last event. */
export function resumable<C extends SubscribingClient>(client: C, options: ResumableOptions = {}): C {
  const subscribe = (request: OperationRequest, sink: ResultSink<ResultShape>, ...rest: never[]): (() => void) => subscribeResuming(client, request, sink, options, ...rest);
  return { ...client, subscribe, iterate: iterateOver(subscribe) };
}

/**
 * One subscription through `client` that resumes as {@link resumable}'s do, with options of
 * its own; returns the function that stops it.
 */
export function subscribeResuming<T>(client: SubscribingClient, request: OperationRequest, sink: ResultSink<T>, options: ResumableOptions = {}, ...rest: never[]): () => void {
  if (isSubscription(request.query) && !passesAfter(request.query)) {
    sink.error([{ message: 'This subscription cannot resume: declare `$after: String` and pass it to the field as `after: $after`.', extensions: { code: NOT_RESUMABLE } }]);
    return () => {};
  }
  return new ResumingSubscription(client, request, sink as ResultSink<ResultShape>, rest, options).dispose;
}

/** One subscription through the wrapped client, across however many resubscriptions. */
class ResumingSubscription {
  /** The only variables object any send of this subscription reads: `after` moves with every result. */
  private readonly variables: Record<string, unknown>;
  private readonly request: OperationRequest;
  private readonly seen: RecentIds;
  private stopCurrent: () => void = () => {};
  /** Bumped on every (re)subscription, so the ends of an abandoned one are ignored. */
  private generation = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;

  constructor(
    private readonly client: SubscribingClient,
    request: OperationRequest,
    private readonly sink: ResultSink<ResultShape>,
    private readonly rest: never[],
    private readonly options: ResumableOptions,
  ) {
    // A copy: the app's request stays as it was, and graphql-ws re-sends this object (and
    // graphql-sse a shallow copy of it, sharing `variables`) on every reconnect.
    this.variables = { ...request.variables };
    this.request = { ...request, variables: this.variables };
    this.seen = new RecentIds(options.dedupWindow ?? 1_000);
    this.start();
  }

  readonly dispose = (): void => {
    this.ended = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopCurrent();
  };

  private start(): void {
    const generation = ++this.generation;
    const current = () => !this.ended && generation === this.generation;
    this.stopCurrent = this.client.subscribe(
      this.request,
      {
        next: (result: ResultShape) => current() && this.next(result),
        error: (error: unknown) => current() && this.fail(error),
        complete: () => current() && this.finish(),
      } as ResultSink<never>,
      ...this.rest,
    );
  }

  private next(result: ResultShape): void {
    if (result.errors && isTransient(result.errors)) return this.resubscribe(result.errors);
    const cursor = result.extensions?.cursor;
    const eventId = result.extensions?.eventId;
    if (typeof cursor === 'string' && typeof eventId === 'string') {
      if (this.seen.seen(eventId)) return;
      this.variables.after = cursor;
      this.attempt = 0;
    }
    this.sink.next(result);
  }

  private fail(error: unknown): void {
    if (isTransient(error)) return this.resubscribe(error);
    this.ended = true;
    this.sink.error(error);
  }

  private finish(): void {
    this.ended = true;
    this.sink.complete();
  }

  /** Drops the current stream and opens it again from the last cursor, after a pause. */
  private resubscribe(errors: unknown): void {
    this.generation++;
    this.stopCurrent();
    const delay = Math.max(retryAfterOf(errors), backoffDelay(this.attempt++, this.options.backoff));
    this.options.onRetry?.(errors, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.ended) this.start();
    }, delay);
  }
}

/** Comments and strings removed, so the checks below read only the document's syntax. */
function syntaxOf(query: string): string {
  return query.replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n]*/g, ' ');
}

function isSubscription(query: string): boolean {
  return /(^|[^\w$])subscription\b/.test(syntaxOf(query));
}

/** True when the document declares `$after` and uses it (the cursor can only go through a variable). */
function passesAfter(query: string): boolean {
  const syntax = syntaxOf(query);
  return /\$after\s*:/.test(syntax) && /\bafter\s*:\s*\$after\b/.test(syntax);
}
