/**
 * Starting one GraphQL operation for a connection-based transport (graphql-ws, graphql-sse
 * single connection): parse, validate and run it through the same Yoga pipeline as HTTP,
 * so plugins, limits, masking and context are the same on every transport.
 */
import { GraphQLError, getOperationAST, type ExecutionResult } from 'graphql';
import { maskResult, presentError } from '../../graphql/errors.ts';
import type { LiveResults } from '../../graphql/render-once.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Principal } from '../../domain/principal.ts';
import type { Sink } from './sink.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import { ErrorCode, type DomainError } from '../../domain/errors.ts';
import type { Yoga } from './yoga.ts';
import type { Limits } from '../../config/load.ts';
import { checkLiterals, checkValue } from '../../graphql/input-bounds.ts';

/** An operation as clients send it. */
export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
}

/** How an operation began: refused with errors, answered once, or a stream of results. */
export type OperationStart =
  | { kind: 'errors'; errors: readonly GraphQLError[] }
  | { kind: 'result'; result: ExecutionResult }
  | { kind: 'stream'; results: AsyncIterableIterator<ExecutionResult>; operationName: string | null };

function isAsyncIterable(value: unknown): value is AsyncIterableIterator<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Who runs an operation, and over what. */
export interface OperationConnection {
  /** The caller; null for an anonymous request (its fields then refuse as they do over HTTP). */
  principal: Principal | null;
  /** Why a presented token was refused, reported by the first field that needs one. */
  authError?: DomainError | null;
  sink: Sink;
  /** An EventSource reconnect's `Last-Event-ID`. */
  lastEventId?: string | null;
}

/** Starts operations for connection transports. */
export type OperationRunner = (request: OperationRequest, connection: OperationConnection, admit: () => GraphQLError | null) => Promise<OperationStart>;

/**
 * Parses, validates, then executes or subscribes each request as its connection's
 * principal, with the connection's backpressure in the context. `admit` runs after
 * validation and may refuse (a limit). Subscriptions run through {@link LiveResults}
 * directly: Yoga's per-result plugin layers would cost every subscriber a few promises and
 * closures per event, and masking is the only one they need (done here, the same way).
 */
export function operationRunner(yoga: Yoga, live: LiveResults, logger: Logger, limits: Pick<Limits, 'maxListItems'>): OperationRunner {
  // One masking function for every subscription, not a closure each.
  const mask = (result: ExecutionResult) => maskResult(result, logger);
  return (request, connection, admit) => startOperation(yoga, live, mask, limits, request, connection, admit);
}

async function startOperation(
  yoga: Yoga,
  live: LiveResults,
  mask: (result: ExecutionResult) => ExecutionResult,
  limits: Pick<Limits, 'maxListItems'>,
  request: OperationRequest,
  connection: OperationConnection,
  admit: () => GraphQLError | null,
): Promise<OperationStart> {
  // No `params` (the request) in the context: a subscription's context lives as long as it
  // does, and nothing reads them there, so it would keep each client's copy of the query text.
  const { schema, execute, contextFactory, parse, validate } = yoga.getEnveloped({
    principal: connection.principal,
    authError: connection.authError ?? null,
    lastEventId: connection.lastEventId ?? null,
    connection: connection.sink,
  });
  let document;
  try {
    document = parse(request.query);
  } catch (error) {
    return { kind: 'errors', errors: [presentError(error) ?? new GraphQLError('the query could not be parsed')] };
  }
  let errors: readonly GraphQLError[];
  try {
    errors = validate(schema, document);
  } catch (error) {
    // Limit rules (graphql-armor) throw their refusal instead of reporting it.
    return { kind: 'errors', errors: [presentError(error, ErrorCode.GRAPHQL_VALIDATION_FAILED) ?? new GraphQLError('the operation could not be validated')] };
  }
  if (errors.length > 0) return { kind: 'errors', errors: errors.map((error: GraphQLError) => presentError(error, ErrorCode.GRAPHQL_VALIDATION_FAILED) ?? error) };
  const operation = getOperationAST(document, request.operationName);
  if (!operation) return { kind: 'errors', errors: [new GraphQLError('the document names no operation to run (check operationName)', { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } })] };
  // Yoga's plugins check these for execute; a subscription runs past them (LiveResults).
  const outOfBounds = checkLiterals(document, limits.maxListItems) ?? checkValue(request.variables ?? null, limits.maxListItems);
  if (outOfBounds) return { kind: 'errors', errors: [outOfBounds] };
  const refused = admit();
  if (refused) return { kind: 'errors', errors: [refused] };
  const args = {
    schema,
    document,
    operationName: request.operationName ?? undefined,
    variableValues: request.variables ?? undefined,
    contextValue: await contextFactory(),
  };
  const outcome = await (operation.operation === 'subscription' ? live.subscribe(args, mask) : execute(args));
  if (isAsyncIterable(outcome)) return { kind: 'stream', results: outcome, operationName: operation.name?.value ?? null };
  return { kind: 'result', result: outcome as ExecutionResult };
}

/**
 * The per-connection operation limit as an `admit` check: counts the operation in the
 * registry, or refuses it with LIMIT_EXCEEDED (and logs it).
 */
export function operationLimit(registry: ConnectionRegistry, max: number, logger: Logger, transport: string) {
  return (sink: Sink, id: string, principal: Principal | null) => (): GraphQLError | null => {
    if (registry.startOperation(sink, id, max)) return null;
    logger.warn('subscription refused', { transport, subject: principal?.subject, reason: 'subscriptions per connection', limit: max });
    return new GraphQLError(`at most ${max} operations per connection; complete one first`, { extensions: { code: ErrorCode.LIMIT_EXCEEDED, limit: max } });
  };
}
