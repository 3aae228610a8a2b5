/**
 * Firehose figures: replay of a tenant's backlog to one reader, and the live delay from
 * commit to a streaming reader while producers commit across many owners, with four
 * partitioned readers checked to receive every event exactly once between them.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { mintToken } from '../../src/auth/mint.ts';
import { producer, type PostInput } from '../support/ledger-ops.ts';
import type { RunningServer } from '../support/server.ts';
import { TEST_SECRET } from '../support/tokens.ts';

type Target = Pick<RunningServer, 'url' | 'wsUrl'>;

const STREAM = 'subscription($after: String, $p: FeedPartition) { feed(after: $after, partition: $p) { eventId occurredAt ... on BalanceEvent { balance { available } } } }';
const LAST = 'query($after: String) { feed(after: $after, first: 500) { pageInfo { hasNextPage endCursor } } }';

/** The `p`th percentile of ascending `sorted` (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** A fresh tenant with `owners` wallets and a service token for it. */
async function tenant(server: Target, owners: number) {
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const bearer = await mintToken(TEST_SECRET, { subject: `${name}-ops`, role: 'service', ttlSeconds: 3600, tenant: name });
  const ops = producer(server.url, bearer);
  const wallets: { id: string }[] = [];
  for (let i = 0; i < owners; i += 50) wallets.push(...(await Promise.all(Array.from({ length: Math.min(50, owners - i) }, () => ops.createWallet(`${name}-${randomUUID().slice(0, 8)}`)))));
  /** Commits `postings` postings (two events each) spread over the wallets, in batches of `batch`. */
  const post = async (postings: number, batch: number) => {
    for (let done = 0; done < postings; done += batch) {
      const inputs: PostInput[] = Array.from({ length: Math.min(batch, postings - done) }, (_, i) => ({ walletId: wallets[(done + i) % wallets.length]!.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' }));
      const res = await ops.postBatchRaw(inputs);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    }
  };
  /** The feed cursor at the end of what is readable now. */
  const end = async () => {
    let after: string | null = null;
    for (;;) {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query: LAST, variables: { after } }) });
      const { data } = (await res.json()) as { data: { feed: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
      after = data.feed.pageInfo.endCursor ?? after;
      if (!data.feed.pageInfo.hasNextPage) return after;
    }
  };
  return { bearer, post, end };
}

/** Streams the feed from `after` until `expected` events arrived; calls `onEvent` with each. */
function stream(client: Client, after: string | null, expected: number, partition: { index: number; count: number } | null, onEvent: (event: { eventId: string; occurredAt: string }) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const stop = client.subscribe<{ feed: { eventId: string; occurredAt: string } }>(
      { query: STREAM, variables: { after, p: partition } },
      {
        next: (result) => {
          onEvent(result.data!.feed);
          if (++received === expected) {
            stop();
            resolve();
          }
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}

export interface FirehoseReplay {
  events: number;
  medianMs: number;
  eventsPerSecond: number;
}

/** Replays a tenant's backlog of about `events` events to one reader, `runs` times. */
export async function benchFirehoseReplay(server: Target, events: number, runs: number): Promise<FirehoseReplay> {
  const t = await tenant(server, 100);
  const start = await t.end();
  await t.post(Math.ceil(events / 2), 500);
  const total = Math.ceil(events / 2) * 2;
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${t.bearer}` } });
    const started = performance.now();
    await stream(client, start, total, null, () => {});
    if (i > 0) times.push(performance.now() - started); // the first run warms up
    await client.dispose();
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  return { events: total, medianMs, eventsPerSecond: Math.round(total / (medianMs / 1000)) };
}

export interface FirehoseLive {
  events: number;
  p50: number;
  p99: number;
  /** Events the four partitioned readers received between them, and how many distinct. */
  partitioned: { received: number; distinct: number };
}

/**
 * Producers commit `rate` events/s over `owners` owners for `durationMs`; one reader
 * streams the whole feed (commit → receive delay, from each event's commit time) and four
 * partitioned readers split it.
 */
export async function benchFirehoseLive(server: Target, owners: number, rate: number, durationMs: number): Promise<FirehoseLive> {
  const t = await tenant(server, owners);
  const start = await t.end();
  const postings = Math.round(((rate / 2) * durationMs) / 1000);
  const batch = Math.max(1, Math.round(rate / 2 / 50)); // 50 commits a second
  const clients = Array.from({ length: 5 }, () => createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${t.bearer}` } }));
  const delays: number[] = [];
  const seen: string[] = [];
  const whole = stream(clients[0]!, start, postings * 2, null, (event) => delays.push(Date.now() - Date.parse(event.occurredAt)));
  const counts = [0, 0, 0, 0];
  const parts = [0, 1, 2, 3].map((index) =>
    stream(clients[index + 1]!, start, Number.POSITIVE_INFINITY, { index, count: 4 }, (event) => {
      seen.push(event.eventId);
      counts[index]!++;
    }),
  );
  void Promise.all(parts).catch(() => {});
  // Open-loop: a batch every 20 ms, whatever the answers.
  const inFlight: Promise<void>[] = [];
  const began = performance.now();
  for (let sent = 0; sent < postings; sent += batch) {
    const due = began + (sent / batch) * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(t.post(Math.min(batch, postings - sent), batch));
  }
  await Promise.all(inFlight);
  await whole;
  const deadline = Date.now() + 10_000;
  while (seen.length < postings * 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all(clients.map((client) => client.dispose()));
  delays.sort((a, b) => a - b);
  return { events: postings * 2, p50: percentile(delays, 50), p99: percentile(delays, 99), partitioned: { received: seen.length, distinct: new Set(seen).size } };
}
