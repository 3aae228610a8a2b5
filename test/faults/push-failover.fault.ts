/**
 * One pusher per device across instances: two server processes on PostgreSQL + Redis,
 * the one holding a device's lease killed with SIGKILL while notifications stream. The
 * other takes the device over and goes on from its stored position: every notification
 * is pushed, first arrivals in order; only what was in flight at the kill may come twice.
 */
import { randomUUID } from 'node:crypto';
import postgresJs from 'postgres';
import webPush from 'web-push';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend } from '../support/backends.ts';
import { gqlData, waitUntil } from '../support/clients.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { startWebPushService } from '../support/push-services.ts';
import { freePort, spawnServer, type ServerProcess } from '../support/server.ts';
import { tenantToken, token } from '../support/tokens.ts';

const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;

describe.skipIf(!postgres.available)(`push lease failover on ${label(postgres)}`, () => {
  it('moves a device to the surviving instance after kill -9 of its pusher, losing no notification', async () => {
    const backend = await prepareBackend(postgres);
    const vapid = webPush.generateVAPIDKeys();
    const env = {
      ...backend.env,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      PUSH_LEASE_TTL: '1500ms',
      HEAD_CHECK_INTERVAL: '100ms',
      WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
      LOG_LEVEL: 'warn',
    };
    const web = await startWebPushService();
    const sql = postgresJs(backend.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const instances: ServerProcess[] = [];
    try {
      for (let i = 0; i < 2; i++) instances.push(await spawnServer(env, await freePort()));
      const service = await tenantToken('pushfail', 'pushfail');
      const owner = ownerId('pushfail');
      const wallet = (await gqlData(instances[0]!.url, service, 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: owner })).createWallet;
      const user = await token(owner);
      await gqlData(instances[0]!.url, user, 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: TRANSACTION_ABOVE, threshold: "1" }) { id } }', { w: wallet.id });
      const sub = web.subscribe();
      const device = (await gqlData(instances[0]!.url, user, 'mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { id } }', { input: { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } } })).registerPushDevice;
      const holderPid = async () => {
        const [row] = await sql<{ lease_holder: string | null }[]>`select lease_holder from push_devices where id = ${device.id}`;
        return row?.lease_holder ? Number(row.lease_holder.split(':')[1]) : null;
      };
      await waitUntil(async () => (await holderPid()) !== null, 10_000);
      const pid = await holderPid();
      const holder = instances.find((instance) => instance.child.pid === pid)!;
      expect(holder).toBeDefined();
      const survivor = instances.find((instance) => instance !== holder)!;

      const post = (i: number) =>
        gqlData(survivor.url, service, 'mutation($input: PostTransactionInput!) { postTransaction(input: $input) { transaction { id } } }', {
          input: { walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: String(100 + i), status: 'SUCCESS', idempotencyKey: randomUUID() },
        });
      const mine = () => web.received.filter((push) => push.to === sub.id);
      for (let i = 0; i < 60; i++) {
        await post(i);
        if (i === 20) {
          await waitUntil(() => mine().length >= 10, 10_000);
          await holder.kill('SIGKILL');
        }
      }
      await waitUntil(async () => (await holderPid()) === survivor.child.pid, 15_000);
      const notifications = (await gqlData(survivor.url, user, 'query { notifications(first: 100) { edges { node { id } } } }')).notifications.edges.map((edge: any) => edge.node.id).reverse();
      expect(notifications).toHaveLength(60);
      const firstArrivals = () => [...new Set(mine().map((push) => push.payload.data.notificationId as string))];
      await waitUntil(() => firstArrivals().length >= 60, 30_000, () => `${firstArrivals().length} of 60`);
      expect(web.problems).toEqual([]);
      expect(firstArrivals()).toEqual(notifications);
      // Repeats are bounded by what the killed pusher had sent but not recorded.
      expect(mine().length - 60).toBeLessThanOrEqual(10);
    } finally {
      for (const instance of instances) await instance.kill('SIGKILL');
      await sql.end();
      await web.close();
      await backend.dispose();
    }
  }, 90_000);
});
