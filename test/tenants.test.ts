/**
 * Tenants: a service token reaches only its tenant's owners.
 * Every query, mutation, subscription, ack and preference call across the line is refused
 * with FORBIDDEN and changes nothing; a seeded fuzz of 1,000 random cross-tenant calls lets
 * nothing through; admins are platform-wide; a new owner's tenant is fixed by its first
 * wallet, and two tenants racing for one owner id end with exactly one of them.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeWs, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId, producer, type Producer } from './support/ledger-ops.ts';
import { seededRandom } from './support/random.ts';
import { tenantToken, token } from './support/tokens.ts';

/** One tenant's world: a service token, an owner with a wallet, a transaction, an event. */
interface World {
  tenant: string;
  serviceToken: string;
  ops: Producer;
  owner: string;
  walletId: string;
  transactionId: string;
  eventId: string;
}

/** A call that names the other tenant's things; `kind` says how it is sent. */
interface Call {
  name: string;
  kind: 'http' | 'ws';
  query: string;
  variables: Record<string, unknown>;
}

/** Every operation that names an owner, a wallet, a transaction or an event, aimed at `target`. */
function crossingCalls(target: World): Call[] {
  const { owner, walletId, transactionId, eventId } = target;
  const http = (name: string, query: string, variables: Record<string, unknown> = {}): Call => ({ name, kind: 'http', query, variables });
  const ws = (name: string, query: string, variables: Record<string, unknown> = {}): Call => ({ name, kind: 'ws', query, variables });
  return [
    http('wallet', 'query($id: ID!) { wallet(id: $id) { id } }', { id: walletId }),
    http('wallets', 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: owner }),
    http('transaction', 'query($id: ID!) { transaction(id: $id) { id } }', { id: transactionId }),
    http('transactions', 'query($w: ID!) { transactions(walletId: $w) { edges { cursor } } }', { w: walletId }),
    http('events by owner', 'query($o: ID) { events(ownerId: $o) { edges { cursor } } }', { o: owner }),
    http('events by wallet', 'query($w: ID) { events(walletId: $w) { edges { cursor } } }', { w: walletId }),
    http('subscriptionPreferences', 'query($o: ID) { subscriptionPreferences(consumer: "c", ownerId: $o) { consumer } }', { o: owner }),
    http('createWallet', 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: owner }),
    http('postTransaction', 'mutation($w: ID!) { postTransaction(input: { walletId: $w, direction: CREDIT, type: DEPOSIT, amount: "5", status: SUCCESS, idempotencyKey: "x" }) { replayed } }', { w: walletId }),
    http('postTransactions', 'mutation($w: ID!) { postTransactions(inputs: [{ walletId: $w, direction: CREDIT, type: DEPOSIT, amount: "5", idempotencyKey: "y" }]) { replayed } }', { w: walletId }),
    http('settleTransaction', 'mutation($id: ID!) { settleTransaction(id: $id, status: FAILED) { id } }', { id: transactionId }),
    http('reverseTransaction', 'mutation($id: ID!) { reverseTransaction(id: $id, reason: "r") { id } }', { id: transactionId }),
    http('freezeWallet', 'mutation($id: ID!) { freezeWallet(id: $id, reason: "r") { id } }', { id: walletId }),
    http('unfreezeWallet', 'mutation($id: ID!) { unfreezeWallet(id: $id) { id } }', { id: walletId }),
    http('closeWallet', 'mutation($id: ID!) { closeWallet(id: $id, reason: "r") { id } }', { id: walletId }),
    http('ackEvent', 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "c") { sequence } }', { e: eventId }),
    http('updateSubscriptionPreferences', 'mutation($o: ID) { updateSubscriptionPreferences(consumer: "c", ownerId: $o, input: { types: [BALANCE] }) { consumer } }', { o: owner }),
    http('flagTransaction', 'mutation($id: ID!) { flagTransaction(transactionId: $id, score: 90, reason: "r") { id } }', { id: transactionId }),
    http('createAlertRule', 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: BALANCE_BELOW, threshold: "10" }) { id } }', { w: walletId }),
    http('alertRules', 'query($o: ID) { alertRules(ownerId: $o) { id } }', { o: owner }),
    http('notifications', 'query($o: ID) { notifications(ownerId: $o) { edges { cursor } } }', { o: owner }),
    http('unreadNotificationCount', 'query($o: ID) { unreadNotificationCount(ownerId: $o) }', { o: owner }),
    http('markNotificationsRead', 'mutation($o: ID) { markNotificationsRead(ids: [], ownerId: $o) { unreadCount } }', { o: owner }),
    http('markAllNotificationsRead', 'mutation($o: ID) { markAllNotificationsRead(ownerId: $o) { unreadCount } }', { o: owner }),
    http('revokeAccess', 'mutation($o: ID!) { revokeAccess(ownerId: $o) { revoked } }', { o: owner }),
    ws('walletEvents by owner', 'subscription($o: ID) { walletEvents(ownerId: $o) { sequence } }', { o: owner }),
    ws('walletEvents by wallet', 'subscription($w: ID) { walletEvents(walletId: $w) { sequence } }', { w: walletId }),
    ws('transactionUpdated', 'subscription($w: ID) { transactionUpdated(walletId: $w) { sequence } }', { w: walletId }),
    ws('balanceChanged', 'subscription($o: ID) { balanceChanged(ownerId: $o) { sequence } }', { o: owner }),
    ws('walletStatus', 'subscription($o: ID) { walletStatus(ownerId: $o, consumer: "c") { sequence } }', { o: owner }),
    http('feed of another tenant', 'query($t: String) { feed(tenant: $t) { edges { cursor } } }', { t: target.tenant }),
    ws('feed subscription of another tenant', 'subscription($t: String) { feed(tenant: $t) { sequence } }', { t: target.tenant }),
  ];
}

describe.each(BACKENDS)('tenants on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    async function world(tenant: string): Promise<World> {
      const serviceToken = await tenantToken(`${tenant}-ops`, tenant);
      const ops = producer(t.server.url, serviceToken);
      const owner = ownerId(tenant);
      const wallet = await ops.createWallet(owner);
      const txn = await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '100', status: 'PENDING' });
      const eventId = (await ops.log(owner)).at(-1).eventId as string;
      return { tenant, serviceToken, ops, owner, walletId: wallet.id, transactionId: txn.id, eventId };
    }

    /** The refusal codes of `call` made with `bearer` (an HTTP request, or a graphql-ws subscription). */
    async function attempt(call: Call, bearer: string): Promise<(string | undefined)[]> {
      if (call.kind === 'http') return codes(await gql(t.server.url, bearer, call.query, call.variables));
      const client = wsClient(t.server.wsUrl, bearer);
      try {
        const sub = subscribeWs(client, call.query, call.variables);
        // A refusal ends the stream as soon as the server has checked the call, so a refused
        // call costs only that wait; a stream still open after ten seconds was let through.
        // (One second was too short: twenty calls at once on a busy 2-core machine took longer.)
        const ended = await Promise.race([sub.ended.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 10_000, false))]);
        if (!ended) return ['ACCEPTED'];
        return (sub.errors.flat() as { extensions?: { code?: string } }[]).map((error) => error.extensions?.code);
      } finally {
        await client.dispose();
      }
    }

    /** What a crossing could change: the log, the wallet, the transaction. */
    async function stateOf(w: World) {
      return { log: (await w.ops.log(w.owner)).map((e) => e.eventId), wallet: await w.ops.wallet(w.walletId) };
    }

    it('refuses every call across the line with FORBIDDEN, and changes nothing', async () => {
      const acme = await world('acme');
      const globex = await world('globex');
      const before = await stateOf(acme);
      for (const call of crossingCalls(acme)) {
        expect(await attempt(call, globex.serviceToken), `${call.name} by globex`).toEqual(['FORBIDDEN']);
      }
      // A token without the claim is in tenant "default", which is another line.
      const untenanted = await token('legacy-ops', 'service');
      for (const call of crossingCalls(acme)) expect(await attempt(call, untenanted), `${call.name} by default`).toEqual(['FORBIDDEN']);
      expect(await stateOf(acme)).toEqual(before);
    });

    it('says why: the refusal names the caller’s tenant, and the same for an owner that does not exist', async () => {
      const acme = await world('acme');
      const globex = await world('globex');
      const foreign = await gql(t.server.url, globex.serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: acme.owner });
      const unknown = await gql(t.server.url, globex.serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: 'nobody-at-all' });
      expect(foreign.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', reason: 'tenant', tenant: 'globex' });
      expect(foreign.errors![0]!.message).toBe(`owner ${acme.owner} is not in tenant globex; this token reaches only that tenant's owners`);
      expect(unknown.errors![0]!.message).toBe("owner nobody-at-all is not in tenant globex; this token reaches only that tenant's owners");
    });

    it('lets a tenant do all of it with its own owners; admins read any tenant; users are unchanged', async () => {
      const acme = await world('acme');
      const same = crossingCalls(acme).filter((call) => call.kind === 'http' && !['createWallet', 'revokeAccess'].includes(call.name));
      expect(same.map((call) => call.name)).toContain('feed of another tenant'); // here: its own tenant, named
      for (const call of same) expect(codes(await gql(t.server.url, acme.serviceToken, call.query, call.variables)), call.name).not.toContain('FORBIDDEN');
      const admin = await token('root', 'admin');
      expect((await gql(t.server.url, admin, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: acme.owner })).data.wallets).toHaveLength(1);
      const user = await token(acme.owner);
      expect((await gql(t.server.url, user, '{ me { id tenant wallets { id } } }')).data.me).toEqual({ id: acme.owner, tenant: null, wallets: [{ id: acme.walletId }] });
      expect((await gql(t.server.url, acme.serviceToken, '{ me { role tenant } }')).data.me).toEqual({ role: 'service', tenant: 'acme' });
    });

    it('fixes a new owner’s tenant with its first wallet: of two tenants racing for one owner id, exactly one gets it', async () => {
      const contested = ownerId('race');
      const [acme, globex] = await Promise.all([tenantToken('a', 'acme'), tenantToken('g', 'globex')]);
      const create = (bearer: string) => gql(t.server.url, bearer, 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: contested });
      const results = await Promise.all([create(acme), create(globex), create(acme), create(globex)]);
      const won = results.map((res) => (res.errors ? res.errors[0]!.extensions!.code : 'created'));
      const winners = [0, 1].filter((i) => won[i] === 'created');
      expect(winners).toHaveLength(1);
      // The winner's second try is another wallet of its owner; the loser is refused both times.
      expect(won).toEqual(winners[0] === 0 ? ['created', 'FORBIDDEN', 'created', 'FORBIDDEN'] : ['FORBIDDEN', 'created', 'FORBIDDEN', 'created']);
    });

    it('refuses a token whose tenant claim is not a name', async () => {
      const { mintToken } = await import('../src/auth/mint.ts');
      const { TEST_SECRET } = await import('./support/tokens.ts');
      const bad = await mintToken(TEST_SECRET, { subject: 'ops', role: 'service', ttlSeconds: 60, tenant: 'acme corp/../x' });
      const res = await gql(t.server.url, bad, '{ me { id } }');
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'bad_tenant' });
    });

    it('lets nothing through in 1,000 random calls across tenants', async () => {
      const worlds = await Promise.all(['t1', 't2', 't3'].map((name) => world(`${name}-${backend.name}`)));
      const before = await Promise.all(worlds.map(stateOf));
      const random = seededRandom(20261123);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 1_000; i += 20) {
        // Twenty at a time: a random caller, a random other tenant, a random operation.
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const caller = random.pick(worlds);
            const target = random.pick(worlds.filter((w) => w !== caller));
            const call = random.pick(crossingCalls(target).filter((c) => c.kind === 'http' || random.next() < 0.2));
            const result = await attempt(call, caller.serviceToken);
            const key = `${call.name}: ${result.join(',')}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }),
        );
      }
      const leaks = [...outcomes].filter(([key]) => !key.endsWith(': FORBIDDEN'));
      expect(leaks, 'calls that were not refused').toEqual([]);
      expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(1_000);
      expect(await Promise.all(worlds.map(stateOf))).toEqual(before);
    });
  });
});
