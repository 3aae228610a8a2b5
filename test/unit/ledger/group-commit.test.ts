/**
 * Group commit, alone, over a writer the test controls: postings that arrive while a group
 * is written form the next group; a refused item is answered alone while the rest of its
 * group commits; the same key twice never shares a group; a second group runs beside the
 * first only when a full group waits; the waiting list is bounded.
 */
import { describe, expect, it } from 'vitest';
import { DomainError, ErrorCode } from '../../../src/domain/errors.ts';
import type { Transaction } from '../../../src/domain/ledger-types.ts';
import { GroupCommit } from '../../../src/ledger/group-commit.ts';
import type { CheckedPosting, PostingOutcome } from '../../../src/ledger/postings.ts';

const posting = (key: string, caller = 'producer'): CheckedPosting => ({
  walletId: 'w-1',
  direction: 'CREDIT',
  type: 'DEPOSIT',
  amount: 1n,
  status: 'SUCCESS',
  counterparty: null,
  description: null,
  key,
  caller,
  requestHash: key,
});

/** A writer whose groups the test sees and lets commit one at a time. */
function controlledWriter(refuse: (posting: CheckedPosting) => boolean = () => false) {
  const groups: string[][] = [];
  const commits: (() => void)[] = [];
  const write = (postings: readonly CheckedPosting[]) => {
    groups.push(postings.map((p) => (p.caller === 'producer' ? p.key : `${p.caller}:${p.key}`)));
    return new Promise<PostingOutcome[]>((resolve) =>
      commits.push(() =>
        resolve(postings.map((p) => (refuse(p) ? { refused: new DomainError(ErrorCode.INSUFFICIENT_FUNDS, `no funds for ${p.key}`) } : { transaction: { id: p.key } as unknown as Transaction, replayed: false }))),
      ),
    );
  };
  const commitNext = async () => {
    commits.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { groups, write, commitNext };
}

describe('GroupCommit', () => {
  it('writes a lone posting at once, and groups those that arrive while it is written', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 100, 1, 1_000);
    const first = group.post(posting('a'));
    const later = ['b', 'c', 'd'].map((key) => group.post(posting(key)));
    expect(writer.groups).toEqual([['a']]);
    await writer.commitNext();
    expect((await first).transaction.id).toBe('a');
    expect(writer.groups).toEqual([['a'], ['b', 'c', 'd']]);
    await writer.commitNext();
    expect((await Promise.all(later)).map((result) => result.transaction.id)).toEqual(['b', 'c', 'd']);
  });

  it('answers a refused item alone while the rest of its group commits', async () => {
    const writer = controlledWriter((p) => p.key === 'poor');
    const group = new GroupCommit(writer.write, 100, 1, 1_000);
    const blocker = group.post(posting('first'));
    const rich = group.post(posting('rich'));
    const poor = group.post(posting('poor')).then(
      () => null,
      (error: unknown) => error,
    );
    await writer.commitNext();
    await blocker;
    await writer.commitNext();
    expect(writer.groups[1]).toEqual(['rich', 'poor']);
    expect((await rich).transaction.id).toBe('rich');
    expect(await poor).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
  });

  it("never puts one caller's key twice in a group (the second sees the first committed), nor more than maxGroup", async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 2, 1, 1_000);
    const all = [group.post(posting('x')), group.post(posting('k')), group.post(posting('k')), group.post(posting('k', 'other')), group.post(posting('y'))];
    for (let i = 0; i < 3; i++) await writer.commitNext();
    await Promise.all(all);
    // Another caller's k is another key; the producer's second k waits for the next group.
    expect(writer.groups).toEqual([['x'], ['k', 'other:k'], ['k', 'y']]);
  });

  it('refuses with RATE_LIMITED past the waiting bound, and writes nothing for it', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 100, 1, 2);
    const running = group.post(posting('running'));
    const waiting = [group.post(posting('w1')), group.post(posting('w2'))];
    await expect(group.post(posting('w3'))).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { limit: 2 } });
    await writer.commitNext();
    await running;
    await writer.commitNext();
    await Promise.all(waiting);
    expect(writer.groups.flat()).not.toContain('w3');
  });

  it('writes at most maxConcurrent groups at once', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 1, 2, 1_000);
    const all = ['a', 'b', 'c'].map((key) => group.post(posting(key)));
    expect(writer.groups).toEqual([['a'], ['b']]);
    await writer.commitNext();
    expect(writer.groups).toEqual([['a'], ['b'], ['c']]);
    await writer.commitNext();
    await writer.commitNext();
    await Promise.all(all);
  });

  it('starts a further group beside a running one only when a full group is waiting', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 3, 2, 1_000);
    const all = [group.post(posting('a')), group.post(posting('b')), group.post(posting('c'))];
    // Two waiting are fewer than a group: they wait for the running one, to be written together.
    expect(writer.groups).toEqual([['a']]);
    all.push(group.post(posting('d')));
    expect(writer.groups).toEqual([['a'], ['b', 'c', 'd']]);
    await writer.commitNext();
    await writer.commitNext();
    await Promise.all(all);
  });
});
