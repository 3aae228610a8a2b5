/**
 * Fraud flags, alert rules and the notification centre, end to end on both backends: a
 * flag reaches every transport, the firehose and a webhook; each rule kind fires exactly
 * once per crossing under concurrent posters; two devices of one owner agree on the
 * unread count, and a device that was away resumes into the read changes it missed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, gqlData, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { readable } from './support/firehose-pages.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { tenantToken, token } from './support/tokens.ts';
import { createEndpoint } from './support/webhooks.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

const EVENT = `
  __typename eventId sequence cursor type walletId
  ... on TransactionEvent { transaction { id status } }
  ... on BalanceEvent { balance { available } }
  ... on WalletStatusEvent { change }
  ... on FraudEvent { flagId score reason flaggedBy transaction { id amount status } }
  ... on NotificationEvent { notificationChange unreadCount readIds readAt notification { id kind title body causeEventId ruleId transactionId readAt cause { eventId type } } }
`;

const FLAG = 'mutation($t: ID!, $s: Int!, $r: String!) { flagTransaction(transactionId: $t, score: $s, reason: $r) { id score reason flaggedBy replayed transaction { id } } }';
const CREATE_RULE = 'mutation($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { id kind threshold currency timeZone armed spentToday walletId ownerId } }';
const NOTIFICATIONS = 'query($first: Int, $after: String, $unread: Boolean) { notifications(first: $first, after: $after, unreadOnly: $unread) { edges { cursor node { id kind readAt } } pageInfo { hasNextPage endCursor } } unreadNotificationCount }';

describe.each(BACKENDS)('notifications on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const fx = serverOn(backend, { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', HEAD_CHECK_INTERVAL: '200ms', MAX_ALERT_RULES_PER_OWNER: '3' });
    const receivers: Receiver[] = [];
    afterAll(async () => {
      for (const receiver of receivers) await receiver.close().catch(() => {});
    });

    /** A tenant with a service token, an owner with a funded wallet, and the owner's own token. */
    async function world(balance = '10000') {
      const tenant = `t-${randomUUID().slice(0, 8)}`;
      const service = await tenantToken(`risk-${tenant}`, tenant);
      const ops = producer(fx.server.url, service);
      const owner = ownerId('n');
      const wallet = await ops.createWallet(owner);
      if (balance !== '0') await ops.post({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: balance, status: 'SUCCESS' });
      return { tenant, service, ops, owner, wallet, user: await token(owner) };
    }

    /** The cursor after the caller's newest event. */
    async function lastCursor(bearer: string): Promise<string> {
      return (await gqlData(fx.server.url, bearer, 'query { events(last: 1) { pageInfo { endCursor } } }')).events.pageInfo.endCursor;
    }

    it('a fraud flag reaches walletEvents(types: [FRAUD]) over graphql-ws and SSE, the four-way filter, the firehose and a webhook', async () => {
      const w = await world();
      const receiver = await startReceiver();
      receivers.push(receiver);
      const { secret } = await createEndpoint(fx.server.url, w.service, { url: receiver.url, types: ['FRAUD'] });
      receiver.secrets.push(secret);
      const ws = wsClient(fx.server.wsUrl, w.user);
      try {
        // Every stream starts after the owner's last event, so none can miss what follows.
        const after = await lastCursor(w.user);
        const fraudWs = subscribeWs(ws, `subscription($after: String) { walletEvents(types: [FRAUD], after: $after) { ${EVENT} } }`, { after });
        const fourWay = subscribeWs(ws, `subscription($after: String) { walletEvents(types: [TRANSACTION, BALANCE, WALLET_STATUS, FRAUD], after: $after) { ${EVENT} } }`, { after });
        const fraudSse = subscribeSse(fx.server.url, w.user, `subscription($after: String) { walletEvents(types: [FRAUD], after: $after) { ${EVENT} } }`, { after });
        const feedStart = (await gqlData(fx.server.url, w.service, 'query { feed(first: 1) { pageInfo { endCursor } } }')).feed.pageInfo.endCursor;
        const debit = await w.ops.post({ walletId: w.wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '2500', status: 'SUCCESS', counterparty: 'Shop' });
        await fourWay.waitFor(2);

        const flag = (await gqlData(fx.server.url, w.service, FLAG, { t: debit.id, s: 87, r: 'card used in two countries within an hour' })).flagTransaction;
        expect(flag).toMatchObject({ score: 87, flaggedBy: `risk-${w.tenant}`, replayed: false, transaction: { id: debit.id } });

        const [viaWs] = await fraudWs.waitFor(1);
        const [viaSse] = await fraudSse.waitFor(1);
        for (const event of [viaWs, viaSse]) {
          expect(event).toMatchObject({ __typename: 'FraudEvent', type: 'FRAUD', flagId: flag.id, score: 87, reason: 'card used in two countries within an hour', transaction: { id: debit.id, amount: '2500', status: 'SUCCESS' } });
        }
        await fourWay.waitFor(3);
        expect(fourWay.items.map((e) => e.type)).toEqual(['TRANSACTION', 'BALANCE', 'FRAUD']);

        // The feed reads only below the horizon (the oldest transaction still running on the
        // database, which another suite's server may hold open), so a poller polls again.
        const feedQuery = `query($after: String, $first: Int) { feed(after: $after, first: $first, types: [FRAUD, NOTIFICATION]) { edges { node { ${EVENT} } } pageInfo { hasNextPage endCursor } } }`;
        const feed = (await readable<any>(fx.server.url, w.service, feedStart, 2, {}, feedQuery)).events;
        expect(feed.map((e: any) => e.type)).toEqual(['FRAUD', 'NOTIFICATION']);
        expect(feed[1].notification).toMatchObject({ kind: 'FRAUD_FLAG', title: 'Possible fraud', causeEventId: viaWs.eventId, transactionId: debit.id });
        expect(feed[1].notification.cause).toMatchObject({ type: 'FRAUD' });
        expect(feed[1].notification.body).toContain('25.00 NGN');

        await waitUntil(() => receiver.accepted.length >= 1);
        expect(receiver.unverified).toBe(0);
        expect(receiver.accepted[0]!.body).toMatchObject({ type: 'FRAUD', flagId: flag.id, score: 87, transaction: { id: debit.id } });
        fraudSse.dispose();
      } finally {
        await ws.dispose();
      }
    });

    it('the same flag again appends nothing; another tenant cannot flag; bad scores are refused', async () => {
      const w = await world();
      const other = await world();
      const debit = await w.ops.post({ walletId: w.wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '100', status: 'SUCCESS' });
      const first = (await gqlData(fx.server.url, w.service, FLAG, { t: debit.id, s: 60, r: 'new device' })).flagTransaction;
      const again = (await gqlData(fx.server.url, w.service, FLAG, { t: debit.id, s: 60, r: 'new device' })).flagTransaction;
      expect(again).toMatchObject({ id: first.id, replayed: true });
      const before = (await w.ops.log(w.owner)).length;

      expect(codes(await gql(fx.server.url, other.service, FLAG, { t: debit.id, s: 99, r: 'cross-tenant' }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(fx.server.url, w.user, FLAG, { t: debit.id, s: 99, r: 'a user cannot flag' }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(fx.server.url, w.service, FLAG, { t: debit.id, s: 101, r: 'too high' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(fx.server.url, w.service, FLAG, { t: debit.id, s: -1, r: 'negative' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(fx.server.url, w.service, FLAG, { t: debit.id, s: 50, r: '   ' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(fx.server.url, w.service, FLAG, { t: randomUUID(), s: 50, r: 'nothing there' }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(fx.server.url, w.service, FLAG, { t: 'not-an-id', s: 50, r: 'nothing there' }))).toEqual(['NOT_FOUND']);
      expect((await w.ops.log(w.owner)).length).toBe(before);
      expect((await gqlData(fx.server.url, w.user, 'query { unreadNotificationCount }')).unreadNotificationCount).toBe(1);
    });

    it('each rule kind fires exactly once per crossing under 20 concurrent posters', async () => {
      const w = await world('100000');
      const rule = async (input: Record<string, unknown>) => (await gqlData(fx.server.url, w.user, CREATE_RULE, { input: { walletId: w.wallet.id, ...input } })).createAlertRule;
      const below = await rule({ kind: 'BALANCE_BELOW', threshold: '50000' });
      const above = await rule({ kind: 'TRANSACTION_ABOVE', threshold: '999' });
      const daily = await rule({ kind: 'DAILY_SPEND_ABOVE', threshold: '30000', timeZone: 'Africa/Lagos' });
      expect(below).toMatchObject({ armed: true, currency: 'NGN', timeZone: null, spentToday: null });
      expect(daily).toMatchObject({ timeZone: 'Africa/Lagos', spentToday: '0' });

      // 20 posters at once: 40 settled debits of 1,000 (each above 999) take the balance
      // from 100,000 to 60,000 (30,000 spent is passed once), then 20 more to 40,000
      // (below 50,000 once); a credit back to 100,000 re-arms BALANCE_BELOW, and 20 more
      // debits cross it a second time.
      const debit = () => w.ops.post({ walletId: w.wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '1000', status: 'SUCCESS' });
      const wave = async (count: number) => {
        for (let done = 0; done < count; done += 20) await Promise.all(Array.from({ length: Math.min(20, count - done) }, debit));
      };
      await wave(60);
      await w.ops.post({ walletId: w.wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: '60000', status: 'SUCCESS' });
      await wave(60);

      const log = await w.ops.log(w.owner);
      const notifications = (await gqlData(fx.server.url, w.user, 'query { notifications(first: 500) { edges { node { kind ruleId cause { type sequence } } } } }')).notifications.edges.map((e: any) => e.node);
      const byKind = (kind: string) => notifications.filter((n: any) => n.kind === kind);
      // 120 debits and the credit back, each above 999.
      expect(byKind('TRANSACTION_ABOVE')).toHaveLength(121);
      expect(byKind('TRANSACTION_ABOVE').every((n: any) => n.ruleId === above.id && n.cause.type === 'TRANSACTION')).toBe(true);
      expect(byKind('DAILY_SPEND_ABOVE')).toHaveLength(1);
      expect(byKind('BALANCE_BELOW')).toHaveLength(2);
      expect(byKind('BALANCE_BELOW').every((n: any) => n.ruleId === below.id && n.cause.type === 'BALANCE')).toBe(true);
      expect(log.filter((e: any) => e.type === 'NOTIFICATION')).toHaveLength(124);
      // Each crossing is where the balance went below the line: the balance event just before its notification event.
      const crossings = log.flatMap((e: any, i: number) => (e.type === 'NOTIFICATION' && log[i - 1].type === 'BALANCE' && byKind('BALANCE_BELOW').some((n: any) => n.cause.sequence === log[i - 1].sequence) ? [BigInt(log[i - 1].balance.available)] : []));
      expect(crossings).toEqual([49000n, 49000n]);
      const rules = (await gqlData(fx.server.url, w.user, 'query { alertRules { id kind armed spentToday } }')).alertRules;
      expect(rules.find((r: any) => r.id === daily.id).spentToday).toBe('120000');
      expect(rules.find((r: any) => r.id === below.id).armed).toBe(false);
      const metrics = await (await fetch(fx.server.url.replace('/graphql', '/metrics'))).text();
      const made = (kind: string) => Number(/\S+ (\d+)$/.exec(metrics.split('\n').find((line) => line.startsWith(`wallet_events_notifications_total{kind="${kind}"}`)) ?? '')?.[1] ?? 0);
      expect(made('TRANSACTION_ABOVE')).toBeGreaterThanOrEqual(121);
      expect(made('BALANCE_BELOW')).toBeGreaterThanOrEqual(2);
    });

    it("rules are their owner's: another owner sees none and cannot delete them; bad input is refused and changes nothing", async () => {
      const w = await world();
      const stranger = await world();
      const input = { walletId: w.wallet.id, kind: 'BALANCE_BELOW', threshold: '100' };
      const rule = (await gqlData(fx.server.url, w.user, CREATE_RULE, { input })).createAlertRule;
      expect(codes(await gql(fx.server.url, stranger.user, CREATE_RULE, { input }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(fx.server.url, stranger.service, CREATE_RULE, { input }))).toEqual(['FORBIDDEN']);
      expect((await gqlData(fx.server.url, stranger.user, 'query { alertRules { id } }')).alertRules).toEqual([]);
      expect(codes(await gql(fx.server.url, stranger.user, 'mutation($id: ID!) { deleteAlertRule(id: $id) { id } }', { id: rule.id }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(fx.server.url, stranger.user, `query($o: ID) { alertRules(ownerId: $o) { id } }`, { o: w.owner }))).toEqual(['FORBIDDEN']);

      const refused = async (bad: Record<string, unknown>, field: string) => {
        const res = await gql(fx.server.url, w.user, CREATE_RULE, { input: { ...input, ...bad } });
        expect(codes(res), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors![0]!.extensions!.field).toBe(field);
      };
      await refused({ threshold: '-5' }, 'threshold');
      await refused({ kind: 'TRANSACTION_ABOVE', threshold: '0' }, 'threshold');
      await refused({ kind: 'DAILY_SPEND_ABOVE', threshold: '10', timeZone: 'Mars/Olympus' }, 'timeZone');
      await refused({ timeZone: 'UTC' }, 'timeZone');
      expect(codes(await gql(fx.server.url, w.user, CREATE_RULE, { input: { ...input, walletId: randomUUID() } }))).toEqual(['NOT_FOUND']);
      await gqlData(fx.server.url, w.user, CREATE_RULE, { input: { ...input, threshold: '200' } });
      await gqlData(fx.server.url, w.user, CREATE_RULE, { input: { ...input, threshold: '300' } });
      const over = await gql(fx.server.url, w.user, CREATE_RULE, { input: { ...input, threshold: '400' } });
      expect(codes(over)).toEqual(['LIMIT_EXCEEDED']);
      expect(over.errors![0]!.extensions!.limit).toBe(3);
      expect((await gqlData(fx.server.url, w.user, 'query { alertRules { threshold } }')).alertRules.map((r: any) => r.threshold)).toEqual(['100', '200', '300']);

      expect((await gqlData(fx.server.url, w.user, 'mutation($id: ID!) { deleteAlertRule(id: $id) { id } }', { id: rule.id })).deleteAlertRule.id).toBe(rule.id);
      expect(codes(await gql(fx.server.url, w.user, 'mutation($id: ID!) { deleteAlertRule(id: $id) { id } }', { id: rule.id }))).toEqual(['NOT_FOUND']);
    });

    it('two live devices agree on the unread count; a device that was away resumes into the read changes', async () => {
      const w = await world();
      const rule = { walletId: w.wallet.id, kind: 'TRANSACTION_ABOVE', threshold: '10' };
      await gqlData(fx.server.url, w.user, CREATE_RULE, { input: rule });
      const phone = wsClient(fx.server.wsUrl, w.user);
      const query = `subscription($after: String) { walletEvents(types: [NOTIFICATION], after: $after) { ${EVENT} } }`;
      try {
        const start = await lastCursor(w.user);
        const onPhone = subscribeWs(phone, query, { after: start });
        const onLaptop = subscribeSse(fx.server.url, w.user, query, { after: start });
        await w.ops.post({ walletId: w.wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '11', status: 'SUCCESS' });
        await onPhone.waitFor(1);
        await onLaptop.waitFor(1);
        const laptopCursor = onLaptop.items[0].cursor;
        onLaptop.dispose();

        for (let i = 0; i < 4; i++) await w.ops.post({ walletId: w.wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '20', status: 'SUCCESS' });
        await onPhone.waitFor(5);
        expect(onPhone.items.map((e) => e.unreadCount)).toEqual([1, 2, 3, 4, 5]);

        const listed = (await gqlData(fx.server.url, w.user, NOTIFICATIONS, { first: 2 })).notifications;
        expect(listed.edges).toHaveLength(2);
        expect(listed.pageInfo.hasNextPage).toBe(true);
        const rest = (await gqlData(fx.server.url, w.user, NOTIFICATIONS, { first: 10, after: listed.pageInfo.endCursor })).notifications;
        expect(rest.edges).toHaveLength(3);
        const [newest, second] = listed.edges.map((e: any) => e.node.id);

        const read = (await gqlData(fx.server.url, w.user, 'mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { readIds unreadCount } }', { ids: [newest, second, randomUUID()] })).markNotificationsRead;
        expect(new Set(read.readIds)).toEqual(new Set([newest, second]));
        expect(read.unreadCount).toBe(3);
        // Marking them again changes nothing and makes no event.
        const again = (await gqlData(fx.server.url, w.user, 'mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { readIds unreadCount } }', { ids: [newest] })).markNotificationsRead;
        expect(again).toEqual({ readIds: [], unreadCount: 3 });
        const all = (await gqlData(fx.server.url, w.user, 'mutation { markAllNotificationsRead { readIds unreadCount } }')).markAllNotificationsRead;
        expect(all.readIds).toHaveLength(3);
        expect(all.unreadCount).toBe(0);

        await onPhone.waitFor(7);
        expect(onPhone.items.slice(5).map((e) => [e.notificationChange, e.readIds.length, e.unreadCount])).toEqual([
          ['READ', 2, 3],
          ['READ', 3, 0],
        ]);
        // The laptop comes back from its cursor and gets what it missed, in order, once.
        const resumed = subscribeSse(fx.server.url, w.user, query, { after: laptopCursor });
        await resumed.waitFor(6);
        expect(resumed.items.map((e) => e.sequence)).toEqual(onPhone.items.slice(1).map((e) => e.sequence));
        expect(resumed.items.at(-1)).toMatchObject({ notificationChange: 'READ', unreadCount: 0 });
        resumed.dispose();

        const after = await gqlData(fx.server.url, w.user, NOTIFICATIONS, { first: 10, unread: true });
        expect(after.notifications.edges).toEqual([]);
        expect(after.unreadNotificationCount).toBe(0);
        expect(codes(await gql(fx.server.url, w.user, 'mutation { markNotificationsRead(ids: ["nope"]) { unreadCount } }'))).toEqual(['BAD_USER_INPUT']);
        expect(codes(await gql(fx.server.url, w.user, 'query { notifications(after: "bad") { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
      } finally {
        await phone.dispose();
      }
    });
  });
});
