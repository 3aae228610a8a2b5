/**
 * Revocation: revokeAccess closes the owner's
 * sockets and streams on every instance within a second and refuses their earlier tokens;
 * tokens issued afterwards work; a single token can be revoked by `jti`; another
 * principal's streams of the same owner go on; freezing a wallet is not a revocation.
 */
import { describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth/mint.ts';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { instancePair } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { TEST_SECRET, token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const QUERY = 'subscription { walletEvents { sequence } }';

describe(`revocation across instances on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const pair = instancePair(postgres);

    it('closes the owner’s sockets and streams on both instances within a second, and refuses their old tokens', async () => {
      const owner = ownerId('revoked');
      const ops = producer(pair.a.url, await token('producer', 'service'));
      const wallet = await ops.createWallet(owner);
      const oldToken = await token(owner);
      const onA = subscribeWs(wsClient(pair.a.wsUrl, oldToken), QUERY);
      const onB = subscribeWs(wsClient(pair.b.wsUrl, oldToken), QUERY);
      const sseOnB = subscribeSse(pair.b.url, oldToken, QUERY);
      const service = subscribeWs(wsClient(pair.b.wsUrl, await token('backoffice', 'service')), 'subscription($o: ID) { walletEvents(ownerId: $o) { sequence } }', { o: owner });
      await waitUntil(() => pair.a.app.stats().subscriptions === 1 && pair.b.app.stats().subscriptions === 3);

      // Freezing is not revocation: events still flow to everyone.
      await ops.freezeRaw(wallet.id);
      for (const sub of [onA, onB, sseOnB, service]) await sub.waitFor(1);

      const started = Date.now();
      const res = await gql(pair.a.url, await token('security', 'admin'), 'mutation($o: ID!) { revokeAccess(ownerId: $o, reason: "stolen phone") { revoked } }', { o: owner });
      expect(res.data.revokeAccess.revoked).toBe(true);
      await Promise.all([onA.ended, onB.ended, sseOnB.ended]);
      expect(Date.now() - started).toBeLessThan(1_000);
      for (const sub of [onA, onB]) expect((sub.errors[0] as { code: number }).code).toBe(4403);
      expect((sseOnB.errors[0] as any[])[0].extensions.code).toBe('UNAUTHENTICATED');

      // The old token is refused everywhere; a token issued afterwards works.
      for (const server of [pair.a, pair.b]) {
        const refused = await gql(server.url, oldToken, '{ me { id } }');
        expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
        expect(refused.errors![0]!.extensions!.reason).toBe('revoked');
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // `iat` has whole seconds
      const fresh = await token(owner);
      expect((await gql(pair.b.url, fresh, '{ me { id } }')).data).toEqual({ me: { id: owner } });

      // The service's stream of that owner was not touched.
      await ops.unfreezeRaw(wallet.id);
      expect(await service.waitFor(2)).toHaveLength(2);
      service.dispose();
    });

    it('revokes a single token by jti, leaving the owner’s other tokens alone', async () => {
      const owner = ownerId('jti');
      const stolen = await mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: 600 });
      const other = await token(owner);
      const jti = JSON.parse(Buffer.from(stolen.split('.')[1]!, 'base64url').toString()).jti as string;
      const sub = subscribeWs(wsClient(pair.b.wsUrl, stolen), QUERY);
      await waitUntil(() => pair.b.app.stats().subscriptions === 1);
      expect(codes(await gql(pair.a.url, await token(owner), 'mutation($j: ID!) { revokeToken(jti: $j) { revoked } }', { j: jti }))).toEqual(['FORBIDDEN']);
      await gql(pair.a.url, await token('producer', 'service'), 'mutation($j: ID!) { revokeToken(jti: $j) { revoked } }', { j: jti });
      await sub.ended;
      expect((sub.errors[0] as { code: number }).code).toBe(4403);
      expect(codes(await gql(pair.b.url, stolen, '{ me { id } }'))).toEqual(['UNAUTHENTICATED']);
      expect((await gql(pair.b.url, other, '{ me { id } }')).data).toEqual({ me: { id: owner } });
    });
  });
});
