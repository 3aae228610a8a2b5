/**
 * Authentication for graphql-sse's endpoint (`/graphql/stream`). graphql-sse lets anyone
 * reserve a stream (PUT) and keeps every reservation in memory until it is used, so an
 * anonymous client could grow that map without limit. Here every request there must carry
 * a valid bearer token first; only then does graphql-sse's own stream-token logic run.
 */
import { randomUUID } from 'node:crypto';
import type { TokenVerifier } from '../auth/verifier.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { Logger } from '../logger.ts';
import { authenticate } from './authenticate.ts';
import { tokenFromRequest } from './auth-token.ts';

/** graphql-sse's request, as far as authentication reads it. */
interface StreamRequest {
  url: string;
  headers: { get(name: string): string | null | undefined };
}

/** A response in graphql-sse's form: body and init. */
type StreamResponse = [string, { status: number; statusText: string; headers: Record<string, string> }];

/** The stream-token header and query key of graphql-sse's protocol. */
const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';
const STREAM_TOKEN_QUERY = 'token';

/**
 * graphql-sse's `authenticate` option: a 401 with UNAUTHENTICATED unless the request has a
 * valid bearer token; then the stream token the protocol names (or a new one), as
 * graphql-sse itself would choose it.
 */
export function streamAuthenticator(verifier: TokenVerifier, log: Logger): (req: StreamRequest) => Promise<string | StreamResponse> {
  return async (req) => {
    const auth = await authenticate(verifier, tokenFromRequest({ get: (name) => req.headers.get(name) ?? null }, req.url));
    if (!auth.principal) {
      const message = auth.authError?.message ?? 'a bearer token is required (Authorization header)';
      log.warn('authentication failed', { transport: 'graphql-sse', reason: auth.authError?.details.reason ?? 'missing' });
      return [
        JSON.stringify({ errors: [{ message, extensions: { code: ErrorCode.UNAUTHENTICATED, reason: auth.authError?.details.reason ?? 'missing' } }] }),
        { status: 401, statusText: 'Unauthorized', headers: { 'content-type': 'application/json; charset=utf-8' } },
      ];
    }
    const header = req.headers.get(STREAM_TOKEN_HEADER);
    if (header) return header;
    return new URL(req.url, 'http://localhost/').searchParams.get(STREAM_TOKEN_QUERY) ?? randomUUID();
  };
}
