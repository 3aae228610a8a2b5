/** Whether the log can still serve everything after a cursor. */
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { EventLog } from './event-log.ts';

/** The refusal for a position whose following events were pruned. */
export function cursorExpired(after: number): DomainError {
  return new DomainError(ErrorCode.CURSOR_EXPIRED, 'events after this cursor are older than the retention period; resync with the queries, then subscribe without a cursor', {
    sequence: after,
  });
}

/**
 * Refuses a position the log can no longer serve without a gap (CURSOR_EXPIRED), or one it
 * never issued (ahead of the head: BAD_USER_INPUT). `head` is the owner's current head.
 */
export async function checkCursor(log: EventLog, ownerId: string, after: number, head: number): Promise<void> {
  if (after > head) throw badInput('after is ahead of this owner’s log: it was not issued by this deployment', 'after');
  if (after === head) return;
  const first = await log.firstSequence(ownerId);
  if (first === null || first > after + 1) throw cursorExpired(after);
}
