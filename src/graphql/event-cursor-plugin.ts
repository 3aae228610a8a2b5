/**
 * Every subscription result carries `extensions: { cursor, sequence, eventId }` of the event it
 * delivers, whatever fields the client selected. Clients (and the SSE `id:` line) can
 * then always resume, even from a result whose selection skipped `cursor`.
 */
import type { Plugin } from 'graphql-yoga';
import { cursorOf, type WalletEvent } from '../domain/events.ts';
import type { GraphQLContext } from './context.ts';

/** `onSent` is told about every event whose result leaves for the transport (metrics). */
export function useEventCursor(onSent: (event: WalletEvent) => void = () => {}): Plugin<GraphQLContext> {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args }) {
          const ctx = args.contextValue as GraphQLContext;
          return {
            onNext({ result, setResult }) {
              const event = ctx.delivering;
              if (!event) return;
              ctx.delivering = null;
              onSent(event);
              setResult({ ...result, extensions: { ...result.extensions, cursor: cursorOf(event), sequence: event.sequence, eventId: event.eventId } });
            },
          };
        },
      };
    },
  };
}
