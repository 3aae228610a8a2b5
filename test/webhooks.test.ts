/**
 * Webhooks from the log, received by a real HTTP receiver on loopback that verifies every
 * request with the `standardwebhooks` package: every event of the endpoint's tenant
 * arrives, each owner's in sequence order; failures are retried, then dead-lettered and
 * redelivered; the circuit breaker pauses, probes and resumes; a rotated secret signs
 * beside the new one during its overlap; another tenant's events never arrive.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, gqlData, waitUntil } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { createEndpoint, deliveries, endpointState, eventCount, expectedSequences, populate } from './support/webhooks.ts';
import { tenantToken } from './support/tokens.ts';
import { orderProblems, startReceiver, type Receiver } from './support/webhook-receiver.ts';

/** Short schedules and a quick breaker, by configuration (nothing sleeps to wait them out). */
const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '50ms,100ms,150ms,200ms,250ms,300ms,400ms,500ms',
  WEBHOOK_BREAKER_THRESHOLD: '5',
  WEBHOOK_BREAKER_COOLDOWN: '300ms',
  HEAD_CHECK_INTERVAL: '200ms',
  WEBHOOK_LEASE_TTL: '1500ms',
};

function uniqueAccepted(receiver: Receiver): number {
  return new Set(receiver.accepted.map((r) => r.id)).size;
}

async function metric(metricsUrl: string, line: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const found = text.split('\n').find((row) => row.startsWith(line));
  return found ? Number(found.split(' ').at(-1)) : 0;
}

describe.each(BACKENDS)('webhooks on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const fx = serverOn(backend, WEBHOOK_ENV);
    const receivers: Receiver[] = [];
    afterAll(async () => {
      for (const receiver of receivers) await receiver.close().catch(() => {});
    });
    const newReceiver = async () => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      return receiver;
    };
    const metricsUrl = () => fx.server.url.replace('/graphql', '/metrics');
    const tenant = () => `t-${randomUUID().slice(0, 8)}`;

    it('delivers 1,000 events over 50 owners, each verified, each owner in sequence order, none missing', async () => {
      const bearer = await tenantToken('bulk', tenant());
      const receiver = await newReceiver();
      const { secret, endpoint } = await createEndpoint(fx.server.url, bearer, { url: receiver.url, description: 'bulk' });
      receiver.secrets.push(secret);
      expect(secret).toMatch(/^whsec_/);
      expect(endpoint.state).toBe('ACTIVE');
      const ops = producer(fx.server.url, bearer);
      const owners = await populate(ops, 50, 10);
      const expected = await expectedSequences(ops, owners);
      const total = eventCount(expected);
      expect(total).toBeGreaterThanOrEqual(1_000);
      await waitUntil(() => uniqueAccepted(receiver) >= total, 30_000, () => `${uniqueAccepted(receiver)} of ${total}`);
      expect(receiver.unverified).toBe(0);
      expect(orderProblems(receiver.accepted, expected)).toEqual([]);
      // The body is the event as the API shows it.
      const transaction = receiver.accepted.find((r) => r.body.type === 'TRANSACTION')!.body;
      expect(Object.keys(transaction).sort()).toEqual(['cursor', 'eventId', 'occurredAt', 'ownerId', 'previousStatus', 'sequence', 'transaction', 'type', 'walletId']);
      expect(transaction.eventId).toBe(receiver.accepted.find((r) => r.body.type === 'TRANSACTION')!.id);
      expect(transaction.transaction).toMatchObject({ direction: 'CREDIT', status: 'SUCCESS', currency: 'NGN' });
      // The cursor resumes the firehose right after this event.
      const next = await gqlData(fx.server.url, bearer, `query($after: String) { feed(after: $after, first: 1) { edges { node { eventId } } } }`, { after: transaction.cursor });
      expect(next.feed.edges[0]?.node.eventId).not.toBe(transaction.eventId);
      const state = await endpointState(fx.server.url, bearer, endpoint.id);
      expect(state).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0, deadLetters: 0 });
      expect(state.lease.holder).toContain(':');
      // A delivery is recorded in the step's commit, just after the receiver answered.
      await waitUntil(async () => (await deliveries(fx.server.url, bearer, endpoint.id, 'DELIVERED')).length === total, 15_000);
      expect(await metric(metricsUrl(), 'wallet_events_webhook_deliveries_total{outcome="delivered"}')).toBeGreaterThanOrEqual(total);
    });

    it('retries an event answered 500 three times and keeps its owner’s later events behind it', async () => {
      const bearer = await tenantToken('flaky', tenant());
      const receiver = await newReceiver();
      const { secret, endpoint } = await createEndpoint(fx.server.url, bearer, { url: receiver.url });
      receiver.secrets.push(secret);
      // Every third event of each owner fails its first three attempts.
      receiver.answer = (request) => (request.body.sequence % 3 === 0 && request.attempt <= 3 ? 500 : 200);
      const ops = producer(fx.server.url, bearer);
      const owners = await populate(ops, 5, 4, 'flaky');
      const expected = await expectedSequences(ops, owners);
      const total = eventCount(expected);
      await waitUntil(() => uniqueAccepted(receiver) >= total, 30_000, () => `${uniqueAccepted(receiver)} of ${total}`);
      expect(orderProblems(receiver.accepted, expected)).toEqual([]);
      const retried = receiver.accepted.filter((r) => r.attempt === 4);
      expect(retried.length).toBe(owners.length * Math.floor(expected.get(owners[0]!)!.length / 3));
      // Recorded in the step's commit, just after the receiver answered the last attempt.
      const retriedRecords = async () => (await deliveries(fx.server.url, bearer, endpoint.id)).filter((d) => d.sequence % 3 === 0);
      await waitUntil(async () => (await retriedRecords()).every((d) => d.status === 'DELIVERED'), 15_000);
      const eventual = await retriedRecords();
      expect(eventual).toHaveLength(retried.length);
      expect(eventual.every((d) => d.status === 'DELIVERED' && d.attempts === 4)).toBe(true);
    });

    it('opens the breaker while the receiver is down, probes, closes when it is back, and loses nothing', async () => {
      const bearer = await tenantToken('outage', tenant());
      const receiver = await newReceiver();
      const { secret, endpoint } = await createEndpoint(fx.server.url, bearer, { url: receiver.url });
      receiver.secrets.push(secret);
      const probesBefore = await metric(metricsUrl(), 'wallet_events_webhook_breaker_transitions_total{to="half_open"}');
      await receiver.down();
      const ops = producer(fx.server.url, bearer);
      const owners = await populate(ops, 4, 3, 'outage');
      await waitUntil(async () => (await endpointState(fx.server.url, bearer, endpoint.id)).state === 'PAUSED', 15_000, () => 'never paused');
      const paused = await endpointState(fx.server.url, bearer, endpoint.id);
      expect(paused.consecutiveFailures).toBeGreaterThanOrEqual(5);
      expect(paused.pausedUntil).not.toBeNull();
      expect(paused.lagSeconds).toBeGreaterThan(0);
      expect(await metric(metricsUrl(), `wallet_events_webhook_breaker_open{endpoint="${endpoint.id}"}`)).toBe(1);
      // A probe goes out after the cool-down and fails: paused again.
      await waitUntil(async () => (await metric(metricsUrl(), 'wallet_events_webhook_breaker_transitions_total{to="half_open"}')) > probesBefore, 15_000);
      await receiver.up();
      const expected = await expectedSequences(ops, owners);
      const total = eventCount(expected);
      await waitUntil(() => uniqueAccepted(receiver) >= total, 30_000, () => `${uniqueAccepted(receiver)} of ${total}`);
      expect(orderProblems(receiver.accepted, expected)).toEqual([]);
      // The state is recorded in the step's commit, just after the receiver answered.
      await waitUntil(async () => (await endpointState(fx.server.url, bearer, endpoint.id)).state === 'ACTIVE', 15_000);
      const resumed = await endpointState(fx.server.url, bearer, endpoint.id);
      expect(resumed).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0, pausedUntil: null, deadLetters: 0 });
      expect(await metric(metricsUrl(), 'wallet_events_webhook_breaker_transitions_total{to="closed"}')).toBeGreaterThan(0);
    });

    it('dead-letters what always fails and delivers it once the receiver is fixed and it is redelivered', async () => {
      const bearer = await tenantToken('broken', tenant());
      const receiver = await newReceiver();
      const { secret, endpoint } = await createEndpoint(fx.server.url, bearer, { url: receiver.url, types: ['WALLET_STATUS'] });
      receiver.secrets.push(secret);
      receiver.answer = () => 503;
      const ops = producer(fx.server.url, bearer);
      const owners = [ownerId('broken'), ownerId('broken')];
      for (const owner of owners) await ops.createWallet(owner);
      await waitUntil(async () => (await endpointState(fx.server.url, bearer, endpoint.id)).deadLetters === 2, 30_000, () => `${receiver.requests.length} requests`);
      const dead = await deliveries(fx.server.url, bearer, endpoint.id, 'DEAD');
      expect(dead).toHaveLength(2);
      expect(dead.every((d) => d.attempts === 9 && d.lastStatus === 503 && d.responseExcerpt === 'refused with 503')).toBe(true);
      expect(await metric(metricsUrl(), `wallet_events_webhook_dead_letters{endpoint="${endpoint.id}"}`)).toBe(2);
      receiver.answer = () => 200;
      // One by id, the rest of the queue at once.
      const one = await gqlData(fx.server.url, bearer, `mutation($id: ID!) { redeliverWebhook(id: $id) { status attempts } }`, { id: dead[0].id });
      expect(one.redeliverWebhook).toEqual({ status: 'RETRYING', attempts: 0 });
      const again = await gql(fx.server.url, bearer, `mutation($id: ID!) { redeliverWebhook(id: $id) { status } }`, { id: dead[0].id });
      expect(codes(again)).toEqual(['INVALID_TRANSITION']);
      const rest = await gqlData(fx.server.url, bearer, `mutation($id: ID!) { redeliverDeadWebhooks(endpointId: $id) }`, { id: endpoint.id });
      expect(rest.redeliverDeadWebhooks).toBe(1);
      await waitUntil(() => uniqueAccepted(receiver) === 2, 15_000);
      expect(receiver.accepted.map((r) => r.body.type)).toEqual(['WALLET_STATUS', 'WALLET_STATUS']);
      expect((await endpointState(fx.server.url, bearer, endpoint.id)).deadLetters).toBe(0);
    });

    it('signs with both secrets during a rotation’s overlap, then with the new one only', async () => {
      const bearer = await tenantToken('rotating', tenant());
      const receiver = await newReceiver();
      const { secret: oldSecret, endpoint } = await createEndpoint(fx.server.url, bearer, { url: receiver.url });
      const rotated = await gqlData(fx.server.url, bearer, `mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapSeconds: 2) { secret endpoint { previousSecretExpiresAt } } }`, { id: endpoint.id });
      const newSecret = rotated.rotateWebhookSecret.secret;
      expect(newSecret).not.toBe(oldSecret);
      expect(rotated.rotateWebhookSecret.endpoint.previousSecretExpiresAt).not.toBeNull();
      receiver.secrets.push(oldSecret, newSecret);
      const ops = producer(fx.server.url, bearer);
      // The worker takes the new secret at its next lease renewal: wait until it signs with it.
      await waitUntil(async () => {
        await ops.createWallet(ownerId('rot'));
        return receiver.accepted.some((r) => r.verifiedWith.length === 2);
      }, 15_000);
      const during = receiver.accepted.find((r) => r.verifiedWith.length === 2)!;
      expect(during.verifiedWith).toEqual([0, 1]);
      expect(during.signatures).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 2_100)); // the overlap given above
      const before = receiver.accepted.length;
      await ops.createWallet(ownerId('rot'));
      await waitUntil(() => receiver.accepted.length > before, 15_000);
      expect(receiver.accepted.at(-1)!.verifiedWith).toEqual([1]);
      expect(receiver.accepted.at(-1)!.signatures).toBe(1);
    });

    it('never sends an endpoint of one tenant an event of another', async () => {
      const [nameA, nameB] = [tenant(), tenant()];
      const [bearerA, bearerB] = [await tenantToken('a', nameA), await tenantToken('b', nameB)];
      const [receiverA, receiverB] = [await newReceiver(), await newReceiver()];
      receiverA.secrets.push((await createEndpoint(fx.server.url, bearerA, { url: receiverA.url })).secret);
      receiverB.secrets.push((await createEndpoint(fx.server.url, bearerB, { url: receiverB.url })).secret);
      const ownersA = await populate(producer(fx.server.url, bearerA), 3, 2, 'ta');
      const ownersB = await populate(producer(fx.server.url, bearerB), 3, 2, 'tb');
      await waitUntil(() => uniqueAccepted(receiverA) >= 15 && uniqueAccepted(receiverB) >= 15, 15_000);
      expect(new Set(receiverA.accepted.map((r) => r.body.ownerId))).toEqual(new Set(ownersA));
      expect(new Set(receiverB.accepted.map((r) => r.body.ownerId))).toEqual(new Set(ownersB));
      // Nor can it see or touch the other tenant's endpoint.
      const [theirs] = (await gqlData(fx.server.url, bearerB, `{ webhookEndpoints { id } }`)).webhookEndpoints;
      expect(codes(await gql(fx.server.url, bearerA, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: theirs.id }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(fx.server.url, bearerA, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: theirs.id }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(fx.server.url, bearerA, `{ webhookEndpoints(tenant: "${nameB}") { id } }`))).toEqual(['FORBIDDEN']);
    });

    it('refuses bad input with a clear code and changes nothing', async () => {
      const bearer = await tenantToken('careless', tenant());
      const create = (input: Record<string, unknown>) => gql(fx.server.url, bearer, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, { input });
      expect(codes(await create({ url: 'not a url' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await create({ url: 'ftp://127.0.0.1/x' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await create({ url: 'http://user:pass@127.0.0.1/x' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await create({ url: 'http://127.0.0.1/x', filter: { minAmount: '10', maxAmount: '1' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(fx.server.url, await tenantToken('x', 'other'), `{ webhookEndpoint(id: "nope") { id } }`))).toEqual(['NOT_FOUND']);
      const user = await gql(fx.server.url, await (await import('./support/tokens.ts')).token('someone'), `{ webhookEndpoints { id } }`);
      expect(codes(user)).toEqual(['FORBIDDEN']);
      expect((await gqlData(fx.server.url, bearer, `{ webhookEndpoints { id } }`)).webhookEndpoints).toEqual([]);
    });
  });
});
