/**
 * graphql-sse's protocol at `/graphql/stream`, on the same connection registry and
 * operation runner as graphql-ws, so its streams get the same per-owner slots,
 * per-connection operation limit, backpressure (a full response pauses its streams,
 * SLOW_CONSUMER past the time bound), expiry and revocation.
 *
 * - Single connection mode: `PUT` reserves a stream (a valid bearer token is required;
 *   the reservation takes one of the owner's connection slots and lapses unless its stream
 *   opens within CONNECTION_INIT_TIMEOUT); `GET` with the reservation token opens the
 *   stream; `POST` runs an operation on it (`extensions.operationId`), answering 202;
 *   `DELETE ?operationId=` stops one.
 * - Distinct connections mode: a `GET`/`POST` accepting `text/event-stream` without a
 *   reservation token is one stream for one operation.
 *
 * The reservation token travels in `X-GraphQL-Event-Stream-Token` or `?token=`; on this
 * path a `?token=` that names no reservation is taken as the bearer token, as elsewhere.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import { authenticate } from '../../auth/authenticate.ts';
import { tokenFromRequest } from '../../auth/request-token.ts';
import { OperationSet, type FrameFormat, type WireError } from '../core/operation-set.ts';
import { operationLimit } from '../core/operations.ts';
import type { Sink } from '../core/sink.ts';
import { responseSink } from '../sse/response-sink.ts';
import type { EventStreamOptions, EventStreams, StreamStyle } from '../sse/event-streams.ts';
import { headersOf, operationOf, readJson, refuse, sendJson } from '../sse/http-requests.ts';
import { logInternalError } from '../../graphql/errors.ts';
import { GRAPHQL_SSE_PATH } from '../core/requests.ts';

const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';

/** Single connection frames: each names its operation. */
const SINGLE_FRAMES: FrameFormat = {
  next: (id, result) => `event: next\ndata: {"id":${id},"payload":${result}}\n\n`,
  complete: (id) => `event: complete\ndata: {"id":${id}}\n\n`,
  error: (id, errors) => `event: next\ndata: {"id":${id},"payload":{"errors":${JSON.stringify(errors)}}}\n\nevent: complete\ndata: {"id":${id}}\n\n`,
};

/** Distinct connections mode: the stream is the operation; refusals are HTTP statuses. */
const DISTINCT_FRAMES: FrameFormat = {
  next: (_id, result) => `event: next\ndata: ${result}\n\n`,
  complete: () => 'event: complete\ndata: \n\n',
  error: (_id, errors) => `event: next\ndata: {"errors":${JSON.stringify(errors)}}\n\nevent: complete\ndata: \n\n`,
};

const DISTINCT_STYLE: StreamStyle = { transport: 'graphql-sse', frames: DISTINCT_FRAMES, retryMs: null, refusals: 'status' };

/** A reserved (and later open) single-connection stream. */
interface Reservation {
  principal: Principal;
  sink: Sink;
  operations: OperationSet;
  /** The open stream, and the response under it; null until the client's GET arrives. */
  stream: Sink | null;
  res: ServerResponse | null;
  lapse: NodeJS.Timeout | null;
}

export interface GraphQLSseDeps extends Omit<EventStreamOptions, 'heartbeatMs'> {
  /** Serves the distinct connections mode, and carries the single-connection streams (their heartbeat). */
  streams: EventStreams;
  /** Told of each presented token that was refused (the per-address cool-down). */
  onAuthFailed?: (req: IncomingMessage) => void;
}

export interface GraphQLSseHandler {
  /** Serves the request if it is for `/graphql/stream`; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Open streams, for gauges. */
  readonly streams: number;
  /** Ends every stream (shutdown). */
  close(): void;
}

export function createGraphQLSseHandler(deps: GraphQLSseDeps): GraphQLSseHandler {
  const { run, verifier, registry, limits, logger } = deps;
  const reservations = new Map<string, Reservation>();

  const failed = (error: unknown) => logInternalError(logger, error, { transport: 'graphql-sse' });

  /** The operation limit for one connection, as the runner admits it. */
  const admit = operationLimit(registry, limits.subscriptionsPerConnection, logger, 'graphql-sse');

  /** Verifies the bearer token; answers 401 and returns null without a valid one. */
  async function caller(req: IncomingMessage, res: ServerResponse, url: URL, allowQueryToken: boolean): Promise<Principal | null> {
    const token = tokenFromRequest(headersOf(req), allowQueryToken ? url.toString() : 'http://localhost/');
    const auth = await authenticate(verifier, token);
    if (auth.principal) return auth.principal;
    const reason = auth.authError?.details.reason ?? 'missing';
    if (auth.authError) deps.onAuthFailed?.(req);
    logger.warn('authentication failed', { transport: 'graphql-sse', reason });
    refuse(res, new DomainError(ErrorCode.UNAUTHENTICATED, auth.authError?.message ?? 'a bearer token is required (Authorization header)', { reason }));
    return null;
  }

  async function reserve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const principal = await caller(req, res, url, true);
    if (!principal) return;
    const token = randomUUID();
    // Operations write here before and after the stream opens; until then there is no reader.
    const sink: Sink = {
      send: (frame) => reservation.stream?.send(frame),
      bufferedBytes: () => reservation.stream?.bufferedBytes() ?? 0,
      onDrain: (listener) => reservation.stream?.onDrain(listener) ?? (() => {}),
      close: (code, reason) => (reservation.stream ? reservation.stream.close(code, reason) : drop(token)),
      // The registry ends the whole connection at token expiry, like a WebSocket.
      closesAtTokenExpiry: true,
    };
    if (!registry.add(sink, principal, 'graphql-sse')) {
      logger.warn('connection refused', { transport: 'graphql-sse', subject: principal.subject, reason: 'owner connection limit', limit: limits.connectionsPerOwner });
      return refuse(res, new DomainError(ErrorCode.LIMIT_EXCEEDED, `at most ${limits.connectionsPerOwner} connections per owner`, { limit: limits.connectionsPerOwner }));
    }
    const reservation: Reservation = {
      principal,
      sink,
      stream: null,
      res: null,
      operations: new OperationSet(sink, SINGLE_FRAMES, { ended: (id) => registry.endOperation(sink, id), failed }),
      lapse: setTimeout(() => drop(token), limits.connectionInitTimeoutMs),
    };
    reservations.set(token, reservation);
    res.writeHead(201, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
  }

  function drop(token: string): void {
    const reservation = reservations.get(token);
    if (!reservation) return;
    reservations.delete(token);
    if (reservation.lapse) clearTimeout(reservation.lapse);
    registry.remove(reservation.sink);
    void reservation.operations.closeAll();
  }

  /** The reservation a request names, checking that any bearer token it carries is its owner's. */
  async function reservationFor(req: IncomingMessage, res: ServerResponse, token: string): Promise<Reservation | null> {
    const reservation = reservations.get(token);
    if (!reservation) {
      refuse(res, new DomainError(ErrorCode.UNAUTHENTICATED, 'unknown or lapsed stream reservation; reserve a new one (PUT)', { reason: 'reservation' }));
      return null;
    }
    if (req.headers.authorization) {
      const principal = await caller(req, res, new URL('http://localhost/'), false);
      if (!principal) return null;
      if (principal.subject !== reservation.principal.subject) {
        refuse(res, new DomainError(ErrorCode.FORBIDDEN, 'this stream reservation belongs to someone else'));
        return null;
      }
    }
    return reservation;
  }

  async function singleConnection(req: IncomingMessage, res: ServerResponse, url: URL, token: string): Promise<void> {
    const reservation = await reservationFor(req, res, token);
    if (!reservation) return;
    const { principal, operations, sink } = reservation;
    if (req.method === 'GET') {
      if (reservation.stream) return refuse(res, new DomainError(ErrorCode.CONFLICT, 'this reservation already has its stream open'));
      if (reservation.lapse) clearTimeout(reservation.lapse);
      reservation.lapse = null;
      reservation.stream = responseSink(res);
      reservation.res = res;
      logger.info('connection opened', { transport: 'graphql-sse', subject: principal.subject });
      // No retry advice: graphql-sse's client reserves anew rather than reconnecting.
      return deps.streams.start(res, sink, { retryMs: null }, {}, () => {
        drop(token);
        logger.info('connection closed', { transport: 'graphql-sse', subject: principal.subject });
      });
    }
    if (req.method === 'DELETE') {
      const id = url.searchParams.get('operationId');
      if (!id) return refuse(res, new DomainError(ErrorCode.BAD_REQUEST, 'operationId is required'));
      await operations.complete(id);
      return sendJson(res, 200, {});
    }
    const request = operationOf(await readJson(req, limits.wsMaxMessageBytes));
    if (request instanceof DomainError) return refuse(res, request);
    const id = request.extensions?.operationId;
    if (typeof id !== 'string' || !id) return refuse(res, new DomainError(ErrorCode.BAD_REQUEST, 'extensions.operationId is required in single connection mode'));
    if (!reservation.stream) return refuse(res, new DomainError(ErrorCode.CONFLICT, 'open the reserved stream (GET) before sending operations to it'));
    if (operations.has(id)) return refuse(res, new DomainError(ErrorCode.CONFLICT, `an operation with id ${id} is already running`));
    const refused = await operations.open(id, () => run(request, { principal, sink }, admit(sink, id, principal)));
    if (!refused) return void res.writeHead(202).end();
    const limited = refused.some((error) => error.extensions?.code === ErrorCode.LIMIT_EXCEEDED);
    sendJson(res, limited ? 429 : 400, { errors: refused.map((error): WireError => error.toJSON()) });
  }

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== GRAPHQL_SSE_PATH) return false;
      if (req.method === 'PUT') {
        await reserve(req, res, url);
        return true;
      }
      const header = req.headers[STREAM_TOKEN_HEADER];
      const token = (typeof header === 'string' ? header : null) ?? url.searchParams.get('token');
      if (token && (typeof header === 'string' || reservations.has(token))) {
        if (!['GET', 'POST', 'DELETE'].includes(req.method ?? '')) refuse(res, new DomainError(ErrorCode.METHOD_NOT_ALLOWED, 'use GET, POST, PUT or DELETE'));
        else await singleConnection(req, res, url, token);
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'POST') refuse(res, new DomainError(ErrorCode.METHOD_NOT_ALLOWED, 'use GET, POST, PUT or DELETE'));
      else if (!(req.headers.accept ?? '').includes('text/event-stream')) refuse(res, new DomainError(ErrorCode.NOT_ACCEPTABLE, 'accept text/event-stream, or reserve a stream with PUT'));
      else await deps.streams.serve(req, res, url, DISTINCT_STYLE);
      return true;
    },
    get streams() {
      let count = 0;
      for (const reservation of reservations.values()) if (reservation.stream) count++;
      return count;
    },
    close() {
      const responses = [...reservations.values()].flatMap((reservation) => (reservation.res ? [reservation.res] : []));
      for (const token of [...reservations.keys()]) drop(token);
      for (const res of responses) res.end();
    },
  };
}
