/**
 * The head check, one timer per instance (never one per subscriber): it reads, in one
 * query, the log heads of the owners this instance serves and signals their feeds; a feed
 * behind its owner's head reads the rest from the log, once for all its subscribers. This heals a commit whose publish
 * never happened (a crash between commit and publish, a Redis outage) even when no later
 * event arrives to reveal the gap. (The streams' clock is its own timer: clock.ts.)
 */
import type { Logger } from '../logging/logger.ts';
import type { EventLog } from './event-log.ts';
import type { OwnerFeeds } from './owner-feeds.ts';

const HEADS_PER_QUERY = 1_000;

/** Starts the head check; returns the function that stops it. */
export function startHeadCheck(feeds: OwnerFeeds, log: EventLog, intervalMs: number, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return; // a slow database must not pile checks up
    running = true;
    try {
      const owners = feeds.owners();
      for (let i = 0; i < owners.length; i += HEADS_PER_QUERY) {
        const heads = await log.heads(owners.slice(i, i + HEADS_PER_QUERY));
        for (const [ownerId, sequence] of heads) feeds.signal(ownerId, { kind: 'head', sequence });
      }
    } catch (error) {
      logger.warn('head check failed', { error: (error as Error).message });
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
