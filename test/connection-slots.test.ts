/**
 * A client that leaves while its token is still being verified (here: a key set that takes
 * a while to answer) gives its connection slot back: aborted WebSockets and SSE requests
 * never lock their owner out of MAX_CONNECTIONS_PER_OWNER.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { startServer, type RunningServer } from './support/server.ts';

const KEY_SET_DELAY_MS = 1_500;
const QUERY = 'subscription { walletEvents { eventId } }';

describe('connection slots of clients that leave during verification', () => {
  let server: RunningServer;
  let keySet: Server;
  let signing: CryptoKey;
  let keySetRequests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signing = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'slow', alg: 'ES256', use: 'sig' };
    keySet = createServer((_req, res) => {
      keySetRequests++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })), KEY_SET_DELAY_MS);
    });
    await new Promise<void>((resolve) => keySet.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(keySet.address() as AddressInfo).port}/jwks.json`;
    server = await startServer({ DATA_DIR: 'memory://', JWT_SECRET: '', JWT_JWKS_URL: url, JWT_ALGORITHM: 'ES256', MAX_CONNECTIONS_PER_OWNER: '3' });
  });
  afterAll(async () => {
    await server?.stop();
    keySet?.close();
  });

  const sign = () => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'ES256', kid: 'slow' }).setSubject('dora').setIssuedAt().setExpirationTime('10m').sign(signing);

  it('releases the slots of 10 aborted WebSockets and SSE requests, so the owner can still connect', async () => {
    const jwt = await sign();
    const aborted: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      // A WebSocket that sends its token, then leaves before the key set answers.
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      aborted.push(
        new Promise((resolve) => {
          socket.once('open', () => {
            socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${jwt}` } }));
            setTimeout(() => socket.terminate(), 200);
          });
          socket.once('close', resolve);
        }),
      );
      // An SSE request that is abandoned the same way.
      const controller = new AbortController();
      const url = `${server.url}?query=${encodeURIComponent(QUERY)}`;
      aborted.push(fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${jwt}` }, signal: controller.signal }).catch(() => null));
      setTimeout(() => controller.abort(), 200);
    }
    await Promise.all(aborted);
    // Let the verifications finish, now that nobody is waiting for them.
    await new Promise((resolve) => setTimeout(resolve, KEY_SET_DELAY_MS + 500));
    expect(keySetRequests).toBeGreaterThan(0);
    // Nothing of the aborted requests lingers: no stream was opened for a client that had left.
    expect(server.app.stats()).toMatchObject({ subscriptions: 0, webSockets: 0 });

    // All three of the owner's slots are free: two WebSockets and one SSE stream open and stay.
    const first = subscribeWs(wsClient(server.wsUrl, jwt), QUERY);
    const second = subscribeWs(wsClient(server.wsUrl, jwt), QUERY);
    const third = subscribeSse(server.url, jwt, QUERY);
    await waitUntil(() => server.app.stats().subscriptions === 3, 10_000, () => JSON.stringify([first.errors, second.errors, third.errors, server.app.stats()]));
    expect([first.errors, second.errors, third.errors]).toEqual([[], [], []]);
    // And the limit still holds for a fourth.
    const fourth = subscribeWs(wsClient(server.wsUrl, jwt), QUERY);
    await fourth.ended;
    expect((fourth.errors[0] as { code: number }).code).toBe(1013);
    for (const sub of [first, second, third]) sub.dispose();
  });
});
