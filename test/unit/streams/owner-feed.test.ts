/**
 * One owner's feed, alone: it takes events strictly in sequence, repairs a gap with one
 * log read for all its subscribers, heals on a head signal, keeps its ring within its byte
 * bound, and steps over a hole that pruning left instead of waiting for ever.
 */
import { describe, expect, it } from 'vitest';
import { OwnerFeed, type OwnerFeedSubscriber } from '../../../src/streams/owner-feed.ts';
import { MemoryLog } from '../../support/memory-log.ts';

function feedOn(log: MemoryLog, ringBytes = 1_000_000) {
  const repaired: number[] = [];
  const emptied: OwnerFeed[] = [];
  const feed = new OwnerFeed(log.ownerId, {
    log,
    ringBytes: () => ringBytes,
    onRingBytes: () => {},
    onLogRead: () => {},
    onRepaired: (count) => repaired.push(count),
    onError: (error) => {
      throw error;
    },
    onEmpty: (empty) => emptied.push(empty),
  });
  return { feed, repaired, emptied };
}

/** A subscriber that counts its wakes; `woken()` resolves at the next one. */
function subscriber() {
  let wakes = 0;
  let resolveNext: (() => void) | null = null;
  const self: OwnerFeedSubscriber & { wakes: () => number; woken: () => Promise<void> } = {
    wake: () => {
      wakes++;
      resolveNext?.();
      resolveNext = null;
    },
    signal: () => {},
    wakes: () => wakes,
    woken: () => new Promise<void>((resolve) => (resolveNext = resolve)),
  };
  return self;
}

/** Lets the feed's chain run until `done` (each step is a few promise turns, no timers). */
async function settle(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

const sequences = (events: { sequence: number }[] | null) => events?.map((event) => event.sequence) ?? null;

describe('OwnerFeed', () => {
  it('fixes its head from the log once attached, then takes events in sequence and ignores duplicates', async () => {
    const log = new MemoryLog();
    log.append(2);
    const { feed } = feedOn(log);
    const reader = subscriber();
    feed.add(reader);
    let attach!: () => void;
    const started = feed.start(new Promise<void>((resolve) => (attach = resolve)));
    expect(feed.head).toBe(-1);
    attach();
    await started;
    expect(feed.head).toBe(2);

    const [third, fourth] = log.append(2);
    const woken = reader.woken();
    feed.receive({ kind: 'events', events: [third!, third!, fourth!] });
    await woken;
    expect(feed.head).toBe(4);
    expect(sequences(feed.after(2, 10))).toEqual([3, 4]);
    expect(feed.after(4, 10)).toEqual([]);
    expect(log.reads).toBe(0);
  });

  it('repairs a gap from the log once, for every subscriber, before the event that revealed it', async () => {
    const log = new MemoryLog();
    const { feed, repaired } = feedOn(log);
    const readers = [subscriber(), subscriber(), subscriber()];
    for (const reader of readers) feed.add(reader);
    await feed.start(Promise.resolve());
    const added = log.append(5);
    feed.receive({ kind: 'events', events: [added[4]!] }); // 1..4 were never published
    await settle(() => feed.head === 5);
    expect(sequences(feed.after(0, 10))).toEqual([1, 2, 3, 4, 5]);
    expect(log.reads).toBe(1);
    expect(repaired).toEqual([4]);
    for (const reader of readers) expect(reader.wakes()).toBeGreaterThan(0);
  });

  it('heals a quiet owner on a head signal, and a signal at or below its head reads nothing', async () => {
    const log = new MemoryLog();
    const { feed } = feedOn(log);
    const reader = subscriber();
    feed.add(reader);
    await feed.start(Promise.resolve());
    log.append(3);
    const woken = reader.woken();
    feed.receive({ kind: 'head', sequence: 3 });
    await woken;
    expect(feed.head).toBe(3);
    feed.receive({ kind: 'head', sequence: 3 });
    feed.receive({ kind: 'head', sequence: 2 });
    log.append(1);
    feed.receive({ kind: 'head', sequence: 4 }); // runs after anything the signals above scheduled
    await settle(() => feed.head === 4);
    expect(log.reads).toBe(2);
  });

  it('keeps its ring within its byte bound: an older position is not in the ring, and its reader goes to the log', async () => {
    const log = new MemoryLog();
    const { feed } = feedOn(log, 2_000); // a few events' worth
    const reader = subscriber();
    feed.add(reader);
    await feed.start(Promise.resolve());
    const added = log.append(50);
    const woken = reader.woken();
    feed.receive({ kind: 'events', events: added });
    await woken;
    expect(feed.head).toBe(50);
    expect(feed.after(0, 100)).toBeNull();
    const recent = sequences(feed.after(49, 100))!;
    expect(recent).toEqual([50]);
    const oldestInRing = 50 - (sequences(feed.after(feed.head - 1 - 100, 100)) ?? []).length;
    expect(oldestInRing).toBeGreaterThan(0);
  });

  it('steps over a hole that pruning left, empties its ring, and goes on with what follows', async () => {
    const log = new MemoryLog();
    log.append(2);
    const { feed } = feedOn(log);
    const reader = subscriber();
    feed.add(reader);
    await feed.start(Promise.resolve());
    log.append(6); // 3..8
    log.first = 6; // 3..5 pruned before the feed heard of them
    const woken = reader.woken();
    feed.receive({ kind: 'head', sequence: 8 });
    await woken;
    expect(feed.head).toBe(8);
    expect(sequences(feed.after(5, 10))).toEqual([6, 7, 8]);
    expect(feed.after(2, 10)).toBeNull(); // a reader at 2 reads the log, finds the hole: CURSOR_EXPIRED
  });

  it('is emptied once, by the last subscriber to leave, and not at all once stopped', async () => {
    const { feed, emptied } = feedOn(new MemoryLog());
    const [first, second] = [subscriber(), subscriber()];
    feed.add(first);
    feed.add(second);
    feed.leave(first);
    feed.leave(first); // leaving twice changes nothing
    expect(emptied).toEqual([]);
    feed.leave(second);
    feed.leave(second);
    expect(emptied).toEqual([feed]);

    const stopped = feedOn(new MemoryLog());
    stopped.feed.add(first);
    stopped.feed.stop(); // dropped already (its head could not be read): nothing left to drop
    stopped.feed.leave(first);
    expect(stopped.emptied).toEqual([]);
  });
});
