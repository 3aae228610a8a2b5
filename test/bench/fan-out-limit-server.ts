/**
 * The limit fan-out is measured against: a bare graphql-transport-ws server (`ws`, nothing
 * else) that, once its subscribers are in, makes events as fast as its sockets take them
 * and writes each event's one pre-serialized payload to every subscriber of its owner,
 * framed as our server frames it (the shared text with the operation id around it). No
 * HTTP, no database, no GraphQL: what Node and `ws` can deliver on this machine. Run as its
 * own process (`PORT`), as the servers under test are; `GET /subscribed` counts the
 * subscriptions, `POST /start` begins the events; they go on until it is stopped.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A socket holding more unsent bytes than this waits for the next round. */
const MAX_BUFFERED = 256 * 1024;

const byOwner = new Map<string, { sockets: WebSocket[]; sequence: number }>();
let running = false;

/** The subject of a bearer token, read without checking it (the bench's own tokens). */
function ownerOf(authorization: string): string {
  const payload = authorization.replace(/^Bearer /, '').split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string }).sub;
}

/**
 * Events an owner gets per round. Our server writes what a socket gets in one turn with one
 * system call; so does this one (a round's frames to a socket are corked), or the "limit"
 * would be a server paying a system call per frame.
 */
const EVENTS_PER_ROUND = 20;

/** One round: a few events per owner, to every socket of that owner unless one is backed up. */
function round(): void {
  if (!running) return;
  const occurredAt = new Date().toISOString();
  for (const owner of byOwner.values()) {
    if (owner.sockets.some((socket) => socket.bufferedAmount > MAX_BUFFERED)) continue; // every subscriber gets every event
    const payloads = Array.from({ length: EVENTS_PER_ROUND }, () => {
      const sequence = ++owner.sequence;
      return `{"data":{"walletEvents":{"sequence":${sequence},"occurredAt":"${occurredAt}","type":"BALANCE","balance":{"available":"${sequence}"}}},"extensions":{"cursor":"djE6${sequence}","sequence":${sequence},"eventId":"e-${sequence}"}}`;
    });
    for (const socket of owner.sockets) {
      const raw = (socket as unknown as { _socket: Socket })._socket;
      raw.cork();
      for (const payload of payloads) socket.send(`{"id":"1","type":"next","payload":${payload}}`);
      process.nextTick(() => raw.uncork());
    }
  }
  setImmediate(round); // let the sockets write and the pings in between
}

const http = createServer((req, res) => {
  if (req.url === '/health') return void res.end('ok');
  if (req.url === '/subscribed') return void res.end(String([...byOwner.values()].reduce((sum, owner) => sum + owner.sockets.length, 0)));
  if (req.method === 'POST' && req.url === '/start') {
    running = true;
    setImmediate(round);
    return void res.end('started');
  }
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ server: http, handleProtocols: () => 'graphql-transport-ws', perMessageDeflate: false });
wss.on('connection', (socket) => {
  let owner = '';
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; payload?: { authorization?: string } };
    if (message.type === 'connection_init') {
      owner = ownerOf(message.payload?.authorization ?? '');
      socket.send('{"type":"connection_ack"}');
    } else if (message.type === 'subscribe') {
      let entry = byOwner.get(owner);
      if (!entry) byOwner.set(owner, (entry = { sockets: [], sequence: 0 }));
      entry.sockets.push(socket);
    } else if (message.type === 'ping') socket.send('{"type":"pong"}');
  });
});
http.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('{"msg":"listening"}'));
process.on('SIGTERM', () => {
  running = false;
  for (const socket of wss.clients) socket.terminate();
  http.close(() => process.exit(0));
});
