/**
 * The little the tools need to talk to a running server: GraphQL over HTTP, tokens signed
 * with the server's secret, and the server's own figures from /metrics.
 */
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { mintToken } from '../../src/auth/mint.ts';
import type { Role } from '../../src/domain/principal.ts';

/** One line for a tool that failed talking to `url`: the error, its network cause, and the likely fix. */
export function failureLine(tool: string, error: unknown, url: string): string {
  const cause = ((error as Error).cause as Error | undefined)?.message;
  return `${tool} failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}; is the server running at ${url}?`;
}

/**
 * Keep-alive agents with no cap on sockets: a load tool must never be what queues the
 * requests. Node's own `http` costs a fraction of `fetch` per request (measured: about a
 * fifth of the CPU), which matters when the tool shares the machine with the server.
 */
const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: Infinity }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: Infinity }) };

/** POSTs `body` as JSON to `url`; resolves with the response's status and text. */
function postJson(url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Runs one GraphQL operation; throws with the server's message on any error. */
export async function graphql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const { status, text } = await postJson(new URL(url), token, JSON.stringify({ query, variables }));
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${status}: the answer is not JSON (${text.slice(0, 120)})`);
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new Error(`${first!.extensions?.code ?? 'ERROR'}: ${first!.message}`);
  }
  return body.data!;
}

/**
 * The HS256 secret to sign tool tokens with: `--secret`, else JWT_SECRET, else the
 * development secret `npm start` keeps under DATA_DIR (default .data).
 */
export async function signingSecret(explicit?: string): Promise<string> {
  if (explicit) return explicit;
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const path = join(process.env.DATA_DIR ?? '.data', 'dev-jwt-secret');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    throw new Error(`no signing secret: pass --secret, set JWT_SECRET, or start the server once with npm start so that ${path} exists`);
  }
}

/** Signs a token for `subject` valid for a day. */
export function toolToken(secret: string, subject: string, role: Role): Promise<string> {
  return mintToken(secret, { subject, role, ttlSeconds: 86_400 });
}

/** The server's resident memory in bytes, read from its /metrics (null if unavailable). */
export async function serverRss(graphqlUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(new URL('/metrics', graphqlUrl))).text();
    const line = text.split('\n').find((l) => l.startsWith('wallet_events_process_resident_memory_bytes '));
    return line ? Number(line.split(' ')[1]) : null;
  } catch {
    return null;
  }
}

/** Creates one wallet per owner (20 at a time); returns the wallet ids in owner order. */
export async function createWallets(url: string, serviceToken: string, owners: readonly string[], currency = 'NGN'): Promise<string[]> {
  const ids: string[] = new Array(owners.length);
  for (let start = 0; start < owners.length; start += 20) {
    await Promise.all(
      owners.slice(start, start + 20).map(async (ownerId, i) => {
        const data = await graphql<{ createWallet: { id: string } }>(url, serviceToken, 'mutation($i: CreateWalletInput!) { createWallet(input: $i) { id } }', {
          i: { ownerId, currency },
        });
        ids[start + i] = data.createWallet.id;
      }),
    );
  }
  return ids;
}
