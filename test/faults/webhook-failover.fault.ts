/**
 * One worker per endpoint across instances: two server processes on
 * PostgreSQL + Redis, the one holding the endpoint's lease killed with SIGKILL while events
 * stream. The other takes the lease over within seconds and goes on from the stored
 * position: every event arrives, each owner's in order; only what was in flight at the
 * kill may arrive twice.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend } from '../support/backends.ts';
import { gqlData, waitUntil } from '../support/clients.ts';
import { ownerId, producer } from '../support/ledger-ops.ts';
import { freePort, spawnServer, type ServerProcess } from '../support/server.ts';
import { tenantToken } from '../support/tokens.ts';
import { orderProblems, startReceiver } from '../support/webhook-receiver.ts';
import { eventCount, expectedSequences } from '../support/webhooks.ts';

const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;
const BATCH = 100;

describe.skipIf(!postgres.available)(`webhook lease failover on ${label(postgres)}`, () => {
  it('moves an endpoint to the surviving instance after kill -9 of its holder, losing nothing', async () => {
    const backend = await prepareBackend(postgres);
    const env = { ...backend.env, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_LEASE_TTL: '2s', WEBHOOK_BATCH_SIZE: String(BATCH), HEAD_CHECK_INTERVAL: '200ms', LOG_LEVEL: 'warn' };
    const instances: ServerProcess[] = [];
    const receiver = await startReceiver();
    try {
      for (let i = 0; i < 2; i++) instances.push(await spawnServer(env, await freePort()));
      const bearer = await tenantToken('failover', 'failover');
      const created = await gqlData(instances[0]!.url, bearer, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`, { input: { url: receiver.url } });
      receiver.secrets.push(created.createWebhookEndpoint.secret);
      const endpointId = created.createWebhookEndpoint.endpoint.id;
      const holderPid = async (via: ServerProcess) => {
        const { webhookEndpoint } = await gqlData(via.url, bearer, `query($id: ID!) { webhookEndpoint(id: $id) { lease { holder } } }`, { id: endpointId });
        return webhookEndpoint.lease ? Number(webhookEndpoint.lease.holder.split(':')[1]) : null;
      };
      await waitUntil(async () => (await holderPid(instances[0]!)) !== null, 10_000);
      const pid = await holderPid(instances[0]!);
      const holder = instances.find((instance) => instance.child.pid === pid)!;
      const survivor = instances.find((instance) => instance !== holder)!;
      expect(holder).toBeDefined();

      const ops = producer(survivor.url, bearer);
      const owners = Array.from({ length: 20 }, () => ownerId('failover'));
      const wallets = await Promise.all(owners.map((owner) => ops.createWallet(owner)));
      let killedAt = 0;
      for (let round = 0; round < 16; round++) {
        await ops.postBatchRaw(wallets.map((wallet) => ({ walletId: wallet.id, direction: 'CREDIT', amount: 10 + round, status: 'SUCCESS' })));
        if (round === 5) {
          await waitUntil(() => receiver.accepted.length > 100, 10_000);
          await holder.kill('SIGKILL');
          killedAt = Date.now();
        }
      }
      await waitUntil(async () => (await holderPid(survivor)) === survivor.child.pid, 15_000);
      const takeoverMs = Date.now() - killedAt;
      expect(takeoverMs).toBeLessThan(15_000);

      const expected = await expectedSequences(ops, owners);
      const total = eventCount(expected);
      await waitUntil(() => new Set(receiver.accepted.map((r) => r.id)).size >= total, 30_000, () => `${new Set(receiver.accepted.map((r) => r.id)).size} of ${total}`);
      expect(receiver.unverified).toBe(0);
      expect(orderProblems(receiver.accepted, expected)).toEqual([]);
      // Repeats are bounded by what one step had in flight when the holder died.
      const repeats = receiver.accepted.length - new Set(receiver.accepted.map((r) => r.id)).size;
      expect(repeats).toBeLessThanOrEqual(BATCH);
    } finally {
      for (const instance of instances) await instance.kill('SIGKILL');
      await receiver.close();
      await backend.dispose();
    }
  }, 90_000);
});
