/**
 * How the client library reads the server's refusals (`extensions.code`): which ones a
 * resubscription from the last cursor cures, and which need the app.
 */

/**
 * Codes after which subscribing again from the last cursor is the right move, after a
 * pause: the server failed once (INTERNAL_SERVER_ERROR), the stream was ended to protect
 * the server (SLOW_CONSUMER, ACK_TIMEOUT), or it asked for a pause (RATE_LIMITED).
 * Anything else (FORBIDDEN, UNAUTHENTICATED, CURSOR_EXPIRED, BAD_USER_INPUT…) goes to the app.
 */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['INTERNAL_SERVER_ERROR', 'SLOW_CONSUMER', 'ACK_TIMEOUT', 'RATE_LIMITED']);

/** A GraphQL error as it arrives in a result or an `error` message. */
export interface ErrorShape {
  message?: string;
  extensions?: { code?: unknown; retryAfterMs?: unknown; [key: string]: unknown };
}

/** The first `extensions.code` among `errors` (an error message's payload, or a result's `errors`). */
export function codeOf(errors: unknown): string | null {
  if (!Array.isArray(errors)) return null;
  for (const error of errors as ErrorShape[]) {
    const code = error?.extensions?.code;
    if (typeof code === 'string') return code;
  }
  return null;
}

/** The server's `retryAfterMs` advice among `errors`, or 0. */
export function retryAfterOf(errors: unknown): number {
  if (!Array.isArray(errors)) return 0;
  const advice = (errors as ErrorShape[]).map((error) => error?.extensions?.retryAfterMs).find((ms) => typeof ms === 'number');
  return typeof advice === 'number' ? advice : 0;
}

/**
 * Close codes after which reconnecting cannot help: the server refused the request, its
 * size or the credentials (graphql-ws's own list, 1009, and 4403 once the client's own
 * retries gave up on it). The server's table of close codes says the same, checked by a test.
 */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([1009, 4004, 4005, 4400, 4401, 4403, 4406, 4409, 4429]);

/**
 * True when what a client's sink reported passes with time: a transient refusal (see
 * {@link TRANSIENT_CODES}), a connection that broke or could not be made (a close event
 * with any other code, a socket's error event, graphql-sse's NetworkError without a 4xx
 * answer). graphql-ws reports a refused connection as an error event, which its default
 * `shouldRetry` does not retry: the server being down for a moment would end the stream.
 */
export function isTransient(reported: unknown): boolean {
  if (Array.isArray(reported)) return TRANSIENT_CODES.has(codeOf(reported) ?? '');
  if (typeof reported !== 'object' || reported === null) return false;
  const failure = reported as { code?: unknown; type?: unknown; name?: unknown; response?: { status?: unknown } };
  if (typeof failure.code === 'number' && 'reason' in failure) return !TERMINAL_CLOSE_CODES.has(failure.code);
  if (failure.type === 'error') return true;
  if (failure.name === 'NetworkError') {
    const status = failure.response?.status;
    return typeof status !== 'number' || status >= 500 || status === 408 || status === 429;
  }
  return false;
}
