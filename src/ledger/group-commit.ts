/**
 * Group commit for single postings: postings that arrive while earlier ones are being
 * written wait a moment and are then written together, in one database transaction.
 * Under load, 50 producers cost a few transactions at a time instead of 50, each with a
 * constant number of round trips; an idle server writes a lone posting at once.
 *
 * Each posting still gets exactly the outcome it would get alone: a refused item (a
 * frozen wallet, insufficient funds, a conflicting key) is answered with its refusal and
 * the rest of its group commits in the same transaction, so one producer's refusals never
 * make the others wait. The waiting list is bounded: past it, new postings are refused
 * with RATE_LIMITED instead of queueing without end.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { CheckedPosting, PostingOutcome, PostResult } from './postings.ts';

interface Waiting {
  posting: CheckedPosting;
  resolve: (result: PostResult) => void;
  reject: (error: unknown) => void;
}

/** Writes a group in one transaction; one outcome per posting, in order. */
export type WriteGroup = (postings: readonly CheckedPosting[]) => Promise<PostingOutcome[]>;

export class GroupCommit {
  private readonly waiting: Waiting[] = [];
  private running = 0;

  constructor(
    private readonly write: WriteGroup,
    /** Most postings written in one transaction. */
    private readonly maxGroup: number,
    /** Groups written at the same time (at most the database pool's connections); a group beyond the first starts only when a full group waits. */
    private readonly maxConcurrent: number,
    /** Most postings waiting for a group before new ones are refused. */
    private readonly maxWaiting: number,
  ) {}

  /** Queues `posting`; resolves with its result once its group has committed. */
  post(posting: CheckedPosting): Promise<PostResult> {
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new DomainError(ErrorCode.RATE_LIMITED, `the server has ${this.maxWaiting} postings waiting to be written; retry with backoff (or post in batches)`, {
          limit: this.maxWaiting,
          reason: 'write queue full',
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ posting, resolve, reject });
      this.pump();
    });
  }

  /**
   * Starts a group when none is running, and a further one beside it only once a full
   * group is waiting: a second group started for the one posting that just arrived would
   * pay a whole transaction's round trips for it, where waiting a moment lets it share
   * the next transaction with everything that arrives meanwhile.
   */
  private pump(): void {
    while (this.running < this.maxConcurrent && this.waiting.length > 0 && (this.running === 0 || this.waiting.length >= this.maxGroup)) {
      const group = this.takeGroup();
      this.running++;
      void this.run(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /**
   * Takes up to `maxGroup` postings in arrival order. A second posting with a key already
   * in the group waits for the next one, so it sees the first as committed (a replay).
   */
  private takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.waiting.length && group.length < this.maxGroup; ) {
      const item = this.waiting[i]!;
      const key = `${item.posting.caller}\u0000${item.posting.key}`;
      if (keys.has(key)) {
        i++;
        continue;
      }
      keys.add(key);
      group.push(item);
      this.waiting.splice(i, 1);
    }
    return group;
  }

  private async run(group: Waiting[]): Promise<void> {
    let outcomes: PostingOutcome[];
    try {
      outcomes = await this.write(group.map((item) => item.posting));
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('refused' in outcome) item.reject(outcome.refused);
      else item.resolve(outcome);
    });
  }
}
