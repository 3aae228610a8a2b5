/**
 * Protocol conformance of the WebSocket loop: every graphql-transport-ws message type and
 * every close code the server uses, checked with raw frames on a real server (what any
 * client implementation sees) and with graphql-ws's own client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/mint.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer, type Producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { TEST_SECRET, token } from './support/tokens.ts';

type Frame = { id?: string; type: string; payload?: any };

/** A raw socket that records every frame and how it closed. */
async function rawSocket(url: string, protocol: string | null = 'graphql-transport-ws') {
  const socket = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
  const frames: Frame[] = [];
  const texts: string[] = [];
  socket.on('message', (data) => {
    texts.push(String(data));
    frames.push(JSON.parse(String(data)) as Frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const send = (frame: unknown) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const waitForFrames = (count: number) => waitUntil(() => frames.length >= count, 10_000, () => JSON.stringify(frames));
  return { socket, frames, texts, closed, send, waitForFrames };
}

async function initialized(url: string, bearer: string) {
  const raw = await rawSocket(url);
  raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } });
  await raw.waitForFrames(1);
  return raw;
}

describe('graphql-transport-ws conformance', () => {
  let server: RunningServer;
  let ops: Producer;

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: 'memory://', CONNECTION_INIT_TIMEOUT: '400ms', MAX_CONNECTIONS_PER_OWNER: '1', WS_PING_INTERVAL_MS: '3600000' });
    ops = producer(server.url, await token('protocol-producer', 'service'));
  });
  afterAll(() => server?.stop());

  it('acknowledges connection_init with a bare connection_ack', async () => {
    const raw = await initialized(server.wsUrl, await token(ownerId('ack')));
    expect(raw.texts).toEqual(['{"type":"connection_ack"}']);
    raw.socket.close();
  });

  it('answers ping with pong (echoing a payload) and ignores pong', async () => {
    const raw = await rawSocket(server.wsUrl);
    raw.send({ type: 'pong' });
    raw.send({ type: 'ping' });
    raw.send({ type: 'ping', payload: { at: 1 } });
    await raw.waitForFrames(2);
    expect(raw.frames).toEqual([{ type: 'pong' }, { type: 'pong', payload: { at: 1 } }]);
    raw.socket.close();
  });

  it('streams next frames with the cursor in extensions, stops at complete, and reuses a completed id', async () => {
    const owner = ownerId('stream');
    const wallet = await ops.createWallet(owner);
    const raw = await initialized(server.wsUrl, await token(owner));
    raw.send({ id: 'op-1', type: 'subscribe', payload: { query: 'subscription { walletEvents { sequence } }' } });
    await waitUntil(() => server.app.stats().subscriptions === 1);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
    await raw.waitForFrames(3);
    const next = raw.frames[1]!;
    expect(next).toMatchObject({ id: 'op-1', type: 'next', payload: { data: { walletEvents: { sequence: 2 } } } });
    expect(Object.keys(next.payload.extensions).sort()).toEqual(['cursor', 'eventId', 'sequence']);
    expect(next.payload.extensions.sequence).toBe(2);

    raw.send({ id: 'op-1', type: 'complete' });
    await waitUntil(() => server.app.stats().subscriptions === 0);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
    // The same id again, resuming after the first event: it gets everything after it, nothing twice.
    raw.send({ id: 'op-1', type: 'subscribe', payload: { query: 'subscription($after: String) { walletEvents(after: $after) { sequence } }', variables: { after: next.payload.extensions.cursor } } });
    await raw.waitForFrames(6);
    expect(raw.frames.slice(3).map((frame) => [frame.id, frame.type, frame.payload.data.walletEvents.sequence])).toEqual([
      ['op-1', 'next', 3],
      ['op-1', 'next', 4],
      ['op-1', 'next', 5],
    ]);
    raw.socket.close();
  });

  it('runs a query as next then complete, and reports an invalid operation as an error message without closing', async () => {
    const owner = ownerId('query');
    const raw = await initialized(server.wsUrl, await token(owner));
    raw.send({ id: 'q', type: 'subscribe', payload: { query: '{ me { id role } }' } });
    raw.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { noSuchField }' } });
    await raw.waitForFrames(4);
    const byId = (id: string) => raw.frames.filter((frame) => frame.id === id);
    expect(byId('q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { me: { id: owner, role: 'user' } } } },
      { id: 'q', type: 'complete' },
    ]);
    expect(byId('bad')).toHaveLength(1);
    expect(byId('bad')[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close();
  });

  it('ends a stream the server refuses with an error message naming the code', async () => {
    const raw = await initialized(server.wsUrl, await token(ownerId('refused')));
    raw.send({ id: 's', type: 'subscribe', payload: { query: 'subscription { walletEvents(ownerId: "someone-else") { sequence } }' } });
    await raw.waitForFrames(2);
    const answer = raw.frames.slice(1);
    expect(answer.at(-1)).toMatchObject({ id: 's' });
    expect(JSON.stringify(answer)).toContain('FORBIDDEN');
    raw.socket.close();
  });

  it.each([
    ['4400 for a message that is not JSON', async () => 'not json', 4400],
    ['4400 for an unknown message type', async () => ({ type: 'shout' }), 4400],
    ['4400 for a message only a server sends', async () => ({ id: 'x', type: 'next', payload: {} }), 4400],
    ['4400 for a subscribe without a query', async () => ({ id: 'x', type: 'subscribe', payload: {} }), 4400],
    ['4401 for subscribe before connection_init', async () => ({ id: '1', type: 'subscribe', payload: { query: '{ me { ownerId } }' } }), 4401],
    ['4401 for an invalid token', async () => ({ type: 'connection_init', payload: { authorization: 'Bearer nope' } }), 4401],
    [
      '4403 for an expired token (clients retry with a fresh one)',
      async () => ({ type: 'connection_init', payload: { authorization: `Bearer ${await mintToken(TEST_SECRET, { subject: 'x', role: 'user', ttlSeconds: -60 })}` } }),
      4403,
    ],
  ])('closes with %s', async (_name, frame, code) => {
    const raw = await rawSocket(server.wsUrl);
    raw.send(await frame());
    expect((await raw.closed).code).toBe(code);
  });

  it('closes with 4409 for a second subscribe with a running id, and 4429 for a second connection_init', async () => {
    const bearer = await token(ownerId('dup'));
    const dup = await initialized(server.wsUrl, bearer);
    const subscribe = { id: 'same', type: 'subscribe', payload: { query: 'subscription { walletEvents { sequence } }' } };
    dup.send(subscribe);
    dup.send(subscribe);
    expect(await dup.closed).toMatchObject({ code: 4409, reason: 'Subscriber for same already exists' });

    const twice = await initialized(server.wsUrl, await token(ownerId('twice')));
    twice.send({ type: 'connection_init', payload: {} });
    expect((await twice.closed).code).toBe(4429);
  });

  it('closes with 4408 when connection_init never comes, and 4406 without the subprotocol', async () => {
    const silent = await rawSocket(server.wsUrl);
    expect((await silent.closed).code).toBe(4408);
    const wrong = await rawSocket(server.wsUrl, null);
    expect((await wrong.closed).code).toBe(4406);
  });

  it('closes with 1013 past the owner connection limit, and graphql-ws’s client works end to end', async () => {
    const owner = ownerId('limit');
    const wallet = await ops.createWallet(owner);
    const client = wsClient(server.wsUrl, await token(owner));
    const events = subscribeWs(client, 'subscription { walletEvents { sequence } }');
    await waitUntil(() => server.app.stats().subscriptions === 1);
    const second = await rawSocket(server.wsUrl);
    second.send({ type: 'connection_init', payload: { authorization: `Bearer ${await token(owner)}` } });
    expect((await second.closed).code).toBe(1013);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
    expect((await events.waitFor(2)).map((event: any) => event.sequence)).toEqual([2, 3]);
    events.dispose();
    await waitUntil(() => server.app.stats().subscriptions === 0);
    await client.dispose();
  });

  it('closes every socket with 1001 when the server drains', async () => {
    const own = await startServer({ DATA_DIR: 'memory://', DRAIN_WINDOW: '100ms' });
    const raw = await initialized(own.wsUrl, await token(ownerId('drain')));
    await own.app.stop(1001);
    expect((await raw.closed).code).toBe(1001);
  });
});
