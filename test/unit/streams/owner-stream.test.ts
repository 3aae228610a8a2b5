/**
 * One subscription, alone, over a real feed and an in-memory log: it is a position, not a
 * queue. It reads the ring, or the log when it is behind, at its reader's pace; its filter
 * advances the position without a gap; it pauses in place while its connection is backed
 * up and goes on from the same place when it drains; its guard ends it at SLOW_CONSUMER,
 * at token expiry (unless the connection closes itself then) and at a revocation.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.ts';
import type { WalletEvent } from '../../../src/domain/events.ts';
import type { ClientConnection } from '../../../src/streams/client-connection.ts';
import { OwnerFeed } from '../../../src/streams/owner-feed.ts';
import { OwnerStream, type StreamSettings, type StreamSubscription } from '../../../src/streams/owner-stream.ts';
import { MemoryLog } from '../../support/memory-log.ts';

const everything = () => true;

/** A feed over `log` (positioned at its head), and streams joined to it. */
async function setUp(log: MemoryLog, ringBytes = 1_000_000) {
  const feed = new OwnerFeed(log.ownerId, { log, ringBytes: () => ringBytes, onRingBytes: () => {}, onLogRead: () => {}, onRepaired: () => {}, onError: () => {}, onEmpty: () => {} });
  await feed.start(Promise.resolve());
  /** A stream after `after`; `options` mixes its settings and its subscription, as a test needs. */
  const open = (after: number, options: Partial<StreamSettings & StreamSubscription> = {}) => {
    const stream = new OwnerStream({ pageSize: 3, ...options }, { filter: everything, ...options });
    feed.add(stream);
    stream.joined(feed);
    stream.place(after, feed.head);
    return stream;
  };
  /** Publishes `count` new events to the feed, as the backbone would. */
  const publish = (count: number) => feed.receive({ kind: 'events', events: log.append(count) });
  return { feed, open, publish };
}

async function take(stream: OwnerStream, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(((await stream.next()).value as WalletEvent).sequence);
  return out;
}

/** A connection whose backlog the test sets, and that drains when told. */
function connection(closesAtTokenExpiry = false) {
  let backlog = 0;
  const listeners = new Set<() => void>();
  const self: ClientConnection & { set(bytes: number): void; drain(): void } = {
    bufferedBytes: () => backlog,
    onDrain(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    closesAtTokenExpiry,
    set: (bytes) => (backlog = bytes),
    drain() {
      backlog = 0;
      for (const listener of [...listeners]) listener();
    },
  };
  return self;
}

const codeOf = async (promise: Promise<unknown>) => ((await promise.then(() => null, (error: unknown) => error)) as DomainError | null)?.code;

describe('OwnerStream', () => {
  it('hands out what follows its position from the ring, then waits for the feed', async () => {
    const log = new MemoryLog();
    const { feed, open, publish } = await setUp(log);
    publish(5);
    for (let turn = 0; feed.head < 5 && turn < 100; turn++) await new Promise((resolve) => setImmediate(resolve));
    const stream = open(2);
    expect(await take(stream, 3)).toEqual([3, 4, 5]);
    const waiting = stream.next();
    publish(1);
    expect(((await waiting).value as WalletEvent).sequence).toBe(6);
    expect(log.reads).toBe(0);
  });

  it('parks its reader when caught up, and its feed resumes it; behind the ring it leaves the way on to next()', async () => {
    const log = new MemoryLog();
    log.append(4);
    const { open, publish } = await setUp(log);
    const caughtUp = open(4);
    let resumed = 0;
    const reader = { resume: () => void resumed++ };
    expect(caughtUp.takeNow()).toBeNull();
    expect(caughtUp.whenReady(reader)).toBe(true);
    publish(1);
    for (let turn = 0; resumed === 0 && turn < 100; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(1);
    expect(caughtUp.takeNow()?.value?.sequence).toBe(5);

    const behind = open(0); // the ring starts after the head the feed found: this one needs the log
    expect(behind.takeNow()).toBeNull();
    expect(behind.whenReady(reader)).toBe(false);
    expect(await take(behind, 3)).toEqual([1, 2, 3]);
  });

  it('reads the log a page at a time when behind the ring, then joins the ring', async () => {
    const log = new MemoryLog();
    log.append(10);
    const { open } = await setUp(log, 0); // no ring at all: every read is the log's
    const stream = open(0);
    expect(await take(stream, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(log.reads).toBe(4); // pages of 3: 1-3, 4-6, 7-9, 10
  });

  it('reads its next log page while it hands out a full one, and never reads a page twice', async () => {
    const log = new MemoryLog();
    log.append(7);
    const { open } = await setUp(log, 0);
    const stream = open(0);
    expect(await take(stream, 1)).toEqual([1]);
    expect(log.reads).toBe(2); // 1-3, and 4-6 asked for while 1-3 goes out
    expect(await take(stream, 5)).toEqual([2, 3, 4, 5, 6]);
    expect(log.reads).toBe(3); // 7, asked for while 4-6 went out
    expect(await take(stream, 1)).toEqual([7]);
    expect(log.reads).toBe(3); // the last page was short: nothing more to read ahead
  });

  it('shares a log page with every stream behind the ring at the same place: one read, the same event objects', async () => {
    const log = new MemoryLog();
    log.append(6);
    const { open } = await setUp(log, 0);
    const together = [open(0), open(0), open(0)];
    const pages = await Promise.all(together.map((stream) => take(stream, 6)));
    expect(pages).toEqual([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]);
    expect(log.reads).toBe(2); // 1-3, and 4-6 read ahead: once for the three streams
    const firsts = await Promise.all([open(0), open(0)].map((stream) => stream.next()));
    expect(firsts[0]!.value).toBe(firsts[1]!.value); // one object, read once, for both
    const elsewhere = open(3);
    expect(await take(elsewhere, 3)).toEqual([4, 5, 6]);
    expect(log.reads).toBe(5); // 1-3 and 4-6 again for the two new streams (the first reads were over), 4-6 for the one at 3
  });

  it('drops the page it read ahead when the log was pruned under it, and says CURSOR_EXPIRED', async () => {
    const log = new MemoryLog();
    log.append(9);
    const { open } = await setUp(log, 0);
    const stream = open(0);
    expect(await take(stream, 3)).toEqual([1, 2, 3]); // 4-6 read ahead
    log.first = 8;
    expect(await take(stream, 3)).toEqual([4, 5, 6]); // read before the prune: still whole
    expect(await codeOf(stream.next())).toBe('CURSOR_EXPIRED'); // 7 is gone from what follows
  });

  it('tells its observer which events came from a page of the log and which from the live ring', async () => {
    const observed = (replayed: boolean[]) => ({ delivered: (_event: WalletEvent, fromLog: boolean) => void replayed.push(fromLog), replayed() {}, replayFinished() {}, ended() {}, paused() {} });
    const behind = new MemoryLog();
    behind.append(4);
    const fromLog: boolean[] = [];
    const replaying = new OwnerStream({ pageSize: 3, observer: observed(fromLog) }, { filter: everything });
    const { feed } = await setUp(behind, 0);
    feed.add(replaying);
    replaying.joined(feed);
    replaying.place(0, feed.head);
    expect(await take(replaying, 4)).toEqual([1, 2, 3, 4]);
    expect(fromLog).toEqual([true, true, true, true]);
    expect(replaying.lastFromLog).toBe(true);

    const live = new MemoryLog();
    const ring = await setUp(live);
    const fromRing: boolean[] = [];
    const stream = new OwnerStream({ pageSize: 3, observer: observed(fromRing) }, { filter: everything });
    ring.feed.add(stream);
    stream.joined(ring.feed);
    stream.place(0, ring.feed.head);
    const waiting = take(stream, 2);
    ring.publish(2);
    expect(await waiting).toEqual([1, 2]);
    expect(fromRing).toEqual([false, false]);
    expect(stream.lastFromLog).toBe(false);
  });

  it('skips what its filter refuses without looking like a gap', async () => {
    const log = new MemoryLog();
    log.append(2, 'BALANCE');
    log.append(1, 'TRANSACTION');
    log.append(2, 'BALANCE');
    log.append(1, 'TRANSACTION');
    const { open } = await setUp(log);
    const stream = open(0, { filter: (event) => event.type === 'TRANSACTION' });
    expect(await take(stream, 2)).toEqual([3, 6]);
  });

  it('ends with CURSOR_EXPIRED when the log no longer holds what follows its position', async () => {
    const log = new MemoryLog();
    log.append(6);
    const { open } = await setUp(log, 0);
    log.first = 4;
    expect(await codeOf(open(1).next())).toBe('CURSOR_EXPIRED');
  });

  it('pauses in place while its connection is backed up, and goes on from the same event when it drains', async () => {
    const log = new MemoryLog();
    log.append(4);
    const { open } = await setUp(log);
    const client = connection();
    const stream = open(0, { connection: client, maxBufferedBytes: 100, slowConsumerTimeoutMs: 60_000 });
    expect(await take(stream, 1)).toEqual([1]);
    client.set(1_000);
    let settled = false;
    const next = stream.next().then((result) => ((settled = true), result));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    client.drain();
    expect(((await next).value as WalletEvent).sequence).toBe(2);
  });

  it('ends with SLOW_CONSUMER only when it stays paused past its time bound', async () => {
    const log = new MemoryLog();
    log.append(2);
    const { open } = await setUp(log);
    const client = connection();
    const stream = open(0, { connection: client, maxBufferedBytes: 100, slowConsumerTimeoutMs: 1_000 });
    client.set(1_000);
    const next = stream.next();
    await new Promise((resolve) => setImmediate(resolve));
    stream.signal({ kind: 'tick', now: Date.now() + 500 }); // within the bound: it looks again, still paused
    stream.signal({ kind: 'tick', now: Date.now() + 5_000 });
    expect(await codeOf(next)).toBe('SLOW_CONSUMER');
  });

  it("ends at its opener's token expiry, unless its connection closes itself then", async () => {
    const log = new MemoryLog();
    const { open } = await setUp(log);
    const openedBy = { subject: 'alice', tokenId: 't-1', expiresAt: Math.floor(Date.now() / 1000) - 60 };
    const onSse = open(0, { connection: connection(false), openedBy, tokenClockSkewMs: 0 });
    const onSocket = open(0, { connection: connection(true), openedBy, tokenClockSkewMs: 0 });
    const sseNext = onSse.next();
    const socketNext = onSocket.next();
    for (const stream of [onSse, onSocket]) stream.signal({ kind: 'tick', now: Date.now() });
    expect(await codeOf(sseNext)).toBe('UNAUTHENTICATED');
    let socketSettled = false;
    void socketNext.then(() => (socketSettled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(socketSettled).toBe(false);
    await onSocket.return();
  });

  it("ends when its opener's access is revoked, and only then", async () => {
    const log = new MemoryLog();
    const { open } = await setUp(log);
    const stream = open(0, { openedBy: { subject: 'alice', tokenId: 't-1', expiresAt: null } });
    const next = stream.next();
    stream.signal({ kind: 'revoked', subject: 'bob' });
    stream.signal({ kind: 'revoked', jti: 't-1' });
    expect(await codeOf(next)).toBe('UNAUTHENTICATED');
  });
});
