/**
 * The GraphQL execution pipeline (Yoga): HTTP queries and mutations, GraphiQL, and
 * subscriptions over SSE. The WebSocket adapter reuses this same pipeline through
 * `getEnveloped`, so plugins, masking and context are identical on every transport.
 */
import type { GraphQLSchema } from 'graphql';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { Limits } from '../config.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import { useMutationRateLimit } from '../graphql/rate-limit-plugin.ts';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier } from '../auth/verifier.ts';
import type { GraphQLContext, Services } from '../graphql/context.ts';
import { maskError, presentError } from '../graphql/errors.ts';
import type { Logger } from '../logger.ts';
import type { ServerResponse } from 'node:http';
import type { LiveResults } from '../graphql/live-results-plugin.ts';
import { GRAPHIQL_OPTIONS } from './graphiql-tabs.ts';
import { useResumableSse, type SseOptions } from './sse.ts';
import { authenticate, type Authentication } from './authenticate.ts';
import { tokenFromRequest } from './auth-token.ts';
import { responseSink } from './response-sink.ts';
import type { Sink } from './sink.ts';

/** Context handed in by the WebSocket adapter, already authenticated at `connection_init`. */
export type ServerContext = Partial<Authentication> & { bufferedBytes?: () => number; onDrain?: (listener: () => void) => () => void };

export type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;


export function createYogaServer(deps: {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  log: Logger;
  sse: SseOptions;
  limits: Limits;
  registry: ConnectionRegistry;
  /** Shared subscription results (also used directly by the connection transports). */
  live: LiveResults;
}): Yoga {
  const { schema, services, verifier, log, limits, registry } = deps;
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxQueryDepth, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    costLimit: { maxCost: limits.maxQueryCost, exposeLimits: true },
    maxTokens: { n: limits.maxQueryTokens, exposeLimits: true },
    maxDirectives: { n: 20, exposeLimits: true },
    blockFieldSuggestion: { enabled: false },
  });
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    cors: limits.allowedOrigins === '*' ? undefined : { origin: limits.allowedOrigins, credentials: false },
    plugins: [
      ...armor.protect().plugins,
      useMutationRateLimit(limits.mutationsPerSecond, (subject) => log.warn('mutation refused', { reason: 'rate limit', subject, limit: limits.mutationsPerSecond })),
      deps.live.plugin(),
      useResumableSse(deps.sse),
    ],
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    graphiql: GRAPHIQL_OPTIONS,
    logging: {
      debug: (...args) => log.debug(String(args[0]), { args: args.slice(1) }),
      info: (...args) => log.info(String(args[0]), { args: args.slice(1) }),
      warn: (...args) => log.warn(String(args[0]), { args: args.slice(1) }),
      // Yoga reports every error it masked or translated. Refusals and invalid requests
      // are expected outcomes the client got with their code, so they go to debug;
      // unexpected ones were already logged with their errorId by maskError.
      error: (...args) => (presentError(args[0]) ? log.debug : log.error)(String(args[0]), { args: args.slice(1) }),
    },
    maskedErrors: { maskError: (error, message) => maskError(error, log, message) },
    async context(initial): Promise<GraphQLContext> {
      // WebSocket operations arrive authenticated, with their socket's buffer probe.
      if ('principal' in initial && initial.principal !== undefined) {
        return {
          principal: initial.principal ?? null,
          authError: initial.authError ?? null,
          services,
          bufferedBytes: initial.bufferedBytes ?? null,
          onDrain: initial.onDrain ?? null,
          connectionEnforcesExpiry: true,
        };
      }
      // HTTP and SSE requests carry their token; an EventSource reconnect, its last event id.
      const { request } = initial;
      const auth = await authenticate(verifier, tokenFromRequest(request.headers, request.url));
      if (auth.authError) log.warn('authentication failed', { transport: 'http', reason: auth.authError.details.reason, path: new URL(request.url).pathname });
      const res = (initial as { res?: ServerResponse }).res;
      // An SSE stream is a connection too: it counts toward the owner's connection limit.
      if (auth.principal && res && (request.headers.get('accept') ?? '').includes('text/event-stream')) {
        // The client may have left while its token was verified (a slow key set): its
        // `close` has fired already, so neither a slot nor a stream would ever be released.
        if (res.closed || res.destroyed || !res.socket || res.socket.destroyed) {
          log.info('connection closed', { transport: 'sse', subject: auth.principal.subject, reason: 'client left during authentication' });
          return { principal: null, authError: new DomainError(ErrorCode.UNAUTHENTICATED, 'the client left before it was authenticated', { reason: 'aborted' }), services };
        }
        const release = registry.addStream(auth.principal.subject);
        if (!release) {
          log.warn('connection refused', { transport: 'sse', subject: auth.principal.subject, reason: 'owner connection limit', limit: limits.connectionsPerOwner });
          const refusal = new DomainError(ErrorCode.LIMIT_EXCEEDED, `at most ${limits.connectionsPerOwner} connections per owner`, { limit: limits.connectionsPerOwner });
          return { principal: null, authError: refusal, services };
        }
        res.once('close', release);
      }
      return {
        ...auth,
        services,
        lastEventId: request.headers.get('last-event-id'),
        // The response is this stream's sink: its backlog pauses the stream, its drain wakes it.
        ...(res ? backpressureOf(responseSink(res)) : { bufferedBytes: null, onDrain: null }),
      };
    },
  });
}

/** A sink's backlog and drain, as the GraphQL context carries them to delivery. */
export function backpressureOf(sink: Sink): { bufferedBytes: () => number; onDrain: (listener: () => void) => () => void } {
  return { bufferedBytes: () => sink.bufferedBytes(), onDrain: (listener) => sink.onDrain(listener) };
}
