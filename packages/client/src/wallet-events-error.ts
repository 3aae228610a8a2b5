/** What a subscription of the client library reports when it stops for good. */
import { codeOf } from './error-codes.ts';

/** The code of a subscription stopped because its `onEvent` threw. */
export const HANDLER_FAILED = 'HANDLER_FAILED';
/** The code of a connection that closed or could not be made (as a reason to retry; as an end, when retrying cannot cure it, e.g. 4401). */
export const CONNECTION_LOST = 'CONNECTION_LOST';

/**
 * A subscription's end that needs the app: a server refusal (`code` is its
 * `extensions.code`: FORBIDDEN, CURSOR_EXPIRED…), HANDLER_FAILED or CONNECTION_LOST.
 * `cursor` is where to resume: the last event the app processed (null if none).
 */
export class WalletEventsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly cursor: string | null,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'WalletEventsError';
  }

  /** Reads whatever a client's sink reported (GraphQL errors, a close event, an Error). */
  static from(reported: unknown, cursor: string | null): WalletEventsError {
    const code = codeOf(reported);
    if (code) return new WalletEventsError(code, (reported as { message?: string }[])[0]?.message ?? code, cursor, { cause: reported });
    if (isCloseEvent(reported)) return new WalletEventsError(CONNECTION_LOST, `connection closed (${reported.code}${reported.reason ? `: ${reported.reason}` : ''})`, cursor, { cause: reported });
    const message = (reported as { message?: unknown } | null)?.message;
    return new WalletEventsError(CONNECTION_LOST, typeof message === 'string' && message ? message : 'the connection failed', cursor, { cause: reported });
  }
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';
}
