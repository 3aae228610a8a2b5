/**
 * When a failed delivery is tried again: after the n-th failure, the n-th delay of the
 * schedule, spread by ±20 % so that many deliveries failing together (a receiver's
 * outage) do not all come back at the same instant. Past the schedule a delivery is dead.
 */

/** The delay before attempt `attempts + 1` after `attempts` failures, or null when none is left. */
export function retryDelayMs(schedule: readonly number[], attempts: number, random: () => number = Math.random): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
