/** Reconnect delays: 1 s, 2 s, 4 s … capped at 32 s, each stretched by up to 25 % jitter. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A source of randomness in [0, 1), for the jitter. */
  random?: () => number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 1_000;
  const max = options.maxMs ?? 32_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  // Jitter spreads reconnects after a deploy, so clients don't all return at once.
  return Math.round(base * (1 + 0.25 * (options.random ?? Math.random)()));
}
