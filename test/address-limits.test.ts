/**
 * Per-address limits, with clients spread over 127.0.0.x source
 * addresses: new connections per second, connections held at once, and the cool-down after
 * failed authentications, each refused with 429 and `Retry-After` and an audit line, while
 * other addresses go on. Behind a trusted proxy the address comes from X-Forwarded-For;
 * from anyone else that header is ignored. (The forwarded addresses only ever appear in a
 * header: every packet stays on loopback.)
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, logLines, spawnServer, type ServerProcess } from './support/server.ts';
import { token } from './support/tokens.ts';
import { waitUntil } from './support/clients.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GraphQL request from `localAddress` (a 127.0.0.x source), with optional extra headers. */
function query(port: number, localAddress: string, bearer: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query: '{ me { id } }' }));
  });
}

/** Opens an SSE stream from `localAddress`; resolves with its status (and the request, to end it). */
function stream(port: number, localAddress: string, bearer: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const path = `/graphql?query=${encodeURIComponent('subscription { walletEvents { eventId } }')}&token=${bearer}`;
    const req = request({ host: '127.0.0.1', port, localAddress, path, headers: { accept: 'text/event-stream' } }, (res) => {
      resolve({ status: res.statusCode!, close: () => req.destroy() });
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket upgrade from `localAddress`: the open socket, or the refusal's status and body. */
function upgrade(port: number, localAddress: string): Promise<{ socket: WebSocket } | { status: number; retryAfter: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { localAddress });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(body) }));
    });
    socket.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

async function closeAll(sockets: WebSocket[]) {
  await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.once('close', resolve), socket.close()))));
}

describe('per-address limits', () => {
  let rated: ServerProcess;
  let held: ServerProcess;
  beforeAll(async () => {
    const common = { DATA_DIR: 'memory://', LOG_LEVEL: 'info' };
    [rated, held] = await Promise.all([
      freePort().then((port) =>
        spawnServer({ ...common, ADDRESS_CONNECTION_RATE: '2', ADDRESS_AUTH_FAILURES: '3', ADDRESS_AUTH_FAILURE_WINDOW: '1m', ADDRESS_AUTH_COOLDOWN: '1500ms', TRUSTED_PROXIES: '127.0.0.9' }, port),
      ),
      freePort().then((port) => spawnServer({ ...common, ADDRESS_MAX_CONNECTIONS: '3' }, port)),
    ]);
  }, 60_000);
  afterAll(async () => {
    await rated?.kill('SIGKILL');
    await held?.kill('SIGKILL');
  });

  it('refuses new connections past the rate from one address with 429 and Retry-After; another address goes on', async () => {
    // A burst of 8 at once: the bucket lets 2 through (it refills one every 500 ms).
    const answers = await Promise.all(Array.from({ length: 8 }, () => upgrade(rated.port, '127.0.0.2')));
    const opened = answers.filter((a) => 'socket' in a) as { socket: WebSocket }[];
    const refused = answers.filter((a) => 'status' in a) as { status: number; retryAfter: string; body: any }[];
    expect(opened).toHaveLength(2);
    expect(refused.length).toBe(6);
    for (const answer of refused) {
      expect(answer.status).toBe(429);
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'connection rate', limit: 2 });
    }
    const other = await upgrade(rated.port, '127.0.0.3');
    expect('socket' in other).toBe(true);
    await closeAll([...opened.map((a) => a.socket), (other as { socket: WebSocket }).socket]);
    expect(logLines(rated)).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'connection refused', transport: 'ws', remote: '127.0.0.2', reason: 'address connection rate', limit: 2 }));
  });

  it('counts WebSockets and SSE streams held by one address against its limit, and frees a slot on close', async () => {
    const bearer = await token('holder');
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 2; i++) sockets.push(((await upgrade(held.port, '127.0.0.5')) as { socket: WebSocket }).socket);
    const sse = await stream(held.port, '127.0.0.5', bearer);
    expect(sse.status).toBe(200);
    const fourth = await upgrade(held.port, '127.0.0.5');
    expect(fourth).toMatchObject({ status: 429, body: { errors: [{ extensions: { code: 'RATE_LIMITED', reason: 'connection limit', limit: 3 } }] } });
    expect((await stream(held.port, '127.0.0.5', bearer)).status).toBe(429);
    const elsewhere = await upgrade(held.port, '127.0.0.6');
    expect('socket' in elsewhere).toBe(true);
    sse.close();
    let again: Awaited<ReturnType<typeof upgrade>> | null = null;
    await waitUntil(async () => {
      again = await upgrade(held.port, '127.0.0.5');
      return 'socket' in again;
    }, 5_000);
    await closeAll([...sockets, (again as unknown as { socket: WebSocket }).socket, (elsewhere as { socket: WebSocket }).socket]);
  });

  it('cools an address down after failed authentications: everything from it is refused for a while, others are not', async () => {
    const good = await token('someone');
    for (let i = 0; i < 3; i++) {
      const answer = await query(rated.port, '127.0.0.7', 'not-a-token');
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const cooled = await query(rated.port, '127.0.0.7', good);
    expect(cooled.status).toBe(429);
    expect(Number(cooled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(cooled.body).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'authentication cool-down' });
    expect(await upgrade(rated.port, '127.0.0.7')).toMatchObject({ status: 429 });
    expect((await query(rated.port, '127.0.0.8', good)).status).toBe(200);
    await waitUntil(async () => (await query(rated.port, '127.0.0.7', good)).status === 200, 5_000);
    expect(logLines(rated)).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'address cooling down after failed authentications', remote: '127.0.0.7', failures: 3 }));
    expect(logLines(rated)).toContainEqual(expect.objectContaining({ msg: 'connection refused', transport: 'http', remote: '127.0.0.7', reason: 'address authentication cool-down' }));
    expect(rated.output()).not.toContain(good);
  });

  it('takes the client address from X-Forwarded-For only from a trusted proxy', async () => {
    const good = await token('proxied');
    // Through the trusted proxy (127.0.0.9), three failures of one forwarded client.
    for (let i = 0; i < 3; i++) await query(rated.port, '127.0.0.9', 'not-a-token', { 'x-forwarded-for': '198.51.100.7' });
    expect((await query(rated.port, '127.0.0.9', good, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(429);
    // The proxy's other clients, and the proxy itself, are not that client.
    expect((await query(rated.port, '127.0.0.9', good, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);
    expect((await query(rated.port, '127.0.0.9', good)).status).toBe(200);
    // From a peer that is not a trusted proxy, the header is ignored: it is judged by its own address.
    expect((await query(rated.port, '127.0.0.10', good, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(200);
    for (let i = 0; i < 3; i++) await query(rated.port, '127.0.0.10', 'not-a-token', { 'x-forwarded-for': '198.51.100.20' });
    expect((await query(rated.port, '127.0.0.10', good, { 'x-forwarded-for': '198.51.100.21' })).status).toBe(429);
  });
});
