/**
 * Token verification as configured: a public key (RS256) instead of a secret, `iss`/`aud`
 * checks, the `?token=` form on the WebSocket URL, and the configurable keep-alive ping.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/mint.ts';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { TEST_SECRET } from './support/tokens.ts';

describe('RS256 public key with issuer and audience', () => {
  let server: RunningServer;
  let privateKey: CryptoKey;

  const sign = (claims: { iss?: string; aud?: string; alg?: string }, key: CryptoKey | Uint8Array = privateKey) => {
    let jwt = new SignJWT({ role: 'user' }).setProtectedHeader({ alg: claims.alg ?? 'RS256' }).setSubject('alice').setIssuedAt().setExpirationTime('5m');
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
  ])('refuses %s on HTTP, graphql-ws and SSE', async (_name, claims, reason) => {
    const bad = await sign(claims);
    const res = await gql(server.url, bad, '{ me { id } }');
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors![0]!.extensions!.reason).toBe(reason);
    const ws = subscribeWs(wsClient(server.wsUrl, bad), 'subscription { walletEvents { eventId } }');
    const sse = subscribeSse(server.url, bad, 'subscription { walletEvents { eventId } }');
    await Promise.all([ws.ended, sse.ended]);
    sse.dispose();
    expect((ws.errors[0] as { code: number; reason: string }).code).toBe(4401);
    expect((sse.errors[0] as any[])[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
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

describe('JWKS by URL', () => {
  let server: RunningServer;
  let jwks: Server;
  let signing: CryptoKey;
  let fetches = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signing = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    server = await startServer({ DATA_DIR: 'memory://', JWT_SECRET: '', JWT_JWKS_URL: url, JWT_ALGORITHM: 'ES256' });
  });
  afterAll(async () => {
    await server?.stop();
    jwks?.close();
  });

  const sign = (key: CryptoKey, kid: string) =>
    new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'ES256', kid }).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(key);

  it('accepts tokens signed by a key of the set, fetching the set once', async () => {
    for (let i = 0; i < 3; i++) expect((await gql(server.url, await sign(signing, 'key-1'), '{ me { id } }')).data).toEqual({ me: { id: 'alice' } });
    expect(fetches).toBe(1);
  });

  it('refuses a token whose key is not in the set, on HTTP and graphql-ws', async () => {
    const stranger = (await generateKeyPair('ES256')).privateKey;
    const forged = await sign(stranger, 'key-1');
    expect(codes(await gql(server.url, forged, '{ me { id } }'))).toEqual(['UNAUTHENTICATED']);
    const unknownKid = await gql(server.url, await sign(stranger, 'key-9'), '{ me { id } }');
    expect(unknownKid.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'unknown_key' });
    const sub = subscribeWs(wsClient(server.wsUrl, forged), 'subscription { walletEvents { eventId } }');
    await sub.ended;
    expect((sub.errors[0] as { code: number }).code).toBe(4401);
  });
});
