/**
 * permessage-deflate: offered only when WS_COMPRESSION is on; a
 * client that negotiates it receives every event intact in fewer bytes on the wire, and a
 * server without it negotiates nothing (clients that offer it get plain frames).
 */
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EVENT_FIELDS, ownerId, producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';
import { waitUntil } from './support/clients.ts';

interface Session {
  socket: WebSocket;
  events: any[];
  /** Bytes read from the TCP connection so far. */
  bytesRead(): number;
}

/** A graphql-ws session offering permessage-deflate (ws's default), subscribed to the owner's events. */
async function subscribe(server: RunningServer, owner: string): Promise<Session> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const events: any[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'next') events.push(message.payload.data.walletEvents);
  });
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await token(owner)}` } }));
  await new Promise<void>((resolve) => socket.once('message', () => resolve()));
  const before = server.app.stats().subscriptions;
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { walletEvents { ${EVENT_FIELDS} } }` } }));
  await waitUntil(() => server.app.stats().subscriptions > before, 10_000);
  return { socket, events, bytesRead: () => (socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead };
}

/** Posts the same 20 transactions for a new owner and returns what its subscriber read. */
async function run(server: RunningServer) {
  const owner = ownerId('deflate');
  const ops = producer(server.url, await token('producer', 'service'));
  const wallet = await ops.createWallet(owner);
  const session = await subscribe(server, owner);
  const before = session.bytesRead();
  for (let i = 0; i < 20; i++) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: 1_000 + i, status: 'SUCCESS', counterparty: 'ACME Payments Ltd', description: `invoice ${i} for October` });
  await waitUntil(() => session.events.length >= 40, 15_000, () => `${session.events.length} events`);
  const bytes = session.bytesRead() - before;
  session.socket.close();
  return { extensions: session.socket.extensions, events: session.events, bytes, log: await ops.log(owner) };
}

describe('WebSocket compression', () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('is negotiated when on, delivers every event intact, and sends fewer bytes than without it', async () => {
    const plain = await startServer({ DATA_DIR: 'memory://' });
    const deflating = await startServer({ DATA_DIR: 'memory://', WS_COMPRESSION: 'true' });
    servers.push(plain, deflating);
    const off = await run(plain);
    const on = await run(deflating);
    expect(off.extensions).toBe('');
    expect(on.extensions).toContain('permessage-deflate');
    // Every event as the log has it, in order, on both.
    for (const result of [off, on]) {
      expect(result.events.map((event) => event.sequence)).toEqual(result.log.slice(1).map((event: { sequence: number }) => event.sequence));
      expect(result.events.map((event) => event.eventId)).toEqual(result.log.slice(1).map((event: { eventId: string }) => event.eventId));
    }
    expect(on.events[0].transaction.description).toBe('invoice 0 for October');
    expect(on.bytes).toBeLessThan(off.bytes * 0.6);
  });

  it('refuses settings outside their range at start-up, naming the variable', async () => {
    await expect(startServer({ DATA_DIR: 'memory://', WS_COMPRESSION: 'true', WS_COMPRESSION_WINDOW_BITS: '20' })).rejects.toThrow(/WS_COMPRESSION_WINDOW_BITS/);
    await expect(startServer({ DATA_DIR: 'memory://', WS_COMPRESSION: 'maybe' })).rejects.toThrow(/WS_COMPRESSION: must be true or false/);
  });
});
