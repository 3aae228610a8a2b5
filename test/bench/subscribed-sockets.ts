/**
 * Opens graphql-ws connections that each hold one waiting `walletEvents` subscription, the
 * shape the memory figures are per (`bench:footprint`, `bench:heap`).
 */
import WebSocket from 'ws';
import { mintToken } from '../../src/auth/mint.ts';
import type { ServerProcess } from '../support/server.ts';
import { TEST_SECRET } from '../support/tokens.ts';

/** Opens `count` acknowledged connections, numbered from `offset`, over 100 owners. */
export async function subscribedSockets(server: ServerProcess, count: number, offset = 0): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = offset; i < offset + count; i++) {
    const bearer = await mintToken(TEST_SECRET, { subject: `owner-${i % 100}`, role: 'user', ttlSeconds: 3600 });
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { perMessageDeflate: false });
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { walletEvents { __typename } }' } }));
    sockets.push(socket);
  }
  return sockets;
}
