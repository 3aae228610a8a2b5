/**
 * Error presentation. Refusals ({@link DomainError}) reach clients with their code and
 * message; GraphQL's own parse/validation errors get BAD_USER_INPUT or a parse code;
 * anything else is an internal error, masked and logged.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Logger } from '../logging/logger.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';

/**
 * A GraphQL error carrying a refusal's code and details in `extensions`. It deliberately
 * drops `originalError`: Yoga treats an error with a non-GraphQL cause as unexpected and
 * answers HTTP 500, which would make an EventSource give up without reading the reason.
 */
export function toGraphQLError(error: DomainError, template?: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: template?.nodes,
    source: template?.source,
    positions: template?.positions,
    path: template?.path,
    extensions: { ...error.details, code: error.code },
  });
}

/** Calls `parse`, turning a refusal into a GraphQLError (scalars must throw those). */
export function asGraphQLError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DomainError) throw toGraphQLError(error);
    throw error;
  }
}

const ARMOR_LIMIT = /^Syntax Error: .*limit of \d+ exceeded/i;


/**
 * Recognizes a GraphQLError by shape: graphql ships CommonJS and ESM builds, and a
 * library loading the other one produces errors that fail `instanceof` here.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError' && 'extensions' in error);
}

/**
 * Decides what a client sees of `error`. Returns it unchanged, translated, or — for an
 * unexpected failure — null, meaning "mask it".
 */
export function presentError(error: unknown, fallbackCode: ErrorCode = ErrorCode.BAD_USER_INPUT): GraphQLError | null {
  if (error instanceof DomainError) return toGraphQLError(error);
  if (!isGraphQLError(error)) return null;
  const original = error.originalError;
  if (original instanceof DomainError) return toGraphQLError(original, error);
  if (original && !isGraphQLError(original)) return null;
  if (error.extensions?.code) return error;
  // graphql-js's own errors (syntax, unknown field, wrong variable type…) have no code;
  // graphql-armor's limits also report as "Syntax Error: … limit of N exceeded".
  const code = ARMOR_LIMIT.test(error.message) ? ErrorCode.LIMIT_EXCEEDED : /^Syntax Error/.test(error.message) ? ErrorCode.GRAPHQL_PARSE_FAILED : fallbackCode;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code } });
}

/**
 * Logs an unexpected failure under a fresh `errorId` and returns it: the reference a client
 * is given instead of the failure itself.
 */
export function logInternalError(logger: Logger, error: unknown, fields: Record<string, unknown> = {}): string {
  const errorId = randomUUID();
  logger.error('internal error', { ...fields, errorId, error: (error as { originalError?: unknown }).originalError ?? error });
  return errorId;
}

/**
 * What a client sees of `error`: the presented error, or — for an unexpected failure — an
 * INTERNAL_SERVER_ERROR carrying an `errorId` that is logged with the real error.
 */
export function maskError(error: unknown, logger: Logger, message = 'Unexpected error.'): GraphQLError {
  const shown = presentError(error);
  if (shown) return shown;
  return new GraphQLError(message, { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId: logInternalError(logger, error) } });
}

/** `result` with its errors masked (a new object; the result may be shared). */
export function maskResult(result: ExecutionResult, logger: Logger): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map((error) => maskError(error, logger)) } : result;
}
