/**
 * permessage-deflate's price and saving: the same run twice, against a server with
 * WS_COMPRESSION off and one with it on. 1,000 graphql-ws connections (10 per owner) each
 * subscribe to their owner's full events; producers commit transactions with realistic
 * fields. Measured: bytes on the wire per event frame (what the clients read from their
 * TCP connections), the server's CPU per 1,000 frames (from /proc), and its memory per
 * connection once compression contexts exist.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { mintToken } from '../../src/auth/mint.ts';
import { EVENT_FIELDS, producer, type PostInput } from '../support/ledger-ops.ts';
import type { ServerProcess } from '../support/server.ts';
import { TEST_SECRET } from '../support/tokens.ts';
import { cpuMs } from './process-cpu.ts';
import { rssOf } from './scenarios.ts';

export interface CompressionFigures {
  mode: 'off' | 'on';
  frames: number;
  bytesPerFrame: number;
  cpuMsPer1000Frames: number;
  rssPerConnectionKb: number;
}

async function connect(server: ServerProcess, owner: string, onFrame: () => void): Promise<WebSocket> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws'); // offers permessage-deflate, as browsers do
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await mintToken(TEST_SECRET, { subject: owner, role: 'user', ttlSeconds: 3600 })}` } }));
  await new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { walletEvents { ${EVENT_FIELDS} } }` } }));
  socket.on('message', onFrame);
  return socket;
}

/** One run against `server` (its WS_COMPRESSION decides the mode). */
export async function benchCompression(server: ServerProcess, mode: 'off' | 'on', owners: number, perOwner: number, postings: number): Promise<CompressionFigures> {
  const bearer = await mintToken(TEST_SECRET, { subject: `deflate-${randomUUID().slice(0, 8)}`, role: 'service', ttlSeconds: 3600 });
  const ops = producer(server.url, bearer);
  const ids = Array.from({ length: owners }, () => `deflate-${randomUUID().slice(0, 12)}`);
  const wallets = await Promise.all(ids.map((id) => ops.createWallet(id)));
  const rss = rssOf(server.child.pid!);
  const rssBefore = (await rss())!;
  let frames = 0;
  const sockets: WebSocket[] = [];
  for (const owner of ids) for (let i = 0; i < perOwner; i++) sockets.push(await connect(server, owner, () => frames++));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const bytesRead = () => sockets.reduce((sum, socket) => sum + (socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead, 0);
  const bytesBefore = bytesRead();
  const framesBefore = frames;
  const cpuBefore = await cpuMs(server.child.pid!);
  for (let done = 0; done < postings; done += 100) {
    const inputs: PostInput[] = Array.from({ length: Math.min(100, postings - done) }, (_, i) => ({
      walletId: wallets[(done + i) % wallets.length]!.id,
      direction: 'CREDIT',
      amount: String(1_000 + ((done + i) * 7919) % 100_000),
      status: 'SUCCESS',
      counterparty: `merchant-${(done + i) % 37} Ltd`,
      description: `Card payment ${done + i} at store #${(done + i) % 113}`,
    }));
    const res = await ops.postBatchRaw(inputs);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
  }
  const expected = framesBefore + postings * 2 * perOwner; // two events (transaction, balance) per posting
  const deadline = Date.now() + 60_000;
  while (frames < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpuAfter = await cpuMs(server.child.pid!);
  const counted = frames - framesBefore;
  const figures: CompressionFigures = {
    mode,
    frames: counted,
    bytesPerFrame: (bytesRead() - bytesBefore) / counted,
    cpuMsPer1000Frames: ((cpuAfter - cpuBefore) / counted) * 1000,
    rssPerConnectionKb: ((await rss())! - rssBefore) / sockets.length / 1024,
  };
  for (const socket of sockets) socket.terminate();
  return figures;
}
