/**
 * Revocation never lapses: a reload cannot drop a revocation it did not read yet; a
 * revocation whose notice was lost is enforced by the periodic reload (sockets closed,
 * streams ended); and the token lifetime policy (exp and iat required, JWT_MAX_TOKEN_AGE)
 * bounds how long a revocation must be kept, so none is forgotten while it matters.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationList } from '../src/auth/revocations.ts';
import type { Principal } from '../src/domain/principal.ts';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { databaseOn } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { TEST_SECRET, token } from './support/tokens.ts';

const HOUR = 3_600_000;
const user = (subject: string, issuedAt: number, tokenId: string | null = null): Principal => ({ subject, role: 'user', expiresAt: null, tokenId, issuedAt: Math.floor(issuedAt / 1000), tenant: null });

describe.each(BACKENDS)('the revocation list on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const store = databaseOn(backend);

    it('keeps a revocation heard before its row was visible through a reload (no stale snapshot wins)', async () => {
      const list = new RevocationList(store.database.db, 24 * HOUR);
      const issued = Date.now() - 60_000;
      // The notice from another instance arrives before this instance can read the row.
      list.apply({ subject: 'mallory', revokedBefore: Date.now() });
      list.apply({ jti: 'stolen-jti', expiresAt: Date.now() + HOUR });
      expect(await list.reload()).toEqual([]);
      expect(list.isRevoked(user('mallory', issued))).toBe(true);
      expect(list.isRevoked(user('someone', issued, 'stolen-jti'))).toBe(true);
    });

    it('reports revocations it had not heard of, so the caller can end their connections', async () => {
      const writer = new RevocationList(store.database.db, 24 * HOUR);
      const reader = new RevocationList(store.database.db, 24 * HOUR);
      await reader.reload();
      await writer.revokeSubject('eve', 'lost phone');
      const stored = await writer.revokeToken('jti-1', null);
      const found = await reader.reload();
      expect(found).toContainEqual(expect.objectContaining({ subject: 'eve' }));
      expect(found).toContainEqual({ jti: 'jti-1', expiresAt: (stored as { expiresAt: number }).expiresAt });
      expect(await reader.reload()).toEqual([]); // known now
    });

    it('keeps a revocation until no token it refuses can be valid, then forgets it', async () => {
      const horizon = 2 * HOUR;
      const list = new RevocationList(store.database.db, horizon);
      const now = Date.now();
      await list.revokeSubject('trudy', null);
      const token = await list.revokeToken('jti-short', now + 60_000); // a shorter expiresAt never shortens the horizon
      expect((token as { expiresAt: number }).expiresAt).toBeGreaterThanOrEqual(now + horizon);
      await list.prune(now + horizon - 60_000);
      expect(list.isRevoked(user('trudy', now - 1_000))).toBe(true);
      expect(list.isRevoked(user('x', now, 'jti-short'))).toBe(true);
      const fresh = new RevocationList(store.database.db, horizon);
      await fresh.reload();
      expect(fresh.isRevoked(user('trudy', now - 1_000))).toBe(true);
      // Past the horizon every token issued before the revocation is too old to be accepted.
      await list.prune(now + horizon + 120_000);
      const later = new RevocationList(store.database.db, horizon);
      await later.reload(now + horizon + 120_000);
      expect(later.isRevoked(user('trudy', now - 1_000))).toBe(false);
      expect(later.isRevoked(user('x', now, 'jti-short'))).toBe(false);
    });
  });
});

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`a lost revocation notice, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    let env: BackendEnv;
    let a: RunningServer;
    let b: RunningServer;
    beforeAll(async () => {
      env = await prepareBackend(postgres);
      a = await startServer(env.env);
      // B listens on another prefix: A's notices never reach it, as if Redis lost them.
      b = await startServer({ ...env.env, PUBSUB_PREFIX: `${env.env.PUBSUB_PREFIX}deaf:`, REVOCATION_RELOAD_INTERVAL: '300ms' });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await env?.dispose();
    });

    it('closes the sockets and streams the revocation covers at the next reload', async () => {
      const owner = ownerId('lost-notice');
      await producer(a.url, await token('producer', 'service')).createWallet(owner);
      const oldToken = await token(owner);
      const ws = subscribeWs(wsClient(b.wsUrl, oldToken), 'subscription { walletEvents { sequence } }');
      const sse = subscribeSse(b.url, oldToken, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => b.app.stats().subscriptions === 2);
      const res = await gql(a.url, await token('security', 'admin'), 'mutation($o: ID!) { revokeAccess(ownerId: $o) { revoked } }', { o: owner });
      expect(res.data.revokeAccess.revoked).toBe(true);
      await Promise.all([ws.ended, sse.ended]);
      sse.dispose();
      expect((ws.errors[0] as { code: number }).code).toBe(4403);
      expect((sse.errors[0] as any[])[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(codes(await gql(b.url, oldToken, '{ me { id } }'))).toEqual(['UNAUTHENTICATED']);
    });
  });
});

describe('token lifetime policy', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: 'memory://', JWT_MAX_TOKEN_AGE: '1h' });
  });
  afterAll(() => server?.stop());

  const key = new TextEncoder().encode(TEST_SECRET);
  const base = () => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice');

  it.each([
    ['no exp', () => base().setIssuedAt().sign(key), 'missing_exp'],
    ['no iat', () => base().setExpirationTime('10m').sign(key), 'missing_iat'],
    ['an iat older than JWT_MAX_TOKEN_AGE, whatever its exp', () => base().setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime('30d').sign(key), 'expired'],
    ['an iat in the future', () => base().setIssuedAt(Math.floor(Date.now() / 1000) + 600).setExpirationTime('30d').sign(key), 'bad_iat'],
  ])('refuses a token with %s', async (_name, make, reason) => {
    const res = await gql(server.url, await make(), '{ me { id } }');
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors![0]!.extensions!.reason).toBe(reason);
  });

  it('accepts a token with exp and a recent iat', async () => {
    expect((await gql(server.url, await token('alice'), '{ me { id } }')).data).toEqual({ me: { id: 'alice' } });
  });
});
