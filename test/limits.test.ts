/**
 * Abuse limits: each limit at a configured value,
 * the error or close code at the limit, and that the connection is still healthy (or
 * cleanly closed) afterwards. Defaults are checked in startup.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/mint.ts';
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer, type Producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { TEST_SECRET, token } from './support/tokens.ts';

/** Opens a raw graphql-ws socket and resolves with how it closed. */
function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function initialized(url: string, bearer: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
  await new Promise((resolve) => socket.once('message', resolve));
  return socket;
}

describe('limits', () => {
  let server: RunningServer;
  let ops: Producer;

  beforeAll(async () => {
    server = await startServer({
      DATA_DIR: 'memory://',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
      MAX_CONNECTIONS_PER_OWNER: '2',
      WS_MAX_MESSAGE_BYTES: '2048',
      CONNECTION_INIT_TIMEOUT: '300ms',
      IDLE_TIMEOUT: '1s',
      MUTATION_RATE_LIMIT: '5',
      MAX_QUERY_DEPTH: '4',
      MAX_ALIASES: '2',
      ALLOWED_ORIGINS: 'https://app.example.com',
      TOKEN_CLOCK_SKEW: '0',
    });
    ops = producer(server.url, await token('limits-producer', 'service'));
  });
  afterAll(() => server?.stop());

  it('refuses a subscription past MAX_SUBSCRIPTIONS_PER_CONNECTION with LIMIT_EXCEEDED, keeping the others', async () => {
    const owner = ownerId('subs');
    const wallet = await ops.createWallet(owner);
    const client = wsClient(server.wsUrl, await token(owner));
    const subs = [1, 2, 3].map(() => subscribeWs(client, 'subscription { walletEvents { sequence } }'));
    await waitUntil(() => server.app.stats().subscriptions === 3);
    const fourth = subscribeWs(client, 'subscription { walletEvents { sequence } }');
    await fourth.ended;
    expect((fourth.errors[0] as any[])[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 3 });
    // Completing one frees a slot; the connection and its subscriptions are unaffected.
    subs[0]!.dispose();
    await waitUntil(() => server.app.stats().subscriptions === 2);
    const replacement = subscribeWs(client, 'subscription { walletEvents { sequence } }');
    await waitUntil(() => server.app.stats().subscriptions === 3);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1' });
    for (const sub of [subs[1]!, subs[2]!, replacement]) expect(await sub.waitFor(1)).toEqual([{ sequence: 2 }]);
    await client.dispose();
  });

  it('closes connections past MAX_CONNECTIONS_PER_OWNER with 1013, other owners unaffected', async () => {
    const owner = ownerId('conns');
    const bearer = await token(owner);
    const first = await initialized(server.wsUrl, bearer);
    const second = await initialized(server.wsUrl, bearer);
    const third = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = closeOf(third);
    third.once('open', () => third.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } })));
    expect(await closed).toEqual({ code: 1013, reason: 'LIMIT_EXCEEDED: at most 2 connections per owner' });
    const other = await initialized(server.wsUrl, await token(ownerId('other')));
    expect(other.readyState).toBe(WebSocket.OPEN);
    // Once one closes, the owner may connect again.
    first.close(1000);
    await waitUntil(() => server.app.stats().webSockets === 2);
    const again = await initialized(server.wsUrl, bearer);
    expect(again.readyState).toBe(WebSocket.OPEN);
    for (const socket of [second, other, again]) socket.close(1000);
  });

  it('closes a socket that sends a frame over WS_MAX_MESSAGE_BYTES with 1009', async () => {
    const socket = await initialized(server.wsUrl, await token(ownerId('big')));
    const closed = closeOf(socket);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { walletEvents { eventId } } # ${'x'.repeat(3000)}` } }));
    expect((await closed).code).toBe(1009);
  });

  it('closes a socket that never sends connection_init within CONNECTION_INIT_TIMEOUT with 4408', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = closeOf(socket);
    const started = Date.now();
    expect((await closed).code).toBe(4408);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('closes a socket with no subscription after IDLE_TIMEOUT, but not one that subscribes', async () => {
    const idle = await initialized(server.wsUrl, await token(ownerId('idle')));
    const busy = await initialized(server.wsUrl, await token(ownerId('busy')));
    busy.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { walletEvents { eventId } }' } }));
    expect(await closeOf(idle)).toEqual({ code: 1000, reason: 'idle: no subscription' });
    // A whole idle timeout more, measured by a socket opened now being closed for idleness.
    const later = await initialized(server.wsUrl, await token(ownerId('idle-later')));
    expect((await closeOf(later)).code).toBe(1000);
    expect(busy.readyState).toBe(WebSocket.OPEN);
    busy.close(1000);
  });

  it('answers RATE_LIMITED past MUTATION_RATE_LIMIT per token, changing nothing, and recovers', async () => {
    const rateToken = await token('rate-producer', 'service');
    const owner = ownerId('rate');
    const create = (bearer: string, who: string) => gql(server.url, bearer, 'mutation($i: CreateWalletInput!) { createWallet(input: $i) { id } }', { i: { ownerId: who, currency: 'NGN' } });
    // A burst of 20 at once against a bucket of 5: some must be refused, whatever the machine's speed.
    const results = await Promise.all(Array.from({ length: 20 }, () => create(rateToken, owner)));
    const accepted = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(codes(r)).toEqual(['RATE_LIMITED']);
    const retryAfterMs = Math.max(...refused.map((r) => r.errors![0]!.extensions!.retryAfterMs as number));
    expect(retryAfterMs).toBeGreaterThan(0);
    // Refused mutations changed nothing: exactly the accepted wallets exist.
    expect((await gql(server.url, await token(owner), '{ wallets { id } }')).data.wallets).toHaveLength(accepted.length);
    // Another token has its own budget; the same token recovers after the advised wait.
    expect((await create(await token('another-producer', 'service'), 'x1')).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    expect((await create(rateToken, 'x2')).errors).toBeUndefined();
  });

  it('refuses queries deeper than MAX_QUERY_DEPTH or with more than MAX_ALIASES aliases, on HTTP and WebSocket', async () => {
    const bearer = await token(ownerId('deep'));
    const deep = '{ me { wallets { transactions { edges { node { id } } } } } }';
    const aliased = '{ a: me { id } b: me { id } c: me { id } }';
    expect(codes(await gql(server.url, bearer, deep))).toEqual(['LIMIT_EXCEEDED']);
    expect(codes(await gql(server.url, bearer, aliased))).toEqual(['LIMIT_EXCEEDED']);
    expect((await gql(server.url, bearer, '{ a: me { id } b: me { id } }')).errors).toBeUndefined();
    const client = wsClient(server.wsUrl, bearer);
    const deepSub = subscribeWs(client, 'subscription { a: walletEvents { eventId } b: walletEvents { eventId } c: walletEvents { eventId } }');
    await deepSub.ended;
    expect((deepSub.errors[0] as any[])[0].extensions.code).toBe('LIMIT_EXCEEDED');
    await client.dispose();
  });

  it('allows only ALLOWED_ORIGINS for browser WebSockets and CORS; non-browser clients need none', async () => {
    const bearer = await token(ownerId('origin'));
    const refused = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(status).toBe(403);
    const allowed = await initialized(server.wsUrl, bearer, { origin: 'https://app.example.com' });
    const noOrigin = await initialized(server.wsUrl, bearer);
    allowed.close(1000);
    noOrigin.close(1000);

    const preflight = (origin: string) =>
      fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it('closes a socket with 4403 when its token expires, and a graphql-ws client reconnects with a fresh token', async () => {
    const owner = ownerId('expiry');
    const wallet = await ops.createWallet(owner);
    let issued = 0;
    // The first token lives 2 s; later ones an hour.
    const nextToken = async () => mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: issued++ === 0 ? 2 : 3600 });
    const closes: number[] = [];
    const client = wsClient(server.wsUrl, null, {
      connectionParams: async () => ({ authorization: `Bearer ${await nextToken()}` }),
      retryAttempts: 5,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 50)),
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    // This server allows depth 4, so read the log with a shallow query.
    const log = await gql(server.url, await token(owner), '{ events { edges { cursor } } }');
    const after = log.data.events.edges.at(-1).cursor;
    const seen: number[] = [];
    // graphql-ws resubscribes with the same `after` on reconnect; nothing happened in between here.
    client.subscribe<any>(
      { query: 'subscription($a: String) { walletEvents(after: $a) { sequence } }', variables: { a: after } },
      { next: (r) => void seen.push(r.data.walletEvents.sequence), error: () => {}, complete: () => {} },
    );
    await waitUntil(() => closes.includes(4403), 6_000);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
    await waitUntil(() => seen.length >= 2, 10_000);
    await client.dispose();
    expect(issued).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([2, 3]);
  });

  it('ends an SSE stream when its token expires, with UNAUTHENTICATED', async () => {
    const owner = ownerId('sse-expiry');
    const shortLived = await mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: 1 });
    const sub = subscribeSse(server.url, shortLived, 'subscription { walletEvents { sequence } }');
    await sub.ended;
    sub.dispose();
    const error = (sub.errors[0] as any[])[0];
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'expired' });
  });

  it('ends the client library’s connection at token expiry; it reconnects with a fresh token and misses nothing', async () => {
    const owner = ownerId('lib-expiry');
    const wallet = await ops.createWallet(owner);
    let issued = 0;
    const client = new WalletEventsClient({
      url: server.wsUrl,
      token: () => mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: issued++ === 0 ? 2 : 3600 }),
      webSocketImpl: WebSocket,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    const states: string[] = [];
    client.onStateChange((state) => states.push(state));
    const seen: number[] = [];
    const start = (await gql(server.url, await token(owner), '{ events { edges { cursor } } }')).data.events.edges.at(-1).cursor;
    client.subscribe<{ sequence: number }>({ query: 'subscription($after: String, $consumer: String) { walletEvents(after: $after, consumer: $consumer) { sequence } }', after: start, onEvent: (e) => void seen.push(e.sequence) });
    await waitUntil(() => server.app.stats().subscriptions >= 1);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
    await waitUntil(() => seen.length === 2);
    await waitUntil(() => states.includes('reconnecting'), 6_000); // the 2 s token ran out
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '2', status: 'SUCCESS' });
    await waitUntil(() => seen.length === 4, 10_000);
    await client.close();
    expect(seen).toEqual([2, 3, 4, 5]);
    expect(issued).toBeGreaterThanOrEqual(2);
  });

  it('refuses a query over MAX_QUERY_COST with LIMIT_EXCEEDED', async () => {
    const costly = await startServer({ DATA_DIR: 'memory://', MAX_QUERY_COST: '20' });
    try {
      const bearer = await token(ownerId('cost'));
      const res = await gql(costly.url, bearer, '{ me { id role wallets { id currency status balance { available ledger pending } } } }');
      expect(codes(res)).toEqual(['LIMIT_EXCEEDED']);
      expect((await gql(costly.url, bearer, '{ me { id } }')).data).toMatchObject({ me: { id: expect.any(String) } });
    } finally {
      await costly.stop();
    }
  });

  it('closes connections past MAX_CONNECTIONS (per instance) with 1013, and accepts again once one leaves', async () => {
    const small = await startServer({ DATA_DIR: 'memory://', MAX_CONNECTIONS: '2' });
    try {
      const first = await initialized(small.wsUrl, await token(ownerId('i1')));
      const second = await initialized(small.wsUrl, await token(ownerId('i2')));
      const third = new WebSocket(small.wsUrl, 'graphql-transport-ws');
      expect(await closeOf(third)).toEqual({ code: 1013, reason: 'LIMIT_EXCEEDED: this server is at its connection limit; retry later' });
      expect(second.readyState).toBe(WebSocket.OPEN);
      first.close(1000);
      await waitUntil(() => small.app.stats().webSockets === 1);
      const fourth = await initialized(small.wsUrl, await token(ownerId('i4')));
      expect(fourth.readyState).toBe(WebSocket.OPEN);
      second.close(1000);
      fourth.close(1000);
    } finally {
      await small.stop();
    }
  });

  it('counts SSE streams toward MAX_CONNECTIONS_PER_OWNER along with WebSockets', async () => {
    const owner = ownerId('mixed');
    const bearer = await token(owner);
    const socket = await initialized(server.wsUrl, bearer);
    const stream = subscribeSse(server.url, bearer, 'subscription { walletEvents { sequence } }');
    await waitUntil(() => server.app.stats().subscriptions >= 1);
    // One WebSocket and one SSE stream: the owner is at its limit of 2 on both transports.
    const third = subscribeSse(server.url, bearer, 'subscription { walletEvents { sequence } }');
    await third.ended;
    third.dispose();
    expect((third.errors[0] as any[])[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 2 });
    const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = closeOf(ws);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } })));
    expect((await closed).code).toBe(1013);
    // Closing the stream frees its place.
    stream.dispose();
    await waitUntil(async () => {
      // A refused stream ends with its refusal; an accepted one is counted by the server.
      const before = server.app.stats().subscriptions;
      const probe = subscribeSse(server.url, bearer, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => probe.errors.length > 0 || server.app.stats().subscriptions > before, 5_000);
      const ok = probe.errors.length === 0;
      probe.dispose();
      return ok;
    }, 5_000);
    socket.close(1000);
  });
});

