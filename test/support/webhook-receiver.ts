/**
 * A webhook receiver on loopback, as a customer would write one: it verifies every request
 * with the `standardwebhooks` package (against each secret it is given) and records what
 * arrived. `answer` decides the status per request; `down()` and `up()` take it off the
 * network and back on the same port.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  body: any;
  /** Which of the receiver's secrets verified it (indexes into `secrets`). */
  verifiedWith: number[];
  signatures: number;
  at: number;
  /** The n-th request with this webhook-id (1 for the first). */
  attempt: number;
}

export interface Receiver {
  url: string;
  port: number;
  /** Every request that verified, in arrival order (failed answers included). */
  requests: Received[];
  /** Those answered 2xx. */
  accepted: Received[];
  /** Requests whose signature did not verify with any secret. */
  unverified: number;
  secrets: string[];
  answer: (request: Received) => number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a receiver on 127.0.0.1 (a free port, or `port`). */
export async function startReceiver(secrets: string[] = [], port = 0): Promise<Receiver> {
  const attempts = new Map<string, number>();
  const receiver: Receiver = {
    url: '',
    port,
    requests: [],
    accepted: [],
    unverified: 0,
    secrets,
    answer: () => 204,
    down: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    up: async () => {
      server = listen();
      await new Promise<void>((resolve) => server.listen(receiver.port, '127.0.0.1', resolve));
    },
    close: () => receiver.down(),
  };
  const listen = (): Server =>
    createServer(async (req, res) => {
      const payload = await readBody(req);
      const headers = req.headers as Record<string, string>;
      const verifiedWith = receiver.secrets.flatMap((secret, index) => {
        try {
          new Webhook(secret).verify(payload, headers);
          return [index];
        } catch {
          return [];
        }
      });
      if (verifiedWith.length === 0) {
        receiver.unverified++;
        res.writeHead(400).end('bad signature');
        return;
      }
      const id = headers['webhook-id']!;
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const received: Received = { id, body: JSON.parse(payload), verifiedWith, signatures: headers['webhook-signature']!.split(' ').length, at: Date.now(), attempt };
      receiver.requests.push(received);
      const status = receiver.answer(received);
      if (status >= 200 && status < 300) receiver.accepted.push(received);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `refused with ${status}` : 'ok');
    });
  let server = listen();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  return receiver;
}

/** Checks the receiver's first deliveries per owner are in sequence order with none missing; returns the problems. */
export function orderProblems(accepted: Received[], expected: Map<string, number[]>): string[] {
  const seen = new Map<string, number[]>();
  const firstTime = new Set<string>();
  for (const { id, body } of accepted) {
    if (firstTime.has(id)) continue;
    firstTime.add(id);
    const list = seen.get(body.ownerId) ?? [];
    list.push(body.sequence);
    seen.set(body.ownerId, list);
  }
  const problems: string[] = [];
  for (const [owner, sequences] of expected) {
    const got = seen.get(owner) ?? [];
    if (got.join(',') !== sequences.join(',')) problems.push(`${owner}: expected ${sequences.join(',')} got ${got.join(',')}`);
  }
  return problems;
}
