/**
 * Push figures against a local Web Push stand-in that checks the VAPID token and decrypts
 * payloads, as a browser's push service and browser would (one in 50 for throughput, so
 * that the stand-in's decrypting does not take the server's CPU): how many
 * pushes a second the server makes (encryption and signing included), draining a backlog
 * over many devices; and the delay from commit to the push arriving while notifications
 * are made at a steady rate.
 */
import { randomUUID } from 'node:crypto';
import { mintToken } from '../../src/auth/mint.ts';
import { gqlData } from '../support/clients.ts';
import { producer, type PostInput } from '../support/ledger-ops.ts';
import { startWebPushService, type WebPushService } from '../support/push-services.ts';
import type { RunningServer } from '../support/server.ts';
import { TEST_SECRET } from '../support/tokens.ts';
import { percentile } from './firehose.ts';
import { postAtSteadyRate } from './steady-rate.ts';

type Target = Pick<RunningServer, 'url'>;

/** `owners` owners, each with a wallet, a rule that fires on every posting, and one Web Push device on the stand-in. */
async function setUp(server: Target, web: WebPushService, owners: number) {
  const name = `push-${randomUUID().slice(0, 8)}`;
  const bearer = await mintToken(TEST_SECRET, { subject: `${name}-ops`, role: 'service', ttlSeconds: 3600, tenant: name });
  const ops = producer(server.url, bearer);
  const wallets: { id: string }[] = [];
  for (let i = 0; i < owners; i += 25) {
    wallets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, owners - i) }, async () => {
          const owner = `${name}-${randomUUID().slice(0, 8)}`;
          const wallet = await ops.createWallet(owner);
          const user = await mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: 3600 });
          await gqlData(server.url, user, 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: TRANSACTION_ABOVE, threshold: "1" }) { id } }', { w: wallet.id });
          const sub = web.subscribe();
          await gqlData(server.url, user, 'mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { id } }', { input: { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } } });
          return wallet;
        }),
      )),
    );
  }
  let next = 0;
  /** Commits `postings` postings, each making one notification, `batch` per call. */
  const post = async (postings: number, batch: number) => {
    for (let done = 0; done < postings; done += batch) {
      const inputs: PostInput[] = Array.from({ length: Math.min(batch, postings - done) }, () => ({ walletId: wallets[next++ % wallets.length]!.id, direction: 'CREDIT', amount: '2', status: 'SUCCESS' }));
      const res = await ops.postBatchRaw(inputs);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    }
  };
  return { post };
}

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`push bench: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface PushThroughput {
  pushes: number;
  perSecond: number;
  devices: number;
}

/**
 * A backlog of `pushes` notifications over `devices` devices, made while the stand-in
 * refuses (503) so that every device waits for its retry, then drained once it accepts:
 * timed from the first accepted push to the last. The server must run with a short
 * PUSH_RETRY_SCHEDULE that outlasts the time the backlog takes to commit (or first pushes
 * become dead letters and never arrive).
 */
export async function benchPushThroughput(server: Target, devices: number, pushes: number): Promise<PushThroughput> {
  const web = await startWebPushService({ checkOneIn: 50 });
  try {
    const t = await setUp(server, web, devices);
    web.answer = () => 503;
    await t.post(pushes, 500);
    web.answer = () => 201;
    await until(() => web.received.length >= pushes, 300_000, () => `${web.received.length} of ${pushes} pushes arrived; problems ${web.problems.slice(0, 3).join('; ')}`);
    if (web.problems.length) throw new Error(`push bench: ${web.problems[0]}`);
    const first = web.received[0]!.at;
    const last = web.received.at(-1)!.at;
    return { pushes, devices, perSecond: Math.round((pushes - 1) / ((last - first) / 1000)) };
  } finally {
    await web.close();
  }
}

export interface PushLatency {
  pushes: number;
  p50: number;
  p99: number;
}

/** Makes `rate` notifications a second for `durationMs` over `devices` devices; the delay from commit to the push arriving. */
export async function benchPushLatency(server: Target, devices: number, rate: number, durationMs: number): Promise<PushLatency> {
  const web = await startWebPushService();
  try {
    const t = await setUp(server, web, devices);
    const total = Math.round((rate * durationMs) / 1000);
    await postAtSteadyRate(total, rate, (count) => t.post(count, count));
    await until(() => web.received.length >= total, 60_000, () => `${web.received.length} of ${total} pushes arrived`);
    const delays = web.received.map((push) => push.at - Date.parse(push.payload.data.occurredAt)).sort((a, b) => a - b);
    return { pushes: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99) };
  } finally {
    await web.close();
  }
}
