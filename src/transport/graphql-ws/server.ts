/**
 * graphql-ws (`graphql-transport-ws`) on `ws`: upgrades on `/graphql`, one
 * {@link GraphQLWsConnection} per socket, sharing the Yoga pipeline. The token is checked
 * once, at `connection_init`: a socket without a valid one is closed with 4401 (invalid:
 * the standard client does not retry) or 4403 (expired: it retries, so a client whose
 * token function returns a fresh token reconnects by itself).
 *
 * One timer serves every socket: each interval, a socket that has not answered the last
 * ping is terminated and the others are pinged (no timer per connection).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, type SubscribePayload } from 'graphql-ws';
import { CLOSES } from '../../domain/errors.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenVerifier } from '../../auth/verifier.ts';
import type { Limits, WsCompression } from '../../config/load.ts';
import { logInternalError } from '../../graphql/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Principal } from '../../domain/principal.ts';
import { authenticate } from '../../auth/authenticate.ts';
import { tokenFromConnection } from '../../auth/request-token.ts';
import type { ConnectionRegistry } from '../core/connection-registry.ts';
import { closeSpread } from '../core/close-spread.ts';
import { refuseUpgrade } from '../address-guard/address-admission.ts';
import type { AddressGuard } from '../address-guard/address-guard.ts';
import { operationLimit, type OperationRunner } from '../core/operations.ts';
import type { Sink } from '../core/sink.ts';
import { GraphQLWsConnection, type ConnectionHooks } from './connection.ts';
import { forgetSocket, holdUntilTurnEnds } from './turn-batching.ts';

const CLOSE_TIMEOUT_MS = 3_000;
/** WebSocket close reasons are at most 123 bytes. */
const MAX_REASON_BYTES = 123;
const PATH = '/graphql';

export interface WebSocketTransport {
  /** Open sockets, for gauges. */
  readonly size: number;
  /** Closes every socket with 1001, spread over `windowMs`. */
  drain(windowMs: number): Promise<void>;
  /** Closes every socket with `code` and stops accepting. */
  close(code: number, reason: string): Promise<void>;
}

/** Shortens `reason` to what a close frame can carry, on a character boundary. */
function closeReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > MAX_REASON_BYTES) text = text.slice(0, -1);
  return text;
}

/**
 * A socket as a {@link Sink}: writes batched per turn, drain from its TCP connection. A
 * class, so that its methods are shared by every socket rather than closures of each.
 */
class SocketSink implements Sink {
  private drainListeners: Set<() => void> | null = null;
  // The registry closes the socket (4403) at token expiry; the client reconnects with a fresh token.
  readonly closesAtTokenExpiry = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket,
  ) {}

  send(frame: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    holdUntilTurnEnds(this.tcp);
    this.ws.send(frame);
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  onDrain(listener: () => void): () => void {
    let listeners = this.drainListeners;
    if (!listeners) {
      const all = (listeners = this.drainListeners = new Set());
      this.tcp.on('drain', () => {
        for (const waiting of [...all]) waiting();
      });
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, closeReason(reason));
  }
}

/**
 * ws's permessage-deflate options. The server keeps its compression context between
 * messages (events of one shape compress far better with it) in a small window; clients
 * are asked to reset theirs, so the server's decompressor holds no history. The
 * compressor is only allocated once a message reaches the threshold.
 */
function deflateOptions(compression: WsCompression | null) {
  if (!compression) return false;
  return {
    threshold: compression.thresholdBytes,
    zlibDeflateOptions: { level: compression.level, memLevel: compression.memLevel },
    serverMaxWindowBits: compression.windowBits,
    clientNoContextTakeover: true,
  };
}

export function attachWebSocket(deps: {
  httpServer: Server;
  run: OperationRunner;
  verifier: TokenVerifier;
  logger: Logger;
  pingIntervalMs: number;
  limits: Limits;
  registry: ConnectionRegistry;
  /** permessage-deflate settings; null leaves it off (not offered to clients). */
  compression?: WsCompression | null;
  /** Per-address limits on upgrades and failed authentications. */
  addresses?: AddressGuard;
}): WebSocketTransport {
  const { run, verifier, logger, limits, registry } = deps;
  // maxPayload: ws closes a connection that sends a larger frame with 1009 (Message Too Big).
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: limits.wsMaxMessageBytes,
    perMessageDeflate: deflateOptions(deps.compression ?? null),
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
    // Browsers always send Origin; other clients (servers, mobile apps) send none.
    verifyClient: ({ origin }: { origin?: string }, done: (ok: boolean, code?: number, message?: string) => void) => {
      if (!origin || limits.allowedOrigins === '*' || limits.allowedOrigins.includes(origin)) return done(true);
      logger.warn('connection refused', { transport: 'ws', reason: 'origin not allowed', origin });
      done(false, 403, 'origin not allowed');
    },
  });
  const admit = operationLimit(registry, limits.subscriptionsPerConnection, logger, 'ws');
  /** Sockets that have not answered the last keep-alive ping. */
  const unanswered = new WeakSet<WebSocket>();
  /** The pong listener, one function for every socket (ws calls it with the socket as `this`). */
  function answered(this: WebSocket): void {
    unanswered.delete(this);
  }

  /**
   * Every line about one socket carries its number, so its lifecycle can be followed. (Not
   * a pino child logger per socket: one costs about 2 KB, a fifth of a connection's budget.)
   */
  let sockets = 0;

  /**
   * One socket's side of its connection (its caller's checks, its operations). A class
   * for the same reason as the sink. Keeps the upgrade request's URL and address, not the
   * request itself, which would hold its headers for as long as the socket lives.
   */
  class SocketHooks implements ConnectionHooks {
    connection: GraphQLWsConnection | null = null;

    constructor(
      private readonly ws: WebSocket,
      private readonly sink: Sink,
      private readonly url: string | undefined,
      private readonly address: string | null,
      readonly id: number,
    ) {}

    async connect(params: Readonly<Record<string, unknown>> | undefined) {
      const { ws, sink, id } = this;
      const { principal, authError } = await authenticate(verifier, tokenFromConnection(params, this.url));
      if (authError && deps.addresses && this.address !== null) deps.addresses.authFailed(this.address);
      // The client may have left while its token was verified (a slow key set): taking a
      // connection slot now would never be undone.
      if (ws.readyState !== ws.OPEN) return { refuse: { code: CLOSES.tokenExpired.code, reason: 'gone' } };
      if (principal) {
        if (!registry.add(sink, principal, 'ws')) {
          logger.warn('connection refused', { transport: 'ws', connection: id, subject: principal.subject, reason: 'owner connection limit', limit: limits.connectionsPerOwner });
          return { refuse: { code: CLOSES.tryAgainLater.code, reason: `LIMIT_EXCEEDED: at most ${limits.connectionsPerOwner} connections per owner` } };
        }
        logger.info('connection authenticated', { transport: 'ws', connection: id, subject: principal.subject, role: principal.role });
        return { principal };
      }
      const reason = authError?.message ?? 'a bearer token is required in the connection_init payload (authorization) or ?token=';
      const expired = authError?.details.reason === 'expired';
      logger.warn('authentication failed', { transport: 'ws', connection: id, reason, code: authError?.details.reason ?? 'missing' });
      return { refuse: { code: expired ? CLOSES.tokenExpired.code : CLOSES.unauthorized.code, reason: `UNAUTHENTICATED: ${reason}` } };
    }

    async start(operationId: string, payload: SubscribePayload, principal: Principal) {
      const started = await run(payload, { principal, sink: this.sink }, admit(this.sink, operationId, principal));
      if (started.kind === 'stream') logger.info('subscribed', { transport: 'ws', connection: this.id, subject: principal.subject, id: operationId, operationName: started.operationName });
      return started;
    }

    ended(operationId: string): void {
      registry.endOperation(this.sink, operationId);
    }

    failed(error: unknown): string {
      return logInternalError(logger, error, { transport: 'ws', connection: this.id, subject: this.connection?.caller?.subject });
    }
  }

  const opened = (ws: WebSocket, request: IncomingMessage, tcp: Socket, address: string | null) => {
    const id = ++sockets;
    logger.info('connection opened', { transport: 'ws', connection: id, remote: request.socket.remoteAddress, origin: request.headers.origin });
    const sink = new SocketSink(ws, tcp);
    if (server.clients.size > limits.connectionsPerInstance) {
      logger.warn('connection refused', { transport: 'ws', connection: id, reason: 'instance connection limit', limit: limits.connectionsPerInstance });
      return sink.close(CLOSES.tryAgainLater.code, 'LIMIT_EXCEEDED: this server is at its connection limit; retry later');
    }
    if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return sink.close(CLOSES.subprotocolNotAcceptable.code, 'Subprotocol not acceptable');
    const hooks = new SocketHooks(ws, sink, request.url, address, id);
    const connection = (hooks.connection = new GraphQLWsConnection(sink, hooks, limits.connectionInitTimeoutMs));
    ws.on('message', (data) => void connection.receive(String(data)));
    ws.on('pong', answered);
    ws.on('error', (error) => logger.debug('socket error', { transport: 'ws', connection: id, error }));
    // `on`, not `once`: a socket closes once, and `once` wraps its listener in three
    // objects (about 150 bytes for as long as the socket lives).
    ws.on('close', (code, reason) => {
      forgetSocket(tcp);
      registry.remove(sink);
      void connection.closed();
      logger.info('connection closed', { transport: 'ws', connection: id, subject: connection.caller?.subject, code, reason: String(reason ?? '') });
    });
  };

  const upgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const address = deps.addresses ? deps.addresses.addressOf(request) : null;
    if (deps.addresses && address !== null) {
      const admitted = deps.addresses.open(address);
      if (typeof admitted !== 'function') return refuseUpgrade(socket, admitted, logger, address);
      socket.on('close', admitted); // `on`: see `opened`'s close listener
    }
    server.handleUpgrade(request, socket, head, (ws) => {
      opened(ws, request, socket, address);
    });
  };
  deps.httpServer.on('upgrade', upgrade);

  const keepAlive =
    deps.pingIntervalMs > 0
      ? setInterval(() => {
          for (const ws of server.clients) {
            if (unanswered.has(ws)) {
              ws.terminate();
              continue;
            }
            unanswered.add(ws);
            ws.ping();
          }
        }, deps.pingIntervalMs)
      : null;
  keepAlive?.unref();

  return {
    get size() {
      return server.clients.size;
    },
    async drain(windowMs) {
      // Spread the closes over the window: clients reconnect (elsewhere) in a trickle.
      await closeSpread([...server.clients], windowMs, (socket) => socket.close(CLOSES.goingAway.code, 'server shutting down; reconnect'));
    },
    async close(code, reason) {
      if (keepAlive) clearInterval(keepAlive);
      deps.httpServer.off('upgrade', upgrade);
      const closed = [...server.clients].map((client) => new Promise((resolve) => client.once('close', resolve)));
      for (const client of server.clients) client.close(code, closeReason(reason));
      // Wait for the close handshakes (so subscriptions have ended), but not forever.
      await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
