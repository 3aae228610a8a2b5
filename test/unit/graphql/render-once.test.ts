/**
 * Render once: an event from the live feed is one object that every subscriber of its
 * owner receives, so its result is made once and shared; an event from a page of the log
 * was read for one stream alone, so its result is made for that stream and not kept, and
 * its send is not timed as live delivery (its age is how far behind the reader was). A
 * planned result is JSON text first; Yoga's pipeline gets plain objects.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { WalletEvent } from '../../../src/domain/events.ts';
import { LiveResults } from '../../../src/graphql/render-once.ts';
import { RenderedResult, resultJson } from '../../../src/graphql/result-text.ts';
import { createSchema } from '../../../src/graphql/schema.ts';
import { makeEvent } from '../../support/memory-log.ts';

const schema = createSchema();
const SUBSCRIPTION = `subscription { walletEvents { eventId sequence ... on BalanceEvent { balance { available } } } }`;

function setUp() {
  const sent: { sequence: number; fromLog: boolean }[] = [];
  const live = new LiveResults((event, fromLog) => void sent.push({ sequence: event.sequence, fromLog }));
  const args: ExecutionArgs = { schema, document: parse(SUBSCRIPTION), contextValue: {} };
  const plan = live.planOf(args, 'key');
  return { live, args, plan, sent };
}

describe('LiveResults', () => {
  it('shares the result of a live event between subscribers of the same operation', () => {
    const { live, args, plan, sent } = setUp();
    const event = makeEvent('o-1', 7);
    const first = live.resultOf(args, 'key', event, plan);
    const second = live.resultOf(args, 'key', event, plan);
    expect(second).toBe(first);
    expect(JSON.parse(resultJson(first as never))).toEqual({
      data: { walletEvents: { eventId: 'e-o-1-7', sequence: 7, balance: { available: '7' } } },
      extensions: { cursor: expect.any(String), sequence: 7, eventId: 'e-o-1-7' },
    });
    expect(sent).toEqual([
      { sequence: 7, fromLog: false },
      { sequence: 7, fromLog: false },
    ]);
  });

  it("makes an event from the log its stream's own result, the same text, not kept, and says it was replayed", () => {
    const { live, args, plan, sent } = setUp();
    const event: WalletEvent = makeEvent('o-1', 8);
    const shared = live.resultOf(args, 'key', event, plan);
    const replayed = live.resultOf(args, 'key', event, plan, true);
    const again = live.resultOf(args, 'key', event, plan, true);
    expect(replayed).not.toBe(shared);
    expect(again).not.toBe(replayed);
    expect(resultJson(replayed as never)).toBe(resultJson(shared as never));
    expect(sent.map((s) => s.fromLog)).toEqual([false, true, true]);
  });

  it('gives the same result without a plan (executed) as with one', () => {
    const { live, args, plan } = setUp();
    const event = makeEvent('o-1', 9);
    const planned = live.resultOf(args, 'key', event, plan, true);
    const executed = live.resultOf(args, 'other', event, null, true);
    expect(resultJson(executed as never)).toBe(resultJson(planned as never));
  });

  it("hands Yoga's pipeline plain results, and its return() reaches the stream at once", async () => {
    // A schema of its own: one subscription field whose stream the test holds.
    let ended = false;
    const events = [makeEvent('o-1', 1), makeEvent('o-1', 2)];
    const stream: AsyncIterableIterator<unknown> = {
      next: async () => (events.length ? { value: events.shift(), done: false } : new Promise<never>(() => {})),
      return: async () => ((ended = true), { value: undefined, done: true }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const own = makeExecutableSchema({
      typeDefs: 'type Query { ok: Boolean } type Event { eventId: ID! sequence: Int! } type Subscription { events: Event }',
      resolvers: { Subscription: { events: { subscribe: () => stream, resolve: (event: unknown) => event } } },
    });
    const live = new LiveResults();
    let subscribe: ((args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult>>) | undefined;
    (live.plugin().onSubscribe as (payload: unknown) => void)({ setSubscribeFn: (fn: typeof subscribe) => (subscribe = fn) });
    const results = await subscribe!({ schema: own, document: parse('subscription { events { eventId sequence } }'), contextValue: {} });
    const first = (await results.next()).value as ExecutionResult;
    expect(first).not.toBeInstanceOf(RenderedResult);
    expect(first).toEqual({ data: { events: { eventId: 'e-o-1-1', sequence: 1 } }, extensions: { cursor: expect.any(String), sequence: 1, eventId: 'e-o-1-1' } });
    expect({ ...((await results.next()).value as ExecutionResult) }.data).toEqual({ events: { eventId: 'e-o-1-2', sequence: 2 } });
    const waiting = results.next(); // nothing more: it waits
    await results.return!();
    expect(ended).toBe(true);
    void waiting;
  });

  it('writes a rendered result as JSON.stringify would write the same result', () => {
    const { live, args, plan } = setUp();
    const result = live.resultOf(args, 'key', makeEvent('o-1', 3), plan, true) as RenderedResult;
    expect(result).toBeInstanceOf(RenderedResult);
    expect(JSON.stringify(result)).toBe(result.json);
    expect(JSON.stringify({ data: result.data, extensions: result.extensions })).toBe(result.json);
  });
});
