/**
 * graphql-ws (`graphql-transport-ws`) on `ws`, sharing the Yoga pipeline. The token is
 * checked once, at `connection_init`: a socket without a valid one is closed with 4401
 * (invalid: the standard client does not retry) or 4403 (expired: it retries, so a
 * client whose token function returns a fresh token reconnects by itself).
 */
import type { Server } from 'node:http';
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Socket } from 'node:net';
import type { TokenVerifier } from '../auth/verifier.ts';
import type { Limits } from '../config.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import { presentError, VALIDATION_CODE } from '../graphql/errors.ts';
import type { Logger } from '../logger.ts';
import { authenticate } from './authenticate.ts';
import { tokenFromConnection } from './auth-token.ts';
import { CLOSE, type ConnectionRegistry } from './connection-registry.ts';
import { closeSpread } from './close-spread.ts';
import { batchWrites } from './write-batching.ts';
import type { Yoga } from './yoga.ts';

type SocketExtra = {
  principal?: Principal;
};

const CLOSE_TIMEOUT_MS = 3_000;

interface Envelope {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export interface WebSocketTransport {
  server: WebSocketServer;
  /** Closes every socket with 1001, spread over `windowMs`. */
  drain(windowMs: number): Promise<void>;
  /** Closes every socket with `code` and stops accepting. */
  close(code: number, reason: string): Promise<void>;
}

export function attachWebSocket(deps: {
  httpServer: Server;
  yoga: Yoga;
  verifier: TokenVerifier;
  log: Logger;
  pingIntervalMs: number;
  limits: Limits;
  registry: ConnectionRegistry;
}): WebSocketTransport {
  const { yoga, verifier, log, limits, registry } = deps;
  // maxPayload: ws closes a connection that sends a larger frame with 1009 (Message Too Big).
  const server = new WebSocketServer({
    server: deps.httpServer,
    path: '/graphql',
    maxPayload: limits.wsMaxMessageBytes,
    // Browsers always send Origin; other clients (servers, mobile apps) send none.
    verifyClient: ({ origin }: { origin?: string }, done: (ok: boolean, code?: number, message?: string) => void) => {
      if (!origin || limits.allowedOrigins === '*' || limits.allowedOrigins.includes(origin)) return done(true);
      log.warn('connection refused', { transport: 'ws', reason: 'origin not allowed', origin });
      done(false, 403, 'origin not allowed');
    },
  });

  // Registered before graphql-ws's own listener: refuse past the instance's limit at once.
  server.on('connection', (socket, request) => {
    batchWrites(socket);
    log.info('connection opened', { transport: 'ws', remote: request.socket.remoteAddress, origin: request.headers.origin });
    if (server.clients.size > limits.connectionsPerInstance) {
      log.warn('connection refused', { transport: 'ws', reason: 'instance connection limit', limit: limits.connectionsPerInstance });
      socket.close(CLOSE.tryAgainLater, 'LIMIT_EXCEEDED: this server is at its connection limit; retry later');
    }
  });

  useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      execute: (args) => (args.rootValue as Envelope).execute(args) as never,
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args) as never,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      async onConnect(ctx) {
        const token = tokenFromConnection(ctx.connectionParams, ctx.extra.request.url);
        const { principal, authError } = await authenticate(verifier, token);
        // The client may have left while its token was verified (a slow key set): its
        // close has already run, so taking a connection slot now would never be undone.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        if (principal) {
          if (!registry.add(ctx.extra.socket, principal)) {
            log.warn('connection refused', { transport: 'ws', subject: principal.subject, reason: 'owner connection limit', limit: limits.connectionsPerOwner });
            ctx.extra.socket.close(CLOSE.tryAgainLater, `LIMIT_EXCEEDED: at most ${limits.connectionsPerOwner} connections per owner`);
            return false;
          }
          ctx.extra.principal = principal;
          log.info('connection authenticated', { transport: 'ws', subject: principal.subject, role: principal.role });
          return true;
        }
        const reason = authError?.message ?? 'a bearer token is required in the connection_init payload (authorization) or ?token=';
        const expired = authError?.details.reason === 'expired';
        log.warn('authentication failed', { transport: 'ws', reason, code: authError?.details.reason ?? 'missing' });
        ctx.extra.socket.close(expired ? CloseCode.Forbidden : CloseCode.Unauthorized, `UNAUTHENTICATED: ${reason}`.slice(0, 120));
        return false;
      },
      async onSubscribe(ctx, id, payload) {
        const principal = ctx.extra.principal!;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          principal,
          authError: null,
          bufferedBytes: () => ctx.extra.socket.bufferedAmount,
          onDrain: drainOf(ctx.extra.socket),
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [presentError(error) ?? new GraphQLError('the query could not be parsed')];
        }
        let errors: readonly GraphQLError[];
        try {
          errors = validate(schema, document);
        } catch (error) {
          // Limit rules (graphql-armor) throw their refusal instead of reporting it.
          return [presentError(error, VALIDATION_CODE) ?? new GraphQLError('the operation could not be validated')];
        }
        if (errors.length > 0) return errors.map((error: GraphQLError) => presentError(error, VALIDATION_CODE) ?? error);
        if (!registry.startOperation(ctx.extra.socket, id, limits.subscriptionsPerConnection)) {
          log.warn('subscription refused', { transport: 'ws', subject: principal.subject, reason: 'subscriptions per connection', limit: limits.subscriptionsPerConnection });
          return [
            new GraphQLError(`at most ${limits.subscriptionsPerConnection} operations per connection; complete one first`, {
              extensions: { code: ErrorCode.LIMIT_EXCEEDED, limit: limits.subscriptionsPerConnection },
            }),
          ];
        }
        const operationName = getOperationAST(document, payload.operationName)?.name?.value ?? null;
        log.info('subscribed', { transport: 'ws', subject: principal.subject, id, operationName });
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Envelope,
        };
      },
      onComplete(ctx, id) {
        registry.endOperation(ctx.extra.socket, id);
      },
      onClose(ctx, code, reason) {
        registry.remove(ctx.extra.socket);
        log.info('connection closed', { transport: 'ws', subject: ctx.extra.principal?.subject, code, reason: String(reason ?? '') });
      },
    },
    server,
    deps.pingIntervalMs,
  );

  return {
    server,
    async drain(windowMs) {
      // Spread the closes over the window: clients reconnect (elsewhere) in a trickle.
      await closeSpread([...server.clients], windowMs, (socket) => socket.close(1001, 'server shutting down; reconnect'));
    },
    async close(code, reason) {
      const closed = [...server.clients].map((client) => new Promise((resolve) => client.once('close', resolve)));
      for (const client of server.clients) client.close(code, reason);
      // Wait for the close handshakes (so subscriptions have ended), but not forever.
      await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Per TCP connection, the paused streams waiting for it to drain (one 'drain' listener each connection). */
const drainWaiters = new WeakMap<Socket, Set<() => void>>();

/**
 * Subscribes to the moments `socket`'s TCP connection has flushed its backlog, so a
 * stream paused on a full connection resumes at once instead of at the next tick.
 */
function drainOf(socket: WebSocket): (listener: () => void) => () => void {
  // ws keeps the TCP socket here (as the write batching does); absent, streams resume on the tick.
  const tcp = (socket as unknown as { _socket?: Socket })._socket;
  return (listener) => {
    if (!tcp) return () => {};
    let waiters = drainWaiters.get(tcp);
    if (!waiters) {
      const created = new Set<() => void>();
      waiters = created;
      drainWaiters.set(tcp, created);
      tcp.on('drain', () => {
        for (const waiter of [...created]) waiter();
      });
    }
    waiters.add(listener);
    return () => waiters.delete(listener);
  };
}
