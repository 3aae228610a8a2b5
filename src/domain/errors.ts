/**
 * The one table of what the server can tell a client went wrong: every error code
 * (`extensions.code`) and every WebSocket close code, each with its meaning, its HTTP
 * status, and whether a client should try again. Every refusal the server sends takes its
 * code from here (GraphQL errors, graphql-sse and event-stream answers, socket closes); the
 * reference (docs/reference/errors.md) is generated from it (`npm run docs`) and the client library's retry
 * rules are checked against it. Codes are part of the public contract: never renamed.
 */

/** What a client should do after a refusal. */
export type Retry =
  /** Do not repeat it unchanged: fix the request, the credentials or the data first. */
  | 'no'
  /** Subscribe again from the last cursor (or repeat the request) after a backoff. */
  | 'yes';

/** One error code. */
export interface ErrorSpec {
  /** What it means, in a sentence (the "meaning" column of docs/reference/errors.md). */
  readonly meaning: string;
  /**
   * The HTTP status of an answer that is this refusal alone (graphql-sse, event streams, the
   * HTTP router, the per-address limits). A GraphQL result that carries it in `errors` is 200.
   */
  readonly httpStatus: number;
  readonly retry: Retry;
}

export const ERRORS = {
  UNAUTHENTICATED: { httpStatus: 401, retry: 'no', meaning: 'no token, or one that is malformed, badly signed, expired, revoked or lacks `sub`/`role` (`extensions.reason` says which); get a fresh token' },
  FORBIDDEN: { httpStatus: 403, retry: 'no', meaning: "the token's role may not do this, or the data belongs to another owner or tenant" },
  BAD_USER_INPUT: { httpStatus: 400, retry: 'no', meaning: 'an argument is invalid (`extensions.field` names it; a webhook URL the outbound rules refuse has `reason: "outbound-refused"`)' },
  GRAPHQL_PARSE_FAILED: { httpStatus: 400, retry: 'no', meaning: 'the document does not parse' },
  GRAPHQL_VALIDATION_FAILED: { httpStatus: 400, retry: 'no', meaning: 'the document does not match the schema, or names no operation to run' },
  BAD_REQUEST: { httpStatus: 400, retry: 'no', meaning: 'the HTTP request is malformed: a body that is not JSON, `variables` or `extensions` that are not JSON objects, a parameter given twice, a required one missing' },
  LENGTH_REQUIRED: { httpStatus: 411, retry: 'no', meaning: 'a `POST` body must be sent with `Content-Length` (the size cap is checked before reading it)' },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, retry: 'no', meaning: 'the request body is larger than `MAX_REQUEST_BYTES`' },
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, retry: 'no', meaning: 'a `POST /graphql` body must be `application/json`' },
  METHOD_NOT_ALLOWED: { httpStatus: 405, retry: 'no', meaning: 'that HTTP method is not served at this path' },
  NOT_ACCEPTABLE: { httpStatus: 406, retry: 'no', meaning: 'the request must accept `text/event-stream` here' },
  NOT_FOUND: { httpStatus: 404, retry: 'no', meaning: "no wallet, transaction, alert rule, webhook endpoint or delivery with that id (another tenant's answers the same)" },
  CONFLICT: { httpStatus: 409, retry: 'no', meaning: 'a graphql-sse request out of order: the stream is already open, not open yet, or the operation id is running' },
  INSUFFICIENT_FUNDS: { httpStatus: 409, retry: 'no', meaning: 'the debit (or the reversal of a credit) exceeds `available`' },
  WALLET_FROZEN: { httpStatus: 409, retry: 'no', meaning: 'postings to a frozen wallet are refused' },
  WALLET_CLOSED: { httpStatus: 409, retry: 'no', meaning: 'postings to a closed wallet are refused' },
  INVALID_TRANSITION: { httpStatus: 409, retry: 'no', meaning: "the transaction's status cannot change that way (e.g. FAILED → SUCCESS), or `redeliverWebhook` on a delivery that is not dead" },
  IDEMPOTENCY_CONFLICT: { httpStatus: 409, retry: 'no', meaning: 'the `idempotencyKey` was already used with a different input' },
  CURSOR_EXPIRED: { httpStatus: 410, retry: 'no', meaning: 'the events after the cursor are past retention; resync, then subscribe without a cursor' },
  SLOW_CONSUMER: { httpStatus: 429, retry: 'yes', meaning: 'the stream stayed paused longer than `SLOW_CONSUMER_TIMEOUT` because its client read nothing (more than `SLOW_CONSUMER_BYTES` waited unsent); resume from the last cursor' },
  ACK_TIMEOUT: { httpStatus: 408, retry: 'yes', meaning: 'a consumer left a delivered event unacked longer than `ACK_TIMEOUT`; subscribe again' },
  RATE_LIMITED: { httpStatus: 429, retry: 'yes', meaning: 'too many requests: mutations per token, postings waiting for group commit, or per client address; wait `extensions.retryAfterMs`' },
  LIMIT_EXCEEDED: { httpStatus: 429, retry: 'no', meaning: 'a configured limit was reached (`extensions.limit` where it applies): connections, operations, query size, endpoints' },
  INTERNAL_SERVER_ERROR: { httpStatus: 500, retry: 'yes', meaning: 'anything unexpected; the message is masked, `extensions.errorId` matches the server log' },
} as const satisfies Record<string, ErrorSpec>;

/** One of the codes of {@link ERRORS}. */
export type ErrorCode = keyof typeof ERRORS;

/** The codes by name, for `ErrorCode.FORBIDDEN` at call sites. */
export const ErrorCode = Object.fromEntries(Object.keys(ERRORS).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

/** One WebSocket close code. */
export interface CloseSpec {
  readonly code: number;
  readonly when: string;
  /** Does a stock graphql-ws client reconnect after it by itself? */
  readonly clientRetries: boolean;
  /** Does the client library (`resumable`) subscribe again from the last cursor after it? */
  readonly resumed: boolean;
}

/** Every code the server closes a WebSocket with (graphql-ws's 44xx, and the standard ones). */
export const CLOSES = {
  normal: { code: 1000, clientRetries: false, resumed: true, when: '`idle`: no subscription for `IDLE_TIMEOUT` (a client reconnects when it next subscribes)' },
  goingAway: { code: 1001, clientRetries: true, resumed: true, when: 'the server is shutting down (spread over `DRAIN_WINDOW`)' },
  messageTooBig: { code: 1009, clientRetries: true, resumed: false, when: 'a message larger than `WS_MAX_MESSAGE_BYTES`' },
  tryAgainLater: { code: 1013, clientRetries: true, resumed: true, when: "`LIMIT_EXCEEDED`: the owner's or the instance's connection limit" },
  badRequest: { code: 4400, clientRetries: false, resumed: false, when: 'a message that does not parse or is of the wrong type' },
  unauthorized: { code: 4401, clientRetries: false, resumed: false, when: '`UNAUTHENTICATED`: no token or an invalid one at `connection_init`, or `subscribe` before the ack' },
  tokenExpired: {
    code: 4403,
    clientRetries: true,
    resumed: false,
    when: '`UNAUTHENTICATED`: the token expired or was revoked (a `connectionParams` function hands the client a fresh one; the library gives up only once the client did)',
  },
  subprotocolNotAcceptable: { code: 4406, clientRetries: false, resumed: false, when: 'the `graphql-transport-ws` subprotocol was not offered' },
  initTimeout: { code: 4408, clientRetries: true, resumed: true, when: 'no `connection_init` within `CONNECTION_INIT_TIMEOUT`' },
  subscriberExists: { code: 4409, clientRetries: false, resumed: false, when: 'a `subscribe` with an id that is already running' },
  tooManyInits: { code: 4429, clientRetries: false, resumed: false, when: '`connection_init` sent twice' },
  internalError: { code: 4500, clientRetries: false, resumed: true, when: '`INTERNAL_SERVER_ERROR`: the server failed (the reason holds a reference that is in the log)' },
} as const satisfies Record<string, CloseSpec>;

/**
 * An expected refusal: the request was understood and deliberately refused. Its message
 * and code reach the client unmasked; anything that is not a DomainError is masked.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for the client (e.g. `available`, `field`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** The HTTP status of an answer that is this refusal alone (see {@link ErrorSpec.httpStatus}). */
  get httpStatus(): number {
    return ERRORS[this.code].httpStatus;
  }
}

/** Shorthand for the most common refusal. */
export function badInput(message: string, field?: string): DomainError {
  return new DomainError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
}
