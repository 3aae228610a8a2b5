/**
 * Authorization: a user never sees another owner's
 * wallets or events, by id or without; bad and expired tokens are refused with the right
 * code on HTTP, graphql-ws and SSE.
 */
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth/mint.ts';
import { BACKENDS, label } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { EVENT_FIELDS, ownerId } from './support/ledger-ops.ts';
import { TEST_SECRET, token } from './support/tokens.ts';

describe.each(BACKENDS)('authorization on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);
    let alice: string;
    let bob: string;
    let aliceWallet: any;
    let bobWallet: any;
    let bobTxn: any;

    beforeAll(async () => {
      alice = ownerId('alice');
      bob = ownerId('bob');
      aliceWallet = await t.ops.createWallet(alice);
      bobWallet = await t.ops.createWallet(bob);
      bobTxn = await t.ops.post({ walletId: bobWallet.id, direction: 'CREDIT', amount: '900', status: 'SUCCESS' });
    });

    it('shows a user only their own wallets, transactions and events in queries', async () => {
      const aliceToken = await token(alice);
      const me = await gql(t.server.url, aliceToken, '{ me { id role wallets { id } } wallets { id ownerId } }');
      expect(me.data).toEqual({ me: { id: alice, role: 'user', wallets: [{ id: aliceWallet.id }] }, wallets: [{ id: aliceWallet.id, ownerId: alice }] });

      expect(codes(await gql(t.server.url, aliceToken, 'query($id: ID!) { wallet(id: $id) { id } }', { id: bobWallet.id }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, aliceToken, 'query($id: ID!) { transaction(id: $id) { id } }', { id: bobTxn.id }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, aliceToken, 'query($w: ID!) { transactions(walletId: $w) { edges { node { id } } } }', { w: bobWallet.id }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, aliceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: bob }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, aliceToken, 'query($o: ID) { events(ownerId: $o) { edges { cursor } } }', { o: bob }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, aliceToken, 'query($w: ID) { events(walletId: $w) { edges { cursor } } }', { w: bobWallet.id }))).toEqual(['FORBIDDEN']);

      // Without naming anyone, a user's log holds only their own events.
      const own = await gql(t.server.url, aliceToken, `{ events(first: 500) { edges { node { ownerId walletId } } } }`);
      expect(own.data.events.edges.length).toBeGreaterThan(0);
      expect(own.data.events.edges.every((e: any) => e.node.ownerId === alice && e.node.walletId === aliceWallet.id)).toBe(true);

      // A cursor from Bob's log can't be used to read Alice's from another position.
      const bobLog = await t.ops.log(bob);
      expect(codes(await gql(t.server.url, aliceToken, 'query($a: String) { events(after: $a) { edges { cursor } } }', { a: bobLog[0].cursor }))).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses producer mutations to user and admin tokens', async () => {
      for (const role of ['user', 'admin'] as const) {
        const res = await gql(t.server.url, await token(alice, role), 'mutation($i: CreateWalletInput!) { createWallet(input: $i) { id } }', { i: { ownerId: alice, currency: 'NGN' } });
        expect(codes(res)).toEqual(['FORBIDDEN']);
      }
      expect((await t.ops.log(alice)).length).toBe(1);
    });

    it('never streams another owner’s events to a user, over graphql-ws or SSE', async () => {
      const aliceToken = await token(alice);
      const before = t.server.app.stats().subscriptions;
      const ws = subscribeWs(wsClient(t.server.wsUrl, aliceToken), `subscription { walletEvents { ${EVENT_FIELDS} } }`);
      const sse = subscribeSse(t.server.url, aliceToken, `subscription { walletEvents { ${EVENT_FIELDS} } }`);
      // Naming Bob as owner (or Bob's wallet) is refused outright.
      const asBob = subscribeWs(wsClient(t.server.wsUrl, aliceToken), `subscription($o: ID) { walletEvents(ownerId: $o) { eventId } }`, { o: bob });
      const byWallet = subscribeWs(wsClient(t.server.wsUrl, aliceToken), `subscription($w: ID) { transactionUpdated(walletId: $w) { eventId } }`, { w: bobWallet.id });
      await Promise.all([asBob.ended, byWallet.ended]);
      expect((asBob.errors[0] as any[])[0].extensions.code).toBe('FORBIDDEN');
      expect((byWallet.errors[0] as any[])[0].extensions.code).toBe('FORBIDDEN');
      await waitUntil(() => t.server.app.stats().subscriptions >= before + 2);

      for (let i = 0; i < 5; i++) await t.ops.post({ walletId: bobWallet.id, direction: 'CREDIT', amount: '10', status: 'SUCCESS' });
      await t.ops.post({ walletId: aliceWallet.id, direction: 'CREDIT', amount: '77', status: 'SUCCESS' });
      // Alice's own two events arrive; Bob's ten, posted first, never do.
      for (const sub of [ws, sse]) {
        const items = await sub.waitFor(2);
        expect(items.map((e) => [e.ownerId, e.walletId])).toEqual([
          [alice, aliceWallet.id],
          [alice, aliceWallet.id],
        ]);
        sub.dispose();
      }
    });

    describe('token refusals', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const cases: [string, () => Promise<string>][] = [
        ['expired', () => mintToken(TEST_SECRET, { subject: 'x', role: 'user', ttlSeconds: -60 })],
        ['signed with another secret', () => mintToken('another-secret-that-is-also-32-characters-long!', { subject: 'x', role: 'user', ttlSeconds: 60 })],
        ['malformed', async () => 'not-a-jwt'],
        ['unsigned (alg: none)', async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'user', exp: now() + 60 })).toString('base64url')}.`],
        ['without a role', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime(now() + 60).sign(new TextEncoder().encode(TEST_SECRET))],
        ['with an unknown role', () => new SignJWT({ role: 'root' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime(now() + 60).sign(new TextEncoder().encode(TEST_SECRET))],
        ['without a sub', () => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() + 60).sign(new TextEncoder().encode(TEST_SECRET))],
        ['not valid before a future time (nbf)', () => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setNotBefore(now() + 600).setExpirationTime(now() + 900).sign(new TextEncoder().encode(TEST_SECRET))],
        ['signed with another algorithm (HS512)', () => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS512' }).setSubject('x').setExpirationTime(now() + 60).sign(new TextEncoder().encode(TEST_SECRET))],
      ];

      it.each(cases)('refuses a token that is %s on HTTP with UNAUTHENTICATED', async (_name, make) => {
        const res = await gql(t.server.url, await make(), '{ me { id } }');
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.data).toBeNull();
      });

      it.each(cases)('closes a graphql-ws connection whose token is %s', async (name, make) => {
        const sub = subscribeWs(wsClient(t.server.wsUrl, await make()), 'subscription { walletEvents { eventId } }');
        await sub.ended;
        const close = sub.errors[0] as { code: number; reason: string };
        // Expired tokens get 4403, which graphql-ws clients retry (a token function can refresh);
        // invalid ones get 4401, which they don't.
        expect(close.code).toBe(name === 'expired' ? 4403 : 4401);
        expect(close.reason).toMatch(/^UNAUTHENTICATED/);
      });

      it.each(cases)('ends an SSE stream whose token is %s with UNAUTHENTICATED', async (_name, make) => {
        const sub = subscribeSse(t.server.url, await make(), 'subscription { walletEvents { eventId } }');
        await sub.ended;
        sub.dispose();
        expect((sub.errors[0] as any[])[0].extensions.code).toBe('UNAUTHENTICATED');
      });

      it('refuses requests without a token, on every transport', async () => {
        expect(codes(await gql(t.server.url, null, '{ wallets { id } }'))).toEqual(['UNAUTHENTICATED']);
        const sub = subscribeWs(wsClient(t.server.wsUrl, null), 'subscription { walletEvents { eventId } }');
        await sub.ended;
        expect((sub.errors[0] as { code: number }).code).toBe(4401);
      });

      it('still serves introspection without a token, for GraphiQL and codegen', async () => {
        const res = await gql(t.server.url, null, '{ __schema { queryType { name } } }');
        expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      });
    });
  });
});
