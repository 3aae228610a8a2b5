/**
 * A connection's operations, alone, over a recording sink: a query is one `next` and a
 * `complete`; a stream's results go out as they come, ready ones without waiting; a
 * refusal sends nothing; `complete` from the client stops a stream without a `complete`
 * frame; a stream that fails is reported with a reference, never its error.
 */
import type { ExecutionResult } from 'graphql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { OperationSet, type FrameFormat } from '../../../src/transport/core/operation-set.ts';
import type { Sink } from '../../../src/transport/core/sink.ts';
import type { Resumable } from '../../../src/streams/resumable.ts';

const FRAMES: FrameFormat = {
  next: (id, json) => `next ${id} ${json}`,
  complete: (id) => `complete ${id}`,
  error: (id, errors) => `error ${id} ${JSON.stringify(errors)}`,
};

function setUp() {
  const sent: string[] = [];
  const ended: string[] = [];
  const sink: Sink = { send: (frame) => sent.push(frame), bufferedBytes: () => 0, onDrain: () => () => {}, closesAtTokenExpiry: true, close: () => {} };
  const operations = new OperationSet(sink, FRAMES, { ended: (id) => ended.push(id), failed: () => 'ref-1' });
  return { sent, ended, operations };
}

/** A stream of results the test pushes, ending when told. */
function pushable() {
  const queue: ExecutionResult[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  let failure: Error | null = null;
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        if (failure) throw failure;
        if (queue.length) return { value: queue.shift()!, done: false };
        if (done) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return() {
      done = true;
      wake?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  return {
    iterator,
    push: (value: number) => (queue.push({ data: { value } }), poke()),
    end: () => ((done = true), poke()),
    fail: (error: Error) => ((failure = error), poke()),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('OperationSet', () => {
  it('sends a query result then complete, and ends the operation', async () => {
    const { sent, ended, operations } = setUp();
    expect(await operations.open('q', async () => ({ kind: 'result', result: { data: { me: 1 } } }))).toBeNull();
    expect(sent).toEqual(['next "q" {"data":{"me":1}}', 'complete "q"']);
    expect(ended).toEqual(['q']);
    expect(operations.has('q')).toBe(false);
  });

  it('answers a refusal with its errors and sends nothing', async () => {
    const { sent, ended, operations } = setUp();
    const refusal = [new GraphQLError('no', { extensions: { code: 'LIMIT_EXCEEDED' } })];
    expect(await operations.open('s', async () => ({ kind: 'errors', errors: refusal }))).toBe(refusal);
    expect(sent).toEqual([]);
    expect(ended).toEqual(['s']);
  });

  it('sends a stream result by result and completes when it ends', async () => {
    const { sent, operations } = setUp();
    const stream = pushable();
    await operations.open('s', async () => ({ kind: 'stream', results: stream.iterator, operationName: null }));
    stream.push(1);
    stream.push(2);
    await turn();
    stream.end();
    await turn();
    expect(sent).toEqual(['next "s" {"data":{"value":1}}', 'next "s" {"data":{"value":2}}', 'complete "s"']);
  });

  it('lets a stream that can park wait without next(), and sends what is ready when it resumes it', async () => {
    const { sent, operations } = setUp();
    const ready: ExecutionResult[] = [];
    let parked: Resumable | null = null;
    let done = false;
    const results = {
      takeNow: () => (ready.length ? { value: ready.shift()!, done: false as const } : done ? { value: undefined, done: true as const } : null),
      whenReady: (reader: Resumable) => ((parked = reader), true),
      next: () => Promise.reject(new Error('a stream that can park is never asked for next()')),
      return: async () => ({ value: undefined, done: true as const }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    ready.push({ data: { value: 1 } });
    await operations.open('s', async () => ({ kind: 'stream', results: results as unknown as AsyncIterableIterator<ExecutionResult>, operationName: null }));
    expect(sent).toEqual(['next "s" {"data":{"value":1}}']);
    ready.push({ data: { value: 2 } }, { data: { value: 3 } });
    parked!.resume();
    done = true;
    parked!.resume();
    expect(sent).toEqual(['next "s" {"data":{"value":1}}', 'next "s" {"data":{"value":2}}', 'next "s" {"data":{"value":3}}', 'complete "s"']);
    expect(operations.has('s')).toBe(false);
  });

  it('stops a stream the client completed, with no complete frame, and lets the id be used again', async () => {
    const { sent, ended, operations } = setUp();
    const stream = pushable();
    await operations.open('s', async () => ({ kind: 'stream', results: stream.iterator, operationName: null }));
    await operations.complete('s');
    stream.push(1);
    await turn();
    expect(sent).toEqual([]);
    expect(ended).toEqual(['s']);
    expect(operations.has('s')).toBe(false);
  });

  it('reports a stream that fails with a reference, not its error', async () => {
    const { sent, operations } = setUp();
    const stream = pushable();
    await operations.open('s', async () => ({ kind: 'stream', results: stream.iterator, operationName: null }));
    stream.fail(new Error('database password is hunter2'));
    await turn();
    expect(sent).toEqual(['error "s" [{"message":"Internal server error (reference ref-1)","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]']);
  });

  it('ends every operation when the connection closes', async () => {
    const { ended, operations } = setUp();
    const [a, b] = [pushable(), pushable()];
    await operations.open('a', async () => ({ kind: 'stream', results: a.iterator, operationName: null }));
    await operations.open('b', async () => ({ kind: 'stream', results: b.iterator, operationName: null }));
    await operations.closeAll();
    expect(ended.sort()).toEqual(['a', 'b']);
    expect(operations.has('a') || operations.has('b')).toBe(false);
  });
});
