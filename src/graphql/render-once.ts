/**
 * Subscription results, made once per event and shared (docs/ARCHITECTURE.md, "Render
 * once, send many"). Every subscriber of an owner on this instance receives the very same
 * event object from its feed, and an event's fields resolve from the event alone, so a
 * (document, operation, variables) gives the same result for every subscriber: it is
 * rendered once, the event's cursor is added to its `extensions` once, and the result
 * object is shared, so its JSON text is made once too (result-text.ts).
 *
 * A stream that ends with a refusal (SLOW_CONSUMER, an expired token…) yields one last
 * result whose field errors with the refusal's code, then completes: the client is told
 * why. Such a result is the subscriber's own, never cached or shared; so is the result of
 * an event a stream read from the log (a replay).
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DomainError } from '../domain/errors.ts';
import { cursorOf, encodeFirehoseCursor, type WalletEvent } from '../domain/events.ts';
import type { GraphQLContext } from './context.ts';
import { ResultPlan, shapingVariables } from './result-plan.ts';
import { RenderedResult, type ResultPosition } from './result-text.ts';
import type { Resumable } from '../streams/resumable.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** The payload a resolver receives when its stream was refused mid-way (see resolvers/subscription.ts). */
export interface StreamFailure {
  failure: DomainError;
}

/** True for a payload that is an event (not a per-stream refusal). */
function isEvent(payload: unknown): payload is WalletEvent {
  return typeof payload === 'object' && payload !== null && 'eventId' in payload;
}

/** The result with the event's cursor in its extensions, so every result can be resumed from. */
function withCursor(result: ExecutionResult, event: WalletEvent): ExecutionResult {
  return { ...result, extensions: { ...result.extensions, ...positionOf(event) } };
}

/** What `extensions` says of an event: where to resume after it. */
function positionOf(event: WalletEvent): ResultPosition {
  // A firehose event resumes the firehose: its cursor is a feed cursor.
  const cursor = event.firehosePosition ? encodeFirehoseCursor(event.firehosePosition) : cursorOf(event);
  return { cursor, sequence: event.sequence, eventId: event.eventId };
}

/** The result of `event` for the operation of `args`: by its plan when it has one that suits the event, else executed. */
function render(args: ExecutionArgs, event: WalletEvent, plan: ResultPlan | null): Result {
  const data = plan?.run(event, args.contextValue);
  if (data != null) return new RenderedResult(data, positionOf(event));
  const executed = execute({ ...args, rootValue: event });
  return executed instanceof Promise ? executed.then((done) => withCursor(done, event)) : withCursor(executed, event);
}

/** Plans kept per document, at most this many (operation × shaping variables) each. */
const PLANS_PER_DOCUMENT = 64;

/**
 * Runs subscriptions with shared results. `subscribe` is used directly by the connection
 * transports (so no per-result plugin layers sit between a feed and a socket); `plugin()`
 * puts the same behaviour into Yoga's pipeline for its SSE streams.
 */
export class LiveResults {
  private readonly results = new WeakMap<object, Map<string, Result>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private nextDocumentId = 0;
  /** Per document and operation name: the variables that shape a result (null: all of them). */
  private readonly shaping = new WeakMap<DocumentNode, Map<string, string[] | null>>();
  /** Compiled plans by document, then by the rest of the key; gone with the parsed document. */
  private readonly plans = new WeakMap<DocumentNode, Map<string, ResultPlan | null>>();

  /**
   * `onSent` is told about every event whose result leaves for a subscriber (metrics), and
   * whether it came from a page of the log (a replay) rather than the live feed.
   */
  constructor(private readonly onSent: (event: WalletEvent, fromLog: boolean) => void = () => {}) {}

  /**
   * Subscribes: a stream of shared results, or the result that refused the subscription.
   * `present` sees each result that carries errors (masking), never a shared one without.
   */
  async subscribe(args: ExecutionArgs, present: (result: ExecutionResult) => ExecutionResult = (result) => result): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return present(source as ExecutionResult);
    return new LiveStream(source as AsyncIterableIterator<unknown>, this, args, this.keyOf(args), present);
  }

  /** The Yoga plugin doing the same for subscriptions Yoga runs itself. */
  plugin(): Plugin<GraphQLContext> {
    return {
      onSubscribe: ({ setSubscribeFn }) =>
        setSubscribeFn((async (args: ExecutionArgs) => {
          const outcome = await this.subscribe(args);
          return Symbol.asyncIterator in outcome ? plainResults(outcome) : outcome;
        }) as never),
    };
  }

  /**
   * The result of `payload` for the operation `key` names, shared when `payload` is an
   * event: from the operation's `plan` when it has one and the event suits it, else from
   * graphql-js's `execute`. An event `fromLog` came from a page of the log (a replay),
   * which at most the streams that asked for it at once share: its result is made and not
   * kept (keeping it measured no cheaper for a storm of ten replays of one page).
   */
  resultOf(args: ExecutionArgs, key: string, payload: unknown, plan: ResultPlan | null = null, fromLog = false): Result {
    if (!isEvent(payload)) return execute({ ...args, rootValue: payload });
    this.onSent(payload, fromLog);
    if (fromLog) return render(args, payload, plan);
    let byKey = this.results.get(payload);
    if (!byKey) this.results.set(payload, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = render(args, payload, plan)));
    return result;
  }

  /** The compiled plan for a subscription's operation (null: execute every event), made once per key. */
  planOf(args: ExecutionArgs, key: string): ResultPlan | null {
    let byKey = this.plans.get(args.document);
    if (!byKey) this.plans.set(args.document, (byKey = new Map()));
    let plan = byKey.get(key);
    if (plan === undefined) {
      plan = ResultPlan.compile(args);
      // Past the bound a plan still serves its own stream (which keeps it); it is just not shared.
      if (byKey.size < PLANS_PER_DOCUMENT) byKey.set(key, plan);
    }
    return plan;
  }

  /**
   * Same parsed document (Yoga caches parses by text), operation and the variables that
   * shape a result → same key, so the same shared result.
   */
  private keyOf(args: ExecutionArgs): string {
    let id = this.documentIds.get(args.document);
    if (id === undefined) this.documentIds.set(args.document, (id = this.nextDocumentId++));
    const variables = args.variableValues ?? {};
    const shaping = this.shapingOf(args);
    const picked = shaping ? Object.fromEntries(shaping.filter((name) => name in variables).map((name) => [name, variables[name]])) : variables;
    return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(picked)}`;
  }

  private shapingOf(args: ExecutionArgs): string[] | null {
    let byOperation = this.shaping.get(args.document);
    if (!byOperation) this.shaping.set(args.document, (byOperation = new Map()));
    const operation = args.operationName ?? '';
    let names = byOperation.get(operation);
    if (names === undefined) byOperation.set(operation, (names = shapingVariables(args)));
    return names;
  }
}

/**
 * One subscription's results. A class, not closures: it is one object per subscription
 * whatever the number of events, and `return()` reaches the feed at once (an unsubscribing
 * client ends the stream now, not at the next event).
 */
class LiveStream implements AsyncIterableIterator<ExecutionResult>, ReadyResults {
  private ended = false;
  /** A result taken by `takeNow` whose execution had not finished. */
  private pending: Promise<ExecutionResult> | null = null;
  /** The operation's compiled plan, looked up at the first event (a waiting stream holds none). */
  private plan: ResultPlan | null | undefined = undefined;

  constructor(
    private readonly source: AsyncIterableIterator<unknown>,
    private readonly live: LiveResults,
    private readonly args: ExecutionArgs,
    private readonly key: string,
    private readonly present: (result: ExecutionResult) => ExecutionResult,
  ) {}

  takeNow(): IteratorResult<ExecutionResult> | null {
    if (this.ended || this.pending) return null;
    const step = (this.source as Partial<ReadySource>).takeNow?.();
    if (!step) return null;
    if (step.done) return { value: undefined, done: true };
    const result = this.live.resultOf(this.args, this.key, step.value, this.planned(), this.fromLog());
    if (result instanceof Promise) {
      this.pending = result;
      return null;
    }
    return { value: result.errors ? this.present(result) : result, done: false };
  }

  whenReady(reader: Resumable): boolean {
    if (this.ended || this.pending) return false;
    return (this.source as Partial<ReadySource>).whenReady?.(reader) ?? false;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.pending) {
      const result = await this.pending;
      this.pending = null;
      return { value: result.errors ? this.present(result) : result, done: false };
    }
    if (this.ended) return { value: undefined, done: true };
    let payload: unknown;
    try {
      const step = await this.source.next();
      if (step.done) return { value: undefined, done: true };
      payload = step.value;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.ended = true;
      payload = { failure: error } satisfies StreamFailure;
    }
    const result = await this.live.resultOf(this.args, this.key, payload, this.planned(), this.fromLog());
    return { value: result.errors ? this.present(result) : result, done: false };
  }

  /** True when the source's last event came from a page of the log, not its feed's ring. */
  private fromLog(): boolean {
    return (this.source as Partial<ReadySource>).lastFromLog === true;
  }

  private planned(): ResultPlan | null {
    if (this.plan === undefined) this.plan = this.live.planOf(this.args, this.key);
    return this.plan;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.ended = true;
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/** An event source that hands out what it holds, and waits, without promises (an OwnerStream, a FirehoseStream). */
interface ReadySource {
  takeNow(): IteratorResult<unknown> | null;
  whenReady(reader: Resumable): boolean;
  /** The event handed out last came from a page of the log, not from its feed's ring. */
  readonly lastFromLog: boolean;
}

/**
 * Results that can be taken without promises: `takeNow()` returns the next one while one
 * is ready, else null; then `whenReady(reader)` parks until more may be ready and calls
 * `reader.resume()` (true), or says that only `next()` can tell (false: a log read, an
 * execution, a failure to report).
 */
export interface ReadyResults {
  takeNow(): IteratorResult<ExecutionResult> | null;
  whenReady(reader: Resumable): boolean;
}

/**
 * `results` with every rendered result as a plain object: Yoga's pipeline may copy or
 * change results, which a result that is text first would not survive. `return()` goes
 * straight to the stream (an async generator would wait for its next result first).
 */
function plainResults(results: AsyncIterableIterator<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const step = await results.next();
      return step.done || !(step.value instanceof RenderedResult) ? step : { value: step.value.toJSON(), done: false };
    },
    return: () => results.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (error?: unknown) => results.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
