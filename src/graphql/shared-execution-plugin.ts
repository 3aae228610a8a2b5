/**
 * Executes a live event once per distinct (document, operation, variables), however many
 * subscribers share them. Every subscriber of an owner on this instance receives the very
 * same event object (the owner hub parses a topic message once), and an event's fields
 * resolve from the event alone, so the result is the same for all of them: a dashboard
 * open on 100 devices costs one execution per event, not 100.
 *
 * Results are cached per event object in a WeakMap, so they go when the event does.
 * Refusal payloads (a stream ending with SLOW_CONSUMER, say) belong to one subscriber and
 * are never shared: they are distinct objects, never handed to anyone else.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WalletEvent } from '../domain/events.ts';
import type { GraphQLContext } from './context.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** True for a payload that is an event (not a per-stream refusal). */
function isEvent(payload: unknown): payload is WalletEvent {
  return typeof payload === 'object' && payload !== null && 'eventId' in payload;
}

export function useSharedExecution(): Plugin<GraphQLContext> {
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
    let byKey = results.get(payload);
    if (!byKey) results.set(payload, (byKey = new Map()));
    const cached = byKey.get(key);
    if (cached) {
      // The resolver that would have said which event this result carries did not run.
      (args.contextValue as GraphQLContext).delivering = payload;
      return cached;
    }
    const result = execute({ ...args, rootValue: payload });
    byKey.set(key, result);
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
