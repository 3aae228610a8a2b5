/**
 * Subscription results, made once per event and shared (docs/ARCHITECTURE.md, "Render
 * once, send many"). Every subscriber of an owner on this instance receives the very same
 * event object from its feed, and an event's fields resolve from the event alone, so a
 * (document, operation, variables) gives the same result for every subscriber: it is
 * executed once, the event's cursor is added to its `extensions` once, and the result
 * object is shared, so its JSON text is made once too ({@link resultJson}).
 *
 * A result made for a per-stream refusal (a stream ending with SLOW_CONSUMER, say) is the
 * subscriber's own: it is never cached or shared.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { cursorOf, type WalletEvent } from '../domain/events.ts';
import type { GraphQLContext } from './context.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** True for a payload that is an event (not a per-stream refusal). */
function isEvent(payload: unknown): payload is WalletEvent {
  return typeof payload === 'object' && payload !== null && 'eventId' in payload;
}

/** The result with the event's cursor in its extensions, so every result can be resumed from. */
function withCursor(result: ExecutionResult, event: WalletEvent): ExecutionResult {
  return { ...result, extensions: { ...result.extensions, cursor: cursorOf(event), sequence: event.sequence, eventId: event.eventId } };
}

/**
 * Executes each event once per distinct operation and adds its cursor. `onSent` is told
 * about every event whose result leaves for a subscriber (metrics).
 */
export function useLiveResults(onSent: (event: WalletEvent) => void = () => {}): Plugin<GraphQLContext> {
  const results = new WeakMap<object, Map<string, Result>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;

  /** Same parsed document (Yoga caches parses by text), operation and variables → same key. */
  const keyOf = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
    return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  };

  const run = (args: ExecutionArgs, key: string, payload: unknown): Result => {
    if (!isEvent(payload)) return execute({ ...args, rootValue: payload });
    onSent(payload);
    let byKey = results.get(payload);
    if (!byKey) results.set(payload, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) {
      const executed = execute({ ...args, rootValue: payload });
      result = executed instanceof Promise ? executed.then((done) => withCursor(done, payload)) : withCursor(executed, payload);
      byKey.set(key, result);
    }
    return result;
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const key = keyOf(args);
        return mapEvents(source as AsyncIterableIterator<unknown>, (payload) => run(args, key, payload));
      }) as never);
    },
  };
}

const json = new WeakMap<ExecutionResult, string>();

/**
 * The JSON text of `result`, made once per result object: a shared live result is
 * serialized once however many subscribers it goes to, and each transport builds its
 * frame around this text.
 */
export function resultJson(result: ExecutionResult): string {
  let text = json.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    json.set(result, text);
  }
  return text;
}

/**
 * Maps an event iterator to results, passing `return()` straight through so that an
 * unsubscribing client ends the stream at once rather than at the next event.
 */
function mapEvents(source: AsyncIterableIterator<unknown>, map: (payload: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { value: undefined, done: true };
      return { value: await map(step.value), done: false };
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    throw: async (error) => {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
