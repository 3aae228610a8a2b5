/**
 * Push to devices, end to end on both backends, against local stand-ins for the push
 * services: Web Push (the VAPID token checked, every payload decrypted with the
 * subscription's key), FCM HTTP v1 with its OAuth2 token endpoint, and APNs over HTTP/2
 * with an ES256 provider token. Every notification arrives once per device, in order;
 * failures are retried; a device the service says is gone is removed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, gqlData, waitUntil } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { tenantToken, token } from './support/tokens.ts';
import { startApnsService, startFcmService, startWebPushService, type ApnsService, type FcmService, type WebPushService } from './support/push-services.ts';

const REGISTER = 'mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { id platform label types lastPushedAt lastError deadLetters } }';
const DEVICES = 'query { pushDevices { id platform lastPushedAt lastError deadLetters } }';

describe.each(BACKENDS)('push on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const vapid = webPush.generateVAPIDKeys();
    const env: Record<string, string> = {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      HEAD_CHECK_INTERVAL: '100ms',
      PUSH_RETRY_SCHEDULE: '50ms,50ms,50ms',
      WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
      WEB_PUSH_SUBJECT: 'mailto:ops@wallet.example',
    };
    let web: WebPushService;
    let fcm: FcmService;
    let apns: ApnsService;
    beforeAll(async () => {
      [web, fcm, apns] = await Promise.all([startWebPushService(), startFcmService(), startApnsService()]);
      Object.assign(env, fcm.env, apns.env);
    });
    const fx = serverOn(backend, env);
    afterAll(async () => {
      await Promise.all([web?.close(), fcm?.close(), apns?.close()]);
    });

    /** An owner with a funded wallet, a rule that fires on every posting above 10, and the owner's token. */
    async function person() {
      const tenant = `t-${randomUUID().slice(0, 8)}`;
      const service = await tenantToken(`ops-${tenant}`, tenant);
      const owner = ownerId('push');
      const wallet = (await gqlData(fx.server.url, service, 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: owner })).createWallet;
      const user = await token(owner);
      await gqlData(fx.server.url, user, 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: TRANSACTION_ABOVE, threshold: "10" }) { id } }', { w: wallet.id });
      const credit = async (amount = 100) =>
        (await gqlData(fx.server.url, service, 'mutation($input: PostTransactionInput!) { postTransaction(input: $input) { transaction { id } } }', {
          input: { walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: String(amount), status: 'SUCCESS', idempotencyKey: randomUUID() },
        })).postTransaction.transaction.id as string;
      return { owner, wallet, user, service, credit };
    }

    it('Web Push: every notification arrives once, decrypted, in order, VAPID-signed; fraud is urgent; a 410 removes the device', async () => {
      const p = await person();
      expect((await gqlData(fx.server.url, p.user, 'query { webPushPublicKey }')).webPushPublicKey).toBe(vapid.publicKey);
      const sub = web.subscribe();
      const device = (await gqlData(fx.server.url, p.user, REGISTER, { input: { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth }, label: 'Firefox on a laptop' } })).registerPushDevice;
      expect(device).toMatchObject({ platform: 'WEB_PUSH', label: 'Firefox on a laptop', types: [], deadLetters: 0 });
      // Registering the same subscription again (as a page does on every load) keeps one device.
      const again = (await gqlData(fx.server.url, p.user, REGISTER, { input: { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } } })).registerPushDevice;
      expect(again.id).toBe(device.id);

      for (let i = 0; i < 20; i++) await p.credit(100 + i);
      const debit = await p.credit(5); // below the rule's line: no notification, no push
      await gqlData(fx.server.url, p.service, 'mutation($t: ID!) { flagTransaction(transactionId: $t, score: 95, reason: "mule account") { id } }', { t: debit });

      const mine = () => web.received.filter((push) => push.to === sub.id);
      await waitUntil(() => mine().length >= 21, 15_000, () => `${mine().length} pushes, problems ${JSON.stringify(web.problems)}`);
      expect(web.problems).toEqual([]);
      const pushes = mine();
      expect(pushes).toHaveLength(21);
      const naira = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')} NGN`;
      expect(pushes.slice(0, 20).map((push) => push.payload.body)).toEqual(Array.from({ length: 20 }, (_, i) => `A credit of ${naira(100 + i)} is above 0.10 NGN.`));
      const notifications = (await gqlData(fx.server.url, p.user, 'query { notifications(first: 50) { edges { node { id kind } } } }')).notifications.edges.map((e: any) => e.node);
      expect(pushes.map((push) => push.payload.data.notificationId)).toEqual(notifications.map((n: any) => n.id).reverse());
      expect(pushes.map((push) => push.payload.badge)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
      expect(pushes.at(-1)!.payload).toMatchObject({ title: 'Possible fraud', urgent: true, data: { kind: 'FRAUD_FLAG', type: 'NOTIFICATION' } });
      expect(pushes.at(-1)!.headers.urgency).toBe('high');
      expect(pushes[0]!.headers.urgency).toBe('normal');

      web.answer = (id) => (id === sub.id ? 410 : 201);
      await p.credit(50);
      await waitUntil(async () => (await gqlData(fx.server.url, p.user, DEVICES)).pushDevices.length === 0, 10_000);
      const metrics = await (await fetch(fx.server.url.replace('/graphql', '/metrics'))).text();
      expect(metrics).toMatch(/wallet_events_pushes_total\{platform="WEB_PUSH",outcome="gone"\} [1-9]/);
      expect(metrics).toMatch(/wallet_events_push_lag_seconds_count\{platform="WEB_PUSH"\} [1-9]/);
      web.answer = () => 201;
    });

    it('FCM: OAuth2 token from the service account key, delivery, retry on 5xx, removal on UNREGISTERED', async () => {
      const p = await person();
      const fcmToken = `fcm-${randomBytes(12).toString('hex')}`;
      await gqlData(fx.server.url, p.user, REGISTER, { input: { platform: 'FCM', token: fcmToken, types: ['FRAUD'] } });
      let failures = 2;
      fcm.answer = (t) => (t === fcmToken && failures-- > 0 ? { status: 503, body: { error: { status: 'UNAVAILABLE' } } } : { status: 200 });
      await p.credit(500);
      const mine = () => fcm.received.filter((push) => push.to === fcmToken);
      await waitUntil(() => mine().length >= 1, 10_000, () => JSON.stringify(fcm.problems));
      expect(failures).toBeLessThan(0);
      expect(fcm.problems).toEqual([]);
      expect(mine()[0]!.payload).toMatchObject({ notification: { title: 'Large transaction', body: 'A credit of 5.00 NGN is above 0.10 NGN.' }, android: { priority: 'NORMAL' }, data: { kind: 'TRANSACTION_ABOVE', type: 'NOTIFICATION' } });
      expect(Object.values(mine()[0]!.payload.data).every((value) => typeof value === 'string')).toBe(true);

      fcm.answer = (t) => (t === fcmToken ? { status: 404, body: { error: { status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } } } : { status: 200 });
      await p.credit(600);
      await waitUntil(async () => (await gqlData(fx.server.url, p.user, DEVICES)).pushDevices.length === 0, 10_000);
      expect(mine()).toHaveLength(1);
      fcm.answer = () => ({ status: 200 });
    });

    it('APNs: HTTP/2 with an ES256 provider token, badge and priority, retry on 5xx, removal on Unregistered', async () => {
      const p = await person();
      const deviceToken = randomBytes(32).toString('hex');
      await gqlData(fx.server.url, p.user, REGISTER, { input: { platform: 'APNS', token: deviceToken } });
      let failures = 1;
      apns.answer = (t) => (t === deviceToken && failures-- > 0 ? { status: 503, reason: 'ServiceUnavailable' } : { status: 200 });
      const txn = await p.credit(700);
      await gqlData(fx.server.url, p.service, 'mutation($t: ID!) { flagTransaction(transactionId: $t, score: 80, reason: "new device") { id } }', { t: txn });
      const mine = () => apns.received.filter((push) => push.to === deviceToken);
      await waitUntil(() => mine().length >= 2, 10_000, () => JSON.stringify(apns.problems));
      expect(apns.problems).toEqual([]);
      expect(mine().map((push) => [push.payload.aps.alert.title, push.payload.aps.badge, push.headers['apns-priority'], push.headers['apns-push-type']])).toEqual([
        ['Large transaction', 1, '5', 'alert'],
        ['Possible fraud', 2, '10', 'alert'],
      ]);

      apns.answer = (t) => (t === deviceToken ? { status: 410, reason: 'Unregistered' } : { status: 200 });
      await p.credit(800);
      await waitUntil(async () => (await gqlData(fx.server.url, p.user, DEVICES)).pushDevices.length === 0, 10_000);
      apns.answer = () => ({ status: 200 });
    });

    it('gives up after the retry schedule: a dead letter, and the device goes on with the next push', async () => {
      const p = await person();
      const sub = web.subscribe();
      await gqlData(fx.server.url, p.user, REGISTER, { input: { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } } });
      web.answer = (id) => (id === sub.id ? 500 : 201);
      await p.credit(111);
      await waitUntil(async () => (await gqlData(fx.server.url, p.user, DEVICES)).pushDevices[0].deadLetters === 1, 10_000);
      web.answer = () => 201;
      await p.credit(222);
      await waitUntil(() => web.received.some((push) => push.to === sub.id), 10_000);
      expect(web.received.filter((push) => push.to === sub.id).map((push) => push.payload.body)).toEqual(['A credit of 2.22 NGN is above 0.10 NGN.']);
    });

    it('devices are a person’s: user tokens only, bounded, bad input refused with a code and nothing stored', async () => {
      const p = await person();
      const sub = web.subscribe();
      const input = { platform: 'WEB_PUSH', webPush: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } };
      expect(codes(await gql(fx.server.url, p.service, REGISTER, { input }))).toEqual(['FORBIDDEN']);
      const refused = async (bad: Record<string, unknown>, field: string) => {
        const res = await gql(fx.server.url, p.user, REGISTER, { input: bad });
        expect(codes(res), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors![0]!.extensions!.field).toBe(field);
      };
      await refused({ platform: 'WEB_PUSH', webPush: { ...input.webPush, p256dh: 'AAAA' } }, 'webPush.p256dh');
      await refused({ platform: 'WEB_PUSH', webPush: { ...input.webPush, auth: 'short' } }, 'webPush.auth');
      await refused({ platform: 'WEB_PUSH', webPush: { ...input.webPush, endpoint: 'not a url' } }, 'webPush.endpoint');
      await refused({ platform: 'WEB_PUSH' }, 'webPush');
      await refused({ platform: 'FCM' }, 'token');
      await refused({ platform: 'APNS', token: 'not-hex!' }, 'token');
      await refused({ platform: 'FCM', token: 'a-token-long-enough', types: ['NOTIFICATION'] }, 'types');
      expect((await gqlData(fx.server.url, p.user, DEVICES)).pushDevices).toEqual([]);
      const other = await person();
      const mine = (await gqlData(fx.server.url, p.user, REGISTER, { input })).registerPushDevice;
      expect(codes(await gql(fx.server.url, other.user, 'mutation($id: ID!) { unregisterPushDevice(id: $id) { id } }', { id: mine.id }))).toEqual(['NOT_FOUND']);
      expect((await gqlData(fx.server.url, p.user, 'mutation($id: ID!) { unregisterPushDevice(id: $id) { id } }', { id: mine.id })).unregisterPushDevice.id).toBe(mine.id);
    });
  });
});

describe('push on the embedded defaults', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: 'memory://' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('generates VAPID keys, refuses push endpoints on private addresses, and platforms that are not configured', async () => {
    const key = (await gqlData(server.url, null, 'query { webPushPublicKey }')).webPushPublicKey;
    expect(Buffer.from(key, 'base64url')).toHaveLength(65);
    const service = await tenantToken('ops', 'acme');
    const owner = ownerId('pushdefault');
    await gqlData(server.url, service, 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: owner });
    const user = await token(owner);
    const keys = { p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString('base64url'), auth: randomBytes(16).toString('base64url') };
    for (const endpoint of ['https://127.0.0.1:9/push/x', 'https://[::1]:9/push/x', 'https://10.0.0.1/push/x', 'http://127.0.0.1:9/push/x']) {
      const res = await gql(server.url, user, REGISTER, { input: { platform: 'WEB_PUSH', webPush: { endpoint, ...keys } } });
      expect(codes(res), endpoint).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'webPush.endpoint', reason: 'outbound-refused' });
    }
    const fcm = await gql(server.url, user, REGISTER, { input: { platform: 'FCM', token: 'a-token-long-enough' } });
    expect(fcm.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'platform', reason: 'not-configured' });
  });
});
