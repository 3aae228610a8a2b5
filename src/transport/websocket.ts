/**
 * graphql-ws (`graphql-transport-ws`) on `ws`, sharing the Yoga pipeline. The token is
 * checked once, at `connection_init`: a socket without a valid one is closed with 4401
 * (invalid: the standard client does not retry) or 4403 (expired: it retries, so a
 * client whose token function returns a fresh token reconnects by itself).
 */
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { TokenVerifier } from '../auth/verifier.ts';
import type { Principal } from '../domain/principal.ts';
import { presentError, VALIDATION_CODE } from '../graphql/errors.ts';
import type { Logger } from '../logger.ts';
import { authenticate } from './authenticate.ts';
import { tokenFromConnection } from './auth-token.ts';
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
  /** Closes every socket with `code` and stops accepting. */
  close(code: number, reason: string): Promise<void>;
}

export function attachWebSocket(deps: { httpServer: Server; yoga: Yoga; verifier: TokenVerifier; log: Logger; pingIntervalMs: number }): WebSocketTransport {
  const { yoga, verifier, log } = deps;
  const server = new WebSocketServer({ server: deps.httpServer, path: '/graphql' });

  useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      execute: (args) => (args.rootValue as Envelope).execute(args) as never,
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args) as never,
      async onConnect(ctx) {
        const token = tokenFromConnection(ctx.connectionParams, ctx.extra.request.url);
        const { principal, authError } = await authenticate(verifier, token);
        if (principal) {
          ctx.extra.principal = principal;
          log.info('connection authenticated', { transport: 'ws', subject: principal.subject, role: principal.role });
          return true;
        }
        const reason = authError?.message ?? 'a bearer token is required in the connection_init payload (authorization) or ?token=';
        const expired = authError?.details.reason === 'expired';
        log.info('connection refused', { transport: 'ws', reason });
        ctx.extra.socket.close(expired ? CloseCode.Forbidden : CloseCode.Unauthorized, `UNAUTHENTICATED: ${reason}`.slice(0, 120));
        return false;
      },
      async onSubscribe(ctx, _id, payload) {
        const principal = ctx.extra.principal!;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          principal,
          authError: null,
          bufferedBytes: () => ctx.extra.socket.bufferedAmount,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [presentError(error) ?? new GraphQLError('the query could not be parsed')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map((error: GraphQLError) => presentError(error, VALIDATION_CODE) ?? error);
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Envelope,
        };
      },
      onClose(ctx, code, reason) {
        log.info('connection closed', { transport: 'ws', subject: ctx.extra.principal?.subject, code, reason: String(reason ?? '') });
      },
    },
    server,
    deps.pingIntervalMs,
  );

  return {
    server,
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
