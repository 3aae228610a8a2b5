/**
 * Event streams with one operation each: Server-Sent Events at `/graphql` (what an
 * `EventSource` opens) and graphql-sse's distinct connections mode. The response is the
 * stream's {@link Sink}, so it gets the same backpressure as a socket: past
 * SLOW_CONSUMER_BYTES unsent the stream pauses, and past SLOW_CONSUMER_TIMEOUT it ends with
 * SLOW_CONSUMER, said in the stream.
 *
 * SSE frames carry the event's cursor as their id, so an EventSource reconnects with
 * `Last-Event-ID` by itself and resumes right after the last event it saw. Streams start
 * with `retry:` advice and get comment heartbeats from one timer for all of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '../../auth/verifier.ts';
import type { Limits } from '../../config/load.ts';
import { DomainError, ErrorCode } from '../../domain/errors.ts';
import { logInternalError, toGraphQLError } from '../../graphql/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { authenticate } from '../../auth/authenticate.ts';
import { tokenFromRequest } from '../../auth/request-token.ts';
import type { ConnectionRegistry } from '../core/connection-registry.ts';
import { headersOf, operationFromUrl, operationOf, readJson, refuse } from './http-requests.ts';
import { OperationSet, type FrameFormat, type WireError } from '../core/operation-set.ts';
import type { OperationRunner } from '../core/operations.ts';
import { EVENT_STREAM_HEADERS, responseSink } from './response-sink.ts';
import type { Sink } from '../core/sink.ts';

/** SSE frames: the cursor as the event id, the result as data. */
export const SSE_FRAMES: FrameFormat = {
  next: (_id, json, result) => {
    const cursor = result.extensions?.cursor;
    return `${typeof cursor === 'string' ? `id: ${cursor}\n` : ''}event: next\ndata: ${json}\n\n`;
  },
  complete: () => 'event: complete\ndata: \n\n',
  error: (_id, errors) => `event: next\ndata: {"errors":${JSON.stringify(errors)}}\n\nevent: complete\ndata: \n\n`,
};

export interface EventStreamOptions {
  run: OperationRunner;
  verifier: TokenVerifier;
  registry: ConnectionRegistry;
  limits: Limits;
  logger: Logger;
  heartbeatMs: number;
  /** Told of each presented token that was refused (the per-address cool-down). */
  onAuthFailed?: (req: IncomingMessage) => void;
}

/** How one kind of stream behaves. */
export interface StreamStyle {
  transport: string;
  frames: FrameFormat;
  /** `retry:` advice for EventSource, in ms; null for none. */
  retryMs: number | null;
  /**
   * Where refusals (no token, a bad one, the owner's limit) go: into the stream, where an
   * EventSource can read them (it cannot read a 4xx body), or an HTTP status.
   */
  refusals: 'in-stream' | 'status';
}

export interface EventStreams {
  /** Serves `req` as a stream in `style`. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, style: StreamStyle): Promise<void>;
  /**
   * Starts an event stream on `res` (headers, then the retry advice or a comment) and keeps
   * it in the heartbeat until it closes; `onClose` runs then.
   */
  start(res: ServerResponse, sink: Sink, style: Pick<StreamStyle, 'retryMs'>, headers: Record<string, string>, onClose: () => void): void;
  /** Open streams, for gauges. */
  readonly count: number;
  /** Ends every stream (shutdown). */
  close(): void;
}

export function createEventStreams(options: EventStreamOptions): EventStreams {
  const { run, verifier, registry, limits, logger } = options;
  const open = new Set<{ sink: Sink; res: ServerResponse }>();

  // One timer for every stream: a comment line keeps idle proxies from cutting it.
  const heartbeat = setInterval(() => {
    for (const { sink } of open) if (sink.bufferedBytes() === 0) sink.send(':\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();

  function start(res: ServerResponse, sink: Sink, style: Pick<StreamStyle, 'retryMs'>, headers: Record<string, string>, onClose: () => void): void {
    res.writeHead(200, { ...EVENT_STREAM_HEADERS, ...headers });
    // The retry advice, and a first write so that clients see the headers at once.
    res.write(style.retryMs === null ? ':\n\n' : `retry: ${style.retryMs}\n:\n\n`);
    const entry = { sink, res };
    open.add(entry);
    res.once('close', () => {
      open.delete(entry);
      onClose();
    });
  }

  /** Ends `res` with `error`, as the style says. */
  function refused(res: ServerResponse, sink: Sink, style: StreamStyle, origin: string | undefined, error: DomainError): void {
    if (style.refusals === 'status') return refuse(res, error);
    start(res, sink, style, corsHeaders(origin, limits.allowedOrigins), () => {});
    sink.send(style.frames.error('""', [toGraphQLError(error).toJSON() as WireError]));
    res.end();
  }

  return {
    start,
    async serve(req, res, url, style) {
      const { principal, authError } = await authenticate(verifier, tokenFromRequest(headersOf(req), url.toString()));
      const request = req.method === 'GET' ? operationFromUrl(url) : operationOf(await readJson(req, limits.wsMaxMessageBytes));
      // The client may have left while its token was verified (a slow key set): its close
      // has already run, so neither a slot nor a stream would ever be released.
      if (res.destroyed || res.writableEnded) return;
      const sink = responseSink(res);
      const origin = req.headers.origin;
      if (authError) options.onAuthFailed?.(req);
      if (!principal && style.refusals === 'status') {
        logger.warn('authentication failed', { transport: style.transport, reason: authError?.details.reason ?? 'missing' });
        return refused(res, sink, style, origin, authError ?? new DomainError(ErrorCode.UNAUTHENTICATED, 'a bearer token is required (Authorization header)', { reason: 'missing' }));
      }
      if (request instanceof DomainError) return refused(res, sink, style, origin, request);
      if (authError) logger.warn('authentication failed', { transport: style.transport, reason: authError.details.reason });
      // A stream is a connection: it counts toward its owner's limit. Anonymous ones hold no
      // slot; their fields refuse them with UNAUTHENTICATED, in the stream.
      const release = principal ? registry.addStream(principal.subject) : () => {};
      if (!release) {
        logger.warn('connection refused', { transport: style.transport, subject: principal!.subject, reason: 'owner connection limit', limit: limits.connectionsPerOwner });
        return refused(res, sink, style, origin, new DomainError(ErrorCode.LIMIT_EXCEEDED, `at most ${limits.connectionsPerOwner} connections per owner`, { limit: limits.connectionsPerOwner }));
      }
      // The response ends with its operation; until `open` has returned, the caller may still write.
      let opened = false;
      const operations = new OperationSet(sink, style.frames, {
        ended: () => {
          if (opened) res.end();
        },
        failed: (error) => logInternalError(logger, error, { transport: style.transport }),
      });
      start(res, sink, style, corsHeaders(origin, limits.allowedOrigins), () => {
        release();
        void operations.closeAll();
        logger.info('connection closed', { transport: style.transport, subject: principal?.subject });
      });
      logger.info('connection opened', { transport: style.transport, subject: principal?.subject });
      const refusal = await operations.open('', () =>
        run(request, { principal, authError, sink, lastEventId: (req.headers['last-event-id'] as string | undefined) ?? null }, () => null),
      );
      if (refusal) sink.send(style.frames.error('""', refusal.map((error) => error.toJSON())));
      opened = true;
      if (!operations.has('')) res.end();
    },
    get count() {
      return open.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const { res } of open) res.end();
    },
  };
}

/** CORS for a browser stream from another origin (preflights are answered with the rest of the API). */
function corsHeaders(origin: string | undefined, allowed: '*' | readonly string[]): Record<string, string> {
  if (!origin) return {};
  if (allowed === '*') return { 'access-control-allow-origin': '*' };
  return allowed.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}
