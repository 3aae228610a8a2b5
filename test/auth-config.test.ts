/**
 * Token verification as configured: a public key (RS256) instead of a secret, `iss`/`aud`
 * checks, the `?token=` form on the WebSocket URL, and the configurable keep-alive ping.
 */
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/mint.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { TEST_SECRET } from './support/tokens.ts';

describe('RS256 public key with issuer and audience', () => {
  let server: RunningServer;
  let privateKey: CryptoKey;

  const sign = (claims: { iss?: string; aud?: string; alg?: string }, key: CryptoKey | Uint8Array = privateKey) => {
    let jwt = new SignJWT({ role: 'user' }).setProtectedHeader({ alg: claims.alg ?? 'RS256' }).setSubject('alice').setExpirationTime('5m');
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    if (claims.aud) jwt = jwt.setAudience(claims.aud);
    return jwt.sign(key);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    server = await startServer({
      DATA_DIR: 'memory://',
      JWT_SECRET: '',
      JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      JWT_ISSUER: 'https://auth.example',
      JWT_AUDIENCE: 'wallet-events',
    });
  });
  afterAll(() => server?.stop());

  it('accepts a token signed by the private key with the right iss and aud', async () => {
    const res = await gql(server.url, await sign({ iss: 'https://auth.example', aud: 'wallet-events' }), '{ me { id role } }');
    expect(res.data).toEqual({ me: { id: 'alice', role: 'user' } });
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example', aud: 'wallet-events' }, 'bad_iss'],
    ['no issuer', { aud: 'wallet-events' }, 'bad_iss'],
    ['a wrong audience', { iss: 'https://auth.example', aud: 'other-api' }, 'bad_aud'],
  ])('refuses %s', async (_name, claims, reason) => {
    const res = await gql(server.url, await sign(claims), '{ me { id } }');
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors![0]!.extensions!.reason).toBe(reason);
  });

  it('refuses an HS256 token even when signed with the public key text (algorithm confusion)', async () => {
    const forged = await mintToken(TEST_SECRET, { subject: 'alice', role: 'user', ttlSeconds: 60, issuer: 'https://auth.example', audience: 'wallet-events' });
    const res = await gql(server.url, forged, '{ me { id } }');
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('WebSocket token in the URL and keep-alive', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: 'memory://', WS_PING_INTERVAL_MS: '1000' });
  });
  afterAll(() => server?.stop());

  it('accepts the token as ?token= on the upgrade URL', async () => {
    const userToken = await mintToken(TEST_SECRET, { subject: 'alice', role: 'user', ttlSeconds: 60 });
    const client = wsClient(`${server.wsUrl}?token=${userToken}`, null);
    const sub = subscribeWs(client, 'subscription { walletEvents { eventId } }');
    await waitUntil(() => server.app.stats().subscriptions === 1);
    sub.dispose();
    await client.dispose();
  });

  it('pings connected sockets at the configured interval', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    let pings = 0;
    socket.on('ping', () => pings++);
    await new Promise((resolve) => socket.once('open', resolve));
    const userToken = await mintToken(TEST_SECRET, { subject: 'alice', role: 'user', ttlSeconds: 60 });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${userToken}` } }));
    await waitUntil(() => pings >= 2, 10_000);
    socket.close(1000);
  });
});
