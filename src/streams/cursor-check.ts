/** Whether the log can still serve everything after a position. */
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { WalletEvent } from '../domain/events.ts';
import type { LogBounds } from './event-log.ts';

/** The refusal for a position whose following events were pruned. */
export function cursorExpired(after: number): DomainError {
  return new DomainError(ErrorCode.CURSOR_EXPIRED, 'events after this cursor are older than the retention period; resync with the queries, then subscribe without a cursor', {
    sequence: after,
  });
}

/**
 * Refuses a position the log can no longer serve without a gap (CURSOR_EXPIRED: an event
 * after it is below the retention watermark), or one it never issued (ahead of the head:
 * BAD_USER_INPUT).
 */
export function checkCursor(after: number, bounds: LogBounds): void {
  if (after > bounds.last) throw badInput('after is ahead of this owner’s log: it was not issued by this deployment', 'after');
  if (after + 1 < bounds.first) throw cursorExpired(after);
}

/**
 * Checks that an unfiltered page read after `after` continues it with no hole (sequences
 * after+1, after+2, …). Pruning only removes a prefix of a log, so a hole means the events
 * after `after` were pruned while it was read: CURSOR_EXPIRED rather than a silent skip.
 */
export function checkContiguous(after: number, page: readonly WalletEvent[]): void {
  page.forEach((event, i) => {
    if (event.sequence !== after + i + 1) throw cursorExpired(after + i);
  });
}
