/**
 * Endpoints are shared out between the instances that deliver webhooks: each instance takes at most its fair share,
 * so two instances on PostgreSQL + Redis deliver two of four endpoints each, and every
 * endpoint still receives every event.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { gqlData, waitUntil } from './support/clients.ts';
import { instancePair } from './support/fixture.ts';
import { producer } from './support/ledger-ops.ts';
import { tenantToken } from './support/tokens.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';
import { createEndpoint, populate } from './support/webhooks.ts';

const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;
const ENV = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_LEASE_TTL: '900ms', HEAD_CHECK_INTERVAL: '200ms' };

describe.skipIf(!postgres.available)(`webhook endpoints shared between instances on ${label(postgres)}`, () => {
  const pair = instancePair(postgres, () => ENV);
  let receiver: Receiver;
  afterAll(async () => {
    await receiver?.close();
  });

  it('gives each of two instances two of four endpoints, and every endpoint gets every event', async () => {
    receiver = await startReceiver();
    const bearer = await tenantToken('shared', 'shared');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { secret, endpoint } = await createEndpoint(pair.a.url, bearer, { url: `${receiver.url}/${i}` });
      receiver.secrets.push(secret);
      ids.push(endpoint.id);
    }
    const holders = async () => {
      const { webhookEndpoints } = await gqlData(pair.a.url, bearer, `{ webhookEndpoints { id lease { holder expiresAt } } }`);
      return webhookEndpoints.map((endpoint: { lease: { holder: string } | null }) => endpoint.lease?.holder ?? null) as (string | null)[];
    };
    await waitUntil(async () => {
      const now = await holders();
      const counts = [...new Set(now)].map((holder) => now.filter((h) => h === holder).length);
      return !now.includes(null) && counts.length === 2 && counts.every((count) => count === 2);
    }, 20_000, () => 'the endpoints were not shared two and two');

    const owners = await populate(producer(pair.a.url, bearer), 3, 3, 'shared');
    const events = owners.length * (1 + 3 * 2);
    // Each event reaches every endpoint: once per endpoint secret.
    const deliveries = () => new Set(receiver.accepted.flatMap((r) => r.verifiedWith.map((index) => `${r.id}:${index}`))).size;
    await waitUntil(() => deliveries() >= events * 4, 20_000, () => `${deliveries()} of ${events * 4}`);
    expect(receiver.unverified).toBe(0);
    expect(new Set(await holders()).size).toBe(2);
  }, 60_000);
});
