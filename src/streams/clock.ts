/**
 * The streams' clock: one timer per instance (never one per stream) hands every owner
 * stream, and through the broadcast every firehose stream, the time. Streams end on it:
 * ACK_TIMEOUT, SLOW_CONSUMER past its time bound, and an SSE stream at token expiry.
 */
import type { OwnerFeeds } from './owner-feeds.ts';

/** Starts the clock; returns the function that stops it. */
export function startStreamClock(feeds: OwnerFeeds, intervalMs: number): () => void {
  const timer = setInterval(() => feeds.broadcast({ kind: 'tick', now: Date.now() }), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
