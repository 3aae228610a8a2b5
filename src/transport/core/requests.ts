/**
 * What kind of request arrived at the GraphQL endpoints: decided once, in one place, so
 * that the router, the per-address limits and shutdown's in-flight count agree on it.
 */
import type { IncomingMessage } from 'node:http';
import { getOperationAST, parse } from 'graphql';
import { checkNesting } from '../../graphql/input-bounds.ts';

/** Queries, mutations, GraphiQL and event streams (one operation each). */
export const GRAPHQL_PATH = '/graphql';
/** graphql-sse's single connection mode (and its distinct connections mode). */
export const GRAPHQL_SSE_PATH = '/graphql/stream';

/** How the router serves a request. */
export type RequestKind = 'graphql-sse' | 'event-stream' | 'graphql' | 'other';

/**
 * Classifies `req` (its path already split off as `path`):
 * - `/graphql/stream…`: graphql-sse;
 * - `/graphql` accepting `text/event-stream`, or a GET whose `query` is a subscription
 *   (whatever its `Accept`, so `curl` and every client get the same resumable stream as a
 *   browser's EventSource): an event stream;
 * - the rest of `/graphql` (queries, mutations, GraphiQL): GraphQL over HTTP.
 */
export function requestKind(req: IncomingMessage, path: string, search: URLSearchParams): RequestKind {
  if (path === GRAPHQL_SSE_PATH || path.startsWith(`${GRAPHQL_SSE_PATH}/`)) return 'graphql-sse';
  if (path !== GRAPHQL_PATH) return 'other';
  const accept = req.headers.accept ?? '';
  if ((req.method === 'GET' || req.method === 'POST') && accept.includes('text/event-stream')) return 'event-stream';
  if (req.method === 'GET' && !accept.includes('text/html') && isSubscription(search.getAll('query'), search.get('operationName'))) return 'event-stream';
  return 'graphql';
}

/** True when `queries` is exactly one document whose chosen operation is a subscription. */
function isSubscription(queries: string[], operationName: string | null): boolean {
  // Only a document that names a subscription is taken here; a malformed one (or a query
  // given twice) goes to the event stream only when it also says `subscription`, so its
  // refusal is written as a stream's refusal.
  if (queries.length === 0 || !queries.some((query) => /\bsubscription\b/.test(query))) return false;
  if (queries.length > 1 || checkNesting(queries[0]!)) return true;
  try {
    return getOperationAST(parse(queries[0]!, { maxTokens: 10_000 }), operationName)?.operation === 'subscription';
  } catch {
    return true;
  }
}
