/**
 * The error codes a client can see in `extensions.code`. They are part of the public
 * contract (README, "Error codes"): clients branch on them, so a code is never renamed.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  WALLET_FROZEN: 'WALLET_FROZEN',
  WALLET_CLOSED: 'WALLET_CLOSED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  ACK_TIMEOUT: 'ACK_TIMEOUT',
  RATE_LIMITED: 'RATE_LIMITED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
}

/** Shorthand for the most common refusal. */
export function badInput(message: string, field?: string): DomainError {
  return new DomainError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
}
