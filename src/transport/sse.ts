/**
 * Server-Sent Events for subscriptions, resumable: each frame carries `id: <cursor>`, so
 * an EventSource reconnects with `Last-Event-ID` by itself and the stream resumes right
 * after the last event it saw. Also: `retry:` advice, comment heartbeats, and headers that
 * keep proxies from buffering (`X-Accel-Buffering: no`) or compressing the stream.
 */
import type { Plugin } from 'graphql-yoga';
import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { resultJson } from '../graphql/live-results-plugin.ts';

export interface SseOptions {
  heartbeatMs: number;
  retryMs: number;
  /** A stream whose connection stays full this long (its client reads nothing) is ended and cut. */
  slowConsumerTimeoutMs: number;
  /** Told when a stream is ended that way (logs, metrics). */
  onSlowConsumer?: () => void;
}

/** The response's connection, as the stall check needs it. */
interface StreamConnection {
  /** True while the connection holds more than it will take (its client is not reading). */
  stuck(): boolean;
  /** Cuts the connection. */
  cut(): void;
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
    onResultProcess({ request, result, setResultProcessor, serverContext }) {
      if (!isAsyncIterable(result)) return;
      if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) return;
      const res = (serverContext as { res?: ServerResponse }).res;
      const connection: StreamConnection = { stuck: () => Boolean(res?.writableNeedDrain), cut: () => res?.destroy() };
      setResultProcessor((stream, fetchAPI) => respond(stream as AsyncIterable<ExecutionResult>, fetchAPI, options, connection), 'text/event-stream');
    },
  };
}

function respond(
  stream: AsyncIterable<ExecutionResult>,
  fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response; TextEncoder: typeof TextEncoder },
  options: SseOptions,
  connection: StreamConnection,
): Response {
  const encoder = new fetchAPI.TextEncoder();
  const iterator = stream[Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  /** Since when the connection has stayed full (null while the client reads). */
  let stalledSince: number | null = null;
  let lastBeat = Date.now();
  let ended = false;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // The retry advice, and a first write so that clients see the headers at once.
      controller.enqueue(encoder.encode(`retry: ${options.retryMs}\n:\n\n`));
      // The body is pulled at the client's pace: while the socket is full nothing pulls, so
      // a client that stopped reading would hold its stream for ever. One tick checks it:
      // stuck past the time bound, the stream ends and the connection is cut (an EventSource
      // reconnects with Last-Event-ID and resumes after the last event it read).
      heartbeat = setInterval(() => {
        const now = Date.now();
        if (!connection.stuck()) {
          stalledSince = null;
          if (now - lastBeat < options.heartbeatMs) return;
          lastBeat = now;
          return controller.enqueue(encoder.encode(':\n\n'));
        }
        stalledSince ??= now;
        if (now - stalledSince < options.slowConsumerTimeoutMs) return;
        clearInterval(heartbeat);
        ended = true;
        options.onSlowConsumer?.();
        void iterator.return?.();
        connection.cut();
      }, Math.min(options.heartbeatMs, options.slowConsumerTimeoutMs));
    },
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (ended) return;
        if (value) controller.enqueue(encoder.encode(sseFrame(value)));
        if (done) {
          clearInterval(heartbeat);
          controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
          controller.close();
        }
      } catch (error) {
        clearInterval(heartbeat);
        if (!ended) controller.error(error);
      }
    },
    async cancel() {
      clearInterval(heartbeat);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, { status: 200, headers: HEADERS });
}
