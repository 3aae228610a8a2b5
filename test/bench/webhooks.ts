/**
 * Webhook figures: delivery throughput to one local receiver (a backlog committed while
 * the endpoint was disabled, then delivered once it is enabled), and the delay from
 * commit to a healthy receiver getting the request while producers commit at a steady
 * rate. The receiver verifies every signature, as a customer's would.
 */
import { randomUUID } from 'node:crypto';
import { mintToken } from '../../src/auth/mint.ts';
import { gqlData } from '../support/clients.ts';
import { producer, type PostInput } from '../support/ledger-ops.ts';
import type { RunningServer } from '../support/server.ts';
import { TEST_SECRET } from '../support/tokens.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { percentile } from './firehose.ts';
import { postAtSteadyRate } from './steady-rate.ts';

type Target = Pick<RunningServer, 'url'>;

/** A fresh tenant with `owners` wallets, an endpoint pointing at a new receiver, and a way to commit postings. */
async function setUp(server: Target, owners: number) {
  const name = `hooks-${randomUUID().slice(0, 8)}`;
  const bearer = await mintToken(TEST_SECRET, { subject: `${name}-ops`, role: 'service', ttlSeconds: 3600, tenant: name });
  const receiver = await startReceiver();
  const created = await gqlData(server.url, bearer, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`, { input: { url: receiver.url } });
  receiver.secrets.push(created.createWebhookEndpoint.secret);
  const endpointId: string = created.createWebhookEndpoint.endpoint.id;
  const ops = producer(server.url, bearer);
  const wallets: { id: string }[] = [];
  for (let i = 0; i < owners; i += 50) wallets.push(...(await Promise.all(Array.from({ length: Math.min(50, owners - i) }, () => ops.createWallet(`${name}-${randomUUID().slice(0, 8)}`)))));
  let next = 0;
  /** Commits `postings` postings (two events each) over the wallets, `batch` per call. */
  const post = async (postings: number, batch: number) => {
    for (let done = 0; done < postings; done += batch) {
      const inputs: PostInput[] = Array.from({ length: Math.min(batch, postings - done) }, () => ({ walletId: wallets[next++ % wallets.length]!.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' }));
      const res = await ops.postBatchRaw(inputs);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    }
  };
  const enabled = (on: boolean) => gqlData(server.url, bearer, `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { state } }`, { input: { id: endpointId, enabled: on } });
  return { receiver, post, enabled, owners: wallets.length };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('webhook bench: the receiver did not get every event in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const distinct = (receiver: Receiver) => new Set(receiver.accepted.map((r) => r.id)).size;

export interface WebhookThroughput {
  deliveries: number;
  perSecond: number;
}

/** Delivers a backlog of about `events` events (committed while the endpoint was off) and times it. */
export async function benchWebhookThroughput(server: Target, events: number): Promise<WebhookThroughput> {
  const t = await setUp(server, 200);
  await until(() => distinct(t.receiver) >= t.owners, 30_000);
  await t.enabled(false);
  const before = distinct(t.receiver);
  await t.post(events / 2, 1_000);
  const started = performance.now();
  await t.enabled(true);
  await until(() => distinct(t.receiver) - before >= events, 120_000);
  const seconds = (performance.now() - started) / 1000;
  await t.receiver.close();
  return { deliveries: events, perSecond: Math.round(events / seconds) };
}

export interface WebhookLatency {
  events: number;
  p50: number;
  p99: number;
}

/** Commits `rate` events a second for `durationMs` over `owners` owners; the delay from commit to the receiver. */
export async function benchWebhookLatency(server: Target, owners: number, rate: number, durationMs: number): Promise<WebhookLatency> {
  const t = await setUp(server, owners);
  await until(() => distinct(t.receiver) >= t.owners, 30_000);
  const before = t.receiver.accepted.length;
  // Two events per posting.
  const postings = Math.round(((rate / 2) * durationMs) / 1000);
  await postAtSteadyRate(postings, rate / 2, (count) => t.post(count, count));
  await until(() => t.receiver.accepted.length - before >= postings * 2, 60_000);
  const delays = t.receiver.accepted.slice(before).map((r) => r.at - Date.parse(r.body.occurredAt));
  delays.sort((a, b) => a - b);
  await t.receiver.close();
  return { events: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99) };
}
