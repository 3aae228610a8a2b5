/**
 * Server-Sent Events for subscriptions, resumable: each frame carries `id: <cursor>`, so
 * an EventSource reconnects with `Last-Event-ID` by itself and the stream resumes right
 * after the last event it saw. Also: `retry:` advice, comment heartbeats, and headers that
 * keep proxies from buffering (`X-Accel-Buffering: no`) or compressing the stream.
 */
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { resultJson } from '../graphql/live-results-plugin.ts';

export interface SseOptions {
  heartbeatMs: number;
  retryMs: number;
}

const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'Content-Encoding': 'none',
  'X-Accel-Buffering': 'no',
};

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Formats one result as an SSE frame, with the event's cursor as its id. */
export function sseFrame(result: ExecutionResult): string {
  const cursor = result.extensions?.cursor;
  const id = typeof cursor === 'string' ? `id: ${cursor}\n` : '';
  return `${id}event: next\ndata: ${resultJson(result)}\n\n`;
}

/** Replaces Yoga's SSE processor for streams with the resumable one. */
export function useResumableSse(options: SseOptions): Plugin {
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) return;
      setResultProcessor((stream, fetchAPI) => respond(stream as AsyncIterable<ExecutionResult>, fetchAPI, options), 'text/event-stream');
    },
  };
}

function respond(stream: AsyncIterable<ExecutionResult>, fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response; TextEncoder: typeof TextEncoder }, options: SseOptions): Response {
  const encoder = new fetchAPI.TextEncoder();
  const iterator = stream[Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // The retry advice, and a first write so that clients see the headers at once.
      controller.enqueue(encoder.encode(`retry: ${options.retryMs}\n:\n\n`));
      heartbeat = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(heartbeat);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(':\n\n'));
      }, options.heartbeatMs);
    },
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (value) controller.enqueue(encoder.encode(sseFrame(value)));
        if (done) {
          clearInterval(heartbeat);
          controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
          controller.close();
        }
      } catch (error) {
        clearInterval(heartbeat);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(heartbeat);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, { status: 200, headers: HEADERS });
}
