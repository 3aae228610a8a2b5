/**
 * The GraphQL execution pipeline (Yoga): HTTP queries and mutations, GraphiQL, and
 * subscriptions over SSE. The WebSocket adapter reuses this same pipeline through
 * `getEnveloped`, so plugins, masking and context are identical on every transport.
 */
import type { IncomingMessage } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { Limits } from '../../config/load.ts';
import { useInputBounds } from '../../graphql/input-bounds.ts';
import { useMutationRateLimit } from '../../graphql/plugins/mutation-rate-limit.ts';
import { createYoga, type GraphiQLOptions, type YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier } from '../../auth/verifier.ts';
import type { GraphQLContext, Services } from '../../graphql/context.ts';
import { maskError, presentError } from '../../graphql/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { LiveResults } from '../../graphql/render-once.ts';
import { authenticate, type Authentication } from '../../auth/authenticate.ts';
import { tokenFromRequest } from '../../auth/request-token.ts';
import type { ClientConnection } from '../../streams/client-connection.ts';

/** Context handed in by the connection transports (graphql-ws, event streams), already authenticated. */
export type ServerContext = Partial<Authentication> & {
  /** The sink the operation's results go out on. */
  connection?: ClientConnection;
  lastEventId?: string | null;
};

export type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;


export function createYogaServer(deps: {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  logger: Logger;
  limits: Limits;
  /** Shared subscription results (also used directly by the connection transports). */
  live: LiveResults;
  /** Told of each presented token that was refused (the per-address cool-down). */
  onAuthFailed?: (req: IncomingMessage) => void;
  /** GraphiQL's options and page (the HTTP pages serve its assets from this server, not a CDN). */
  graphiql: { options: GraphiQLOptions; render: (options: unknown) => string };
}): Yoga {
  const { schema, services, verifier, logger, limits } = deps;
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxQueryDepth, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    costLimit: { maxCost: limits.maxQueryCost, exposeLimits: true },
    maxTokens: { n: limits.maxQueryTokens, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    blockFieldSuggestion: { enabled: false },
  });
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    cors: limits.allowedOrigins === '*' ? undefined : { origin: limits.allowedOrigins, credentials: false },
    plugins: [
      // First: armor's token limit parses a document that nests too deep into a stack overflow.
      useInputBounds(limits.maxListItems),
      ...armor.protect().plugins,
      useMutationRateLimit(limits.mutationsPerSecond, (subject) => logger.warn('mutation refused', { reason: 'rate limit', subject, limit: limits.mutationsPerSecond })),
      deps.live.plugin(),
    ],
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    graphiql: deps.graphiql.options,
    renderGraphiQL: deps.graphiql.render,
    logging: {
      debug: (...args) => logger.debug(String(args[0]), { args: args.slice(1) }),
      info: (...args) => logger.info(String(args[0]), { args: args.slice(1) }),
      warn: (...args) => logger.warn(String(args[0]), { args: args.slice(1) }),
      // Yoga reports every error it masked or translated. Refusals and invalid requests
      // are expected outcomes the client got with their code, so they go to debug;
      // unexpected ones were already logged with their errorId by maskError.
      error: (...args) => (presentError(args[0]) ? logger.debug : logger.error)(String(args[0]), { args: args.slice(1) }),
    },
    maskedErrors: { maskError: (error, message) => maskError(error, logger, message) },
    async context(initial): Promise<GraphQLContext> {
      // Operations from the connection transports arrive authenticated, with their sink.
      if ('principal' in initial && initial.principal !== undefined) {
        return {
          principal: initial.principal ?? null,
          authError: initial.authError ?? null,
          services,
          connection: initial.connection ?? null,
          lastEventId: initial.lastEventId ?? null,
        };
      }
      // HTTP requests carry their token (event streams are served in event-streams.ts).
      const { request } = initial;
      const auth = await authenticate(verifier, tokenFromRequest(request.headers, request.url));
      if (auth.authError) {
        logger.warn('authentication failed', { transport: 'http', reason: auth.authError.details.reason, path: new URL(request.url).pathname });
        const { req } = initial as { req?: IncomingMessage };
        if (req) deps.onAuthFailed?.(req);
      }
      return { ...auth, services, connection: null };
    },
  });
}
