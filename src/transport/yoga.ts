/**
 * The GraphQL execution pipeline (Yoga): HTTP queries and mutations, GraphiQL, and
 * subscriptions over SSE. The WebSocket adapter reuses this same pipeline through
 * `getEnveloped`, so plugins, masking and context are identical on every transport.
 */
import type { IncomingMessage } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { Limits } from '../config.ts';
import { useMutationRateLimit } from '../graphql/rate-limit-plugin.ts';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier } from '../auth/verifier.ts';
import type { GraphQLContext, Services } from '../graphql/context.ts';
import { maskError, presentError } from '../graphql/errors.ts';
import type { Logger } from '../logger.ts';
import type { LiveResults } from '../graphql/live-results-plugin.ts';
import { GRAPHIQL_OPTIONS } from './graphiql-tabs.ts';
import { renderGraphiQL } from './graphiql-assets.ts';
import { authenticate, type Authentication } from './authenticate.ts';
import { tokenFromRequest } from './auth-token.ts';
import type { Sink } from './sink.ts';

/** Context handed in by the connection transports (graphql-ws, event streams), already authenticated. */
export type ServerContext = Partial<Authentication> & {
  bufferedBytes?: () => number;
  onDrain?: (listener: () => void) => () => void;
  lastEventId?: string | null;
  connectionEnforcesExpiry?: boolean;
};

export type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;


export function createYogaServer(deps: {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  log: Logger;
  limits: Limits;
  /** Shared subscription results (also used directly by the connection transports). */
  live: LiveResults;
  /** Told of each presented token that was refused (the per-address cool-down). */
  onAuthFailed?: (req: IncomingMessage) => void;
}): Yoga {
  const { schema, services, verifier, log, limits } = deps;
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
    ],
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    graphiql: GRAPHIQL_OPTIONS,
    // Its assets come from this server, not a CDN (graphiql-assets.ts).
    renderGraphiQL,
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
      // Operations from the connection transports arrive authenticated, with their sink's backpressure.
      if ('principal' in initial && initial.principal !== undefined) {
        return {
          principal: initial.principal ?? null,
          authError: initial.authError ?? null,
          services,
          bufferedBytes: initial.bufferedBytes ?? null,
          onDrain: initial.onDrain ?? null,
          lastEventId: initial.lastEventId ?? null,
          connectionEnforcesExpiry: initial.connectionEnforcesExpiry ?? true,
        };
      }
      // HTTP requests carry their token (event streams are served in event-streams.ts).
      const { request } = initial;
      const auth = await authenticate(verifier, tokenFromRequest(request.headers, request.url));
      if (auth.authError) {
        log.warn('authentication failed', { transport: 'http', reason: auth.authError.details.reason, path: new URL(request.url).pathname });
        const { req } = initial as { req?: IncomingMessage };
        if (req) deps.onAuthFailed?.(req);
      }
      return { ...auth, services };
    },
  });
}

/** A sink's backlog and drain, as the GraphQL context carries them to delivery. */
export function backpressureOf(sink: Sink): { bufferedBytes: () => number; onDrain: (listener: () => void) => () => void } {
  return { bufferedBytes: () => sink.bufferedBytes(), onDrain: (listener) => sink.onDrain(listener) };
}
