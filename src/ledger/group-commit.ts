/**
 * Group commit for single postings: postings that arrive while earlier ones are being
 * written wait a moment and are then written together, in one database transaction.
 * Under load, 50 producers cost a few transactions at a time instead of 50, each with a
 * constant number of round trips; an idle server writes a lone posting at once.
 *
 * Each posting still gets exactly the outcome it would get alone: when one item of a
 * group is refused, nothing of the group is written, that item is answered with its
 * refusal, and the rest are written again without it.
 */
import type { CheckedPosting, PostResult } from './postings.ts';
import { PostingRefused } from './postings.ts';

interface Waiting {
  posting: CheckedPosting;
  resolve: (result: PostResult) => void;
  reject: (error: unknown) => void;
}

/** Writes a group in one transaction; throws {@link PostingRefused} for a refused item. */
export type WriteGroup = (postings: readonly CheckedPosting[]) => Promise<PostResult[]>;

export class GroupCommit {
  private readonly waiting: Waiting[] = [];
  private running = 0;

  constructor(
    private readonly write: WriteGroup,
    /** Most postings written in one transaction. */
    private readonly maxGroup: number,
    /** Groups written at the same time (at most the database pool's connections). */
    private readonly maxConcurrent: number,
  ) {}

  /** Queues `posting`; resolves with its result once its group has committed. */
  post(posting: CheckedPosting): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ posting, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.waiting.length > 0) {
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
    let rest = group;
    while (rest.length > 0) {
      try {
        const results = await this.write(rest.map((item) => item.posting));
        rest.forEach((item, i) => item.resolve(results[i]!));
        return;
      } catch (error) {
        if (!(error instanceof PostingRefused)) {
          for (const item of rest) item.reject(error);
          return;
        }
        rest[error.index]!.reject(error.error);
        rest = rest.filter((_, i) => i !== error.index);
      }
    }
  }
}
