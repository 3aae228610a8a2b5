/**
 * One load run against a running server: create owners and wallets, open subscribers,
 * drive producers for a while, wait for the deliveries to drain, and report what was
 * held, delivered and how fast. Used by `npm run loadtest` and by the benchmarks.
 */
import { randomUUID } from 'node:crypto';
import { createWallets, graphql, serverRss, signingSecret, toolToken } from './api.ts';
import type { LatencySummary } from './latency.ts';
import { Producers } from './producers.ts';
import { subscribeSse, subscribeWs, Tally, type Subscriber } from './subscribers.ts';

export interface LoadOptions {
  /** The server's GraphQL URL. */
  url: string;
  connections: number;
  owners: number;
  /** Events per second to produce; 0 holds connections idle; `max` posts as fast as the server takes. */
  rate: number | 'max';
  durationMs: number;
  transport: 'ws' | 'sse';
  /** How many 127.0.0.x source addresses to spread connections over (each gives ~28,000 ports). */
  sourceAddresses: number;
  /** Postings per producer request. */
  batch: number;
  /** Producer requests in flight. */
  producers: number;
  secret?: string;
  /**
   * The longest to wait for outstanding deliveries once the producers stop; default: until
   * every one arrived or none arrived for 3 s. A throughput run that offers more than a
   * slow server delivers sets it, so the figure is its rate, not the time to drain it all.
   */
  drainLimitMs?: number;
  /** Reads the server's resident memory; default: its /metrics. */
  rss?: () => Promise<number | null>;
  /** Told a one-line status about once a second. */
  onProgress?: (line: string) => void;
}

export interface LoadReport {
  connections: { target: number; held: number };
  durationSeconds: number;
  eventsProduced: number;
  eventsPerSecond: number;
  deliveries: number;
  expectedDeliveries: number;
  deliveriesPerSecond: number;
  latencyMs: LatencySummary;
  /** From a posting's scheduled send (open loop) to a subscriber receiving its transaction event. */
  sendLatencyMs: LatencySummary;
  /** From a posting's scheduled send to the server's answer. */
  answerLatencyMs: LatencySummary;
  /** Open loop: requests sent, how many left more than LATE_MS after their time, and the worst lag (the load tool's own shortfall). */
  schedule: { sent: number; late: number; worstLagMs: number };
  gaps: number;
  duplicates: number;
  errors: number;
  errorSamples: string[];
  serverRssBytes: { before: number | null; held: number | null; after: number | null };
  /** Server memory added per held connection, in bytes. */
  rssPerConnection: number | null;
}

const CONNECT_WAVE = 250;

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const progress = options.onProgress ?? (() => {});
  const secret = await signingSecret(options.secret);
  const run = randomUUID().slice(0, 6);
  const serviceToken = await toolToken(secret, `loadtest-${run}`, 'service');
  const adminToken = await toolToken(secret, `loadtest-${run}`, 'admin');
  const owners = Array.from({ length: options.owners }, (_, i) => `load-${run}-${i}`);
  progress(`creating ${owners.length} wallets…`);
  const walletIds = await createWallets(options.url, serviceToken, owners);
  const tokens = await Promise.all(owners.map((owner) => toolToken(secret, owner, 'user')));

  const rss = options.rss ?? (() => serverRss(options.url));
  const rssBefore = await rss();
  const tally = new Tally();
  const subscribers: Subscriber[] = [];
  const subscribersPerOwner = new Uint32Array(owners.length);
  const open = options.transport === 'ws' ? subscribeWs : subscribeSse;
  for (let start = 0; start < options.connections; start += CONNECT_WAVE) {
    const wave = Array.from({ length: Math.min(CONNECT_WAVE, options.connections - start) }, (_, k) => start + k);
    const opened = await Promise.allSettled(
      wave.map((i) =>
        open({
          url: options.url,
          token: tokens[i % owners.length]!,
          tally,
          localAddress: options.sourceAddresses > 1 ? `127.0.0.${1 + (i % options.sourceAddresses)}` : undefined,
        }).then((subscriber) => {
          subscribersPerOwner[i % owners.length]!++;
          return subscriber;
        }),
      ),
    );
    for (const result of opened) {
      if (result.status === 'fulfilled') subscribers.push(result.value);
      else tally.error(`connect: ${(result.reason as Error).message}`);
    }
    progress(`connecting: ${tally.held.toLocaleString('en')}/${options.connections.toLocaleString('en')} held, ${tally.errors} errors`);
  }
  await waitForSubscriptions(options.url, adminToken, subscribers.length);
  const rssHeld = await rss();

  const producers = new Producers({ url: options.url, serviceToken, walletIds, batch: options.batch, concurrency: options.producers });
  const started = performance.now();
  if (options.rate !== 0) producers.start(options.rate);
  let lastReceived = 0;
  let lastReceiveAt = started;
  const ticker = setInterval(() => {
    if (tally.received !== lastReceived) lastReceiveAt = performance.now();
    const perSecond = tally.received - lastReceived;
    lastReceived = tally.received;
    const elapsed = Math.round((performance.now() - started) / 1000);
    const latency = tally.latency.summary();
    progress(
      `t=${elapsed}s held=${tally.held.toLocaleString('en')} produced=${producers.tally.events.toLocaleString('en')} deliveries/s=${perSecond.toLocaleString('en')} p50=${latency.p50.toFixed(1)}ms p99=${latency.p99.toFixed(1)}ms errors=${tally.errors + producers.tally.errors}`,
    );
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  await producers.stop();
  const stoppedAt = performance.now();

  const expected = () => owners.reduce((sum, _, o) => sum + producers.tally.eventsPerWallet[o]! * subscribersPerOwner[o]!, 0);
  // Drain: wait until every expected delivery arrived, nothing arrived for 3 s, or the drain limit passed.
  let quietSince = performance.now();
  const drainEnd = quietSince + (options.drainLimitMs ?? Infinity);
  let seen = tally.received;
  while (tally.received < expected() && performance.now() - quietSince < 3_000 && performance.now() < drainEnd) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (tally.received !== seen) {
      seen = tally.received;
      quietSince = performance.now();
      lastReceiveAt = quietSince;
    }
  }
  clearInterval(ticker);
  const rssAfter = await rss();
  for (const subscriber of subscribers) subscriber.close();

  const activeSeconds = Math.max(stoppedAt, lastReceiveAt) - started;
  return {
    connections: { target: options.connections, held: subscribers.length },
    durationSeconds: (stoppedAt - started) / 1000,
    eventsProduced: producers.tally.events,
    eventsPerSecond: producers.tally.events / ((stoppedAt - started) / 1000),
    deliveries: tally.received,
    expectedDeliveries: expected(),
    deliveriesPerSecond: tally.received / (activeSeconds / 1000),
    latencyMs: tally.latency.summary(),
    sendLatencyMs: tally.sendLatency.summary(),
    answerLatencyMs: producers.tally.answered.summary(),
    schedule: producers.tally.schedule,
    gaps: tally.gaps,
    duplicates: tally.duplicates,
    errors: tally.errors + producers.tally.errors,
    errorSamples: [...tally.errorSamples, ...producers.tally.errorSamples],
    serverRssBytes: { before: rssBefore, held: rssHeld, after: rssAfter },
    rssPerConnection: rssBefore !== null && rssHeld !== null && subscribers.length > 0 ? (rssHeld - rssBefore) / subscribers.length : null,
  };
}

/**
 * Waits (up to 30 s) until the server reports at least `count` active subscriptions; a
 * server without `serverStats` (the benchmark baseline) gets a fixed two seconds.
 */
async function waitForSubscriptions(url: string, adminToken: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const stats = await graphql<{ serverStats: { subscriptions: { count: number }[] } | null }>(url, adminToken, '{ serverStats { subscriptions { count } } }').catch(() => null);
    if (!stats?.serverStats) return void (await new Promise((resolve) => setTimeout(resolve, 2_000)));
    if (stats.serverStats.subscriptions.reduce((sum, s) => sum + s.count, 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
