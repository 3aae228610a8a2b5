/**
 * Tenants: a service token reaches only its tenant's owners. Every query, mutation,
 * subscription, ack and preference call across the line is refused with FORBIDDEN and
 * changes nothing; admins are platform-wide; a new owner's tenant is fixed by its first
 * wallet, and two tenants racing for one owner id end with exactly one of them. (A seeded
 * fuzz of 1,000 random cross-tenant calls is a long run: test/scale/tenant-fuzz.scale.ts.)
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { attempt, crossingCalls, stateOf, world } from './support/tenant-worlds.ts';
import { tenantToken, token } from './support/tokens.ts';

describe.each(BACKENDS)('tenants on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('refuses every call across the line with FORBIDDEN, and changes nothing', async () => {
      const acme = await world(t.server, 'acme');
      const globex = await world(t.server, 'globex');
      const before = await stateOf(acme);
      for (const call of crossingCalls(acme)) {
        expect(await attempt(t.server, call, globex.serviceToken), `${call.name} by globex`).toEqual(['FORBIDDEN']);
      }
      // A token without the claim is in tenant "default", which is another line.
      const untenanted = await token('legacy-ops', 'service');
      for (const call of crossingCalls(acme)) expect(await attempt(t.server, call, untenanted), `${call.name} by default`).toEqual(['FORBIDDEN']);
      expect(await stateOf(acme)).toEqual(before);
    });

    it('says why: the refusal names the caller’s tenant, and the same for an owner that does not exist', async () => {
      const acme = await world(t.server, 'acme');
      const globex = await world(t.server, 'globex');
      const foreign = await gql(t.server.url, globex.serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: acme.owner });
      const unknown = await gql(t.server.url, globex.serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: 'nobody-at-all' });
      expect(foreign.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', reason: 'tenant', tenant: 'globex' });
      expect(foreign.errors![0]!.message).toBe(`owner ${acme.owner} is not in tenant globex; this token reaches only that tenant's owners`);
      expect(unknown.errors![0]!.message).toBe("owner nobody-at-all is not in tenant globex; this token reaches only that tenant's owners");
    });

    it('lets a tenant do all of it with its own owners; admins read any tenant; users are unchanged', async () => {
      const acme = await world(t.server, 'acme');
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
  });
});
