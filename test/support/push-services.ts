/**
 * Local stand-ins for the push services we cannot reach from a test: a Web Push service
 * that checks the VAPID token and decrypts each payload with the subscription's private
 * key (RFC 8291, as a browser does), an FCM HTTP v1 API with its OAuth2 token endpoint,
 * and an APNs HTTP/2 server that checks the ES256 provider token. Each listens on
 * 127.0.0.1 and can be told to refuse.
 */
import { createDecipheriv, createECDH, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify, type JWTPayload } from 'jose';

/** One push as the device would see it. */
export interface ReceivedPush {
  /** Which subscription or token it was for. */
  to: string;
  payload: any;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Closes `server` and every connection still open to it (the server under test keeps them alive). */
function closeAll(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function listen(server: Server | Http2SecureServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A browser's subscription keys: what pushManager.subscribe makes on the device. */
export class BrowserKeys {
  private readonly ecdh = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  readonly publicKey: Buffer;

  constructor() {
    this.publicKey = this.ecdh.generateKeys();
  }

  get p256dh(): string {
    return this.publicKey.toString('base64url');
  }

  /** Decrypts an `aes128gcm` body (RFC 8188 framing, RFC 8291 keys). */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const idLength = body[20]!;
    const serverKey = body.subarray(21, 21 + idLength);
    const records = body.subarray(21 + idLength);
    const shared = this.ecdh.computeSecret(serverKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.publicKey, serverKey]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, this.auth, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(records.subarray(records.length - 16));
    const plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
    // The last record ends with the delimiter 0x02, then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (plain[end] !== 2) throw new Error('no last-record delimiter');
    return plain.subarray(0, end).toString('utf8');
  }
}

/** Checks a VAPID `Authorization: vapid t=…, k=…` header for `origin`; returns why not, or null. */
async function vapidProblem(header: string | undefined, origin: string): Promise<string | null> {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) return `no VAPID authorization: ${header}`;
  const key = Buffer.from(match[2]!, 'base64url');
  if (key.length !== 65 || key[0] !== 4) return 'k is not a P-256 public key';
  try {
    const jwk = { kty: 'EC', crv: 'P-256', x: key.subarray(1, 33).toString('base64url'), y: key.subarray(33).toString('base64url') };
    const { payload, protectedHeader } = await jwtVerify(match[1]!, await importJWK(jwk, 'ES256'), { audience: origin });
    if (protectedHeader.alg !== 'ES256') return `alg ${protectedHeader.alg}`;
    const now = Date.now() / 1000;
    if (!payload.exp || payload.exp > now + 24 * 3600) return 'exp missing or more than 24 hours ahead';
    if (typeof payload.sub !== 'string' || !/^(mailto:|https:)/.test(payload.sub)) return `sub ${payload.sub}`;
    return null;
  } catch (error) {
    return `VAPID token refused: ${(error as Error).message}`;
  }
}

export interface WebPushService {
  origin: string;
  /** A new browser subscription on this service: what registerPushDevice's webPush takes, and its keys. */
  subscribe(): { endpoint: string; p256dh: string; auth: string; id: string };
  received: ReceivedPush[];
  /** Requests refused for a bad VAPID token or a payload that did not decrypt. */
  problems: string[];
  /** What to answer for a subscription (default 201). */
  answer: (id: string) => number;
  close(): Promise<void>;
}

/**
 * Starts the stand-in. `checkOneIn` > 1 checks and decrypts one push in that many (the
 * rest are counted with a null payload): the benchmark's load process shares the
 * machine's cores with the server, and decrypting is the browser's cost, not ours.
 */
export async function startWebPushService(options: { checkOneIn?: number } = {}): Promise<WebPushService> {
  const checkOneIn = options.checkOneIn ?? 1;
  let seen = 0;
  /** VAPID headers already verified: a token is reused for hours, as push services see it. */
  const verified = new Set<string>();
  const browsers = new Map<string, BrowserKeys>();
  const received: ReceivedPush[] = [];
  const problems: string[] = [];
  let origin = '';
  const service: WebPushService = {
    origin: '',
    received,
    problems,
    answer: () => 201,
    subscribe() {
      const id = randomBytes(8).toString('hex');
      const keys = new BrowserKeys();
      browsers.set(id, keys);
      return { endpoint: `${origin}/push/${id}`, p256dh: keys.p256dh, auth: keys.auth.toString('base64url'), id };
    },
    close: () => closeAll(server),
  };
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const id = /^\/push\/([0-9a-f]+)$/.exec(req.url ?? '')?.[1];
    const keys = id ? browsers.get(id) : undefined;
    if (!id || !keys) return void res.writeHead(404).end();
    const authorization = req.headers.authorization ?? '';
    const problem = verified.has(authorization) ? null : await vapidProblem(authorization, origin);
    if (problem) {
      problems.push(problem);
      return void res.writeHead(401).end(problem);
    }
    verified.add(authorization);
    const status = service.answer(id);
    if (status !== 201) return void res.writeHead(status).end();
    if (++seen % checkOneIn !== 0) {
      received.push({ to: id, payload: null, headers: req.headers, at: Date.now() });
      return void res.writeHead(201).end();
    }
    if (req.headers['content-encoding'] !== 'aes128gcm' || !req.headers.ttl) {
      problems.push(`headers: ${JSON.stringify(req.headers)}`);
      return void res.writeHead(400).end();
    }
    try {
      received.push({ to: id, payload: JSON.parse(keys.decrypt(body)), headers: req.headers, at: Date.now() });
    } catch (error) {
      problems.push(`payload: ${(error as Error).message}`);
      return void res.writeHead(400).end();
    }
    res.writeHead(201).end();
  });
  origin = `http://127.0.0.1:${await listen(server)}`;
  service.origin = origin;
  return service;
}

export interface FcmService {
  /** FCM_SERVICE_ACCOUNT, FCM_API_URL and FCM_TOKEN_URL for the server. */
  env: Record<string, string>;
  received: ReceivedPush[];
  problems: string[];
  tokensIssued: number;
  answer: (token: string) => { status: number; body?: unknown };
  close(): Promise<void>;
}

export async function startFcmService(): Promise<FcmService> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued = new Set<string>();
  const service: FcmService = {
    env: {},
    received: [],
    problems: [],
    tokensIssued: 0,
    answer: () => ({ status: 200 }),
    close: () => closeAll(server),
  };
  let base = '';
  const server = createServer(async (req, res) => {
    const body = (await bodyOf(req)).toString('utf8');
    if (req.url === '/token') {
      const form = new URLSearchParams(body);
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', publicKey, { issuer: 'push@test-project.iam.gserviceaccount.com', audience: `${base}/token` });
        if ((payload as JWTPayload & { scope?: string }).scope !== 'https://www.googleapis.com/auth/firebase.messaging' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('scope or grant type');
      } catch (error) {
        service.problems.push(`token: ${(error as Error).message}`);
        return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
      }
      const token = randomBytes(16).toString('hex');
      issued.add(token);
      service.tokensIssued++;
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
    }
    if (req.url !== '/v1/projects/test-project/messages:send') return void res.writeHead(404).end();
    if (!issued.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))) return void res.writeHead(401).end();
    const message = JSON.parse(body).message;
    const answer = service.answer(message.token);
    if (answer.status !== 200) return void res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body ?? {}));
    service.received.push({ to: message.token, payload: message, headers: req.headers, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: `projects/test-project/messages/${randomBytes(4).toString('hex')}` }));
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  const account = { type: 'service_account', project_id: 'test-project', client_email: 'push@test-project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: `${base}/token` };
  service.env = { FCM_SERVICE_ACCOUNT: JSON.stringify(account), FCM_API_URL: base, FCM_TOKEN_URL: `${base}/token` };
  return service;
}

export interface ApnsService {
  /** APNS_* settings for the server. */
  env: Record<string, string>;
  received: ReceivedPush[];
  problems: string[];
  answer: (token: string) => { status: number; reason?: string };
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1, made by openssl into a scratch directory. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'apns-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startApnsService(): Promise<ApnsService> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tls = selfSigned();
  const service: ApnsService = {
    env: {},
    received: [],
    problems: [],
    answer: () => ({ status: 200 }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
  const sessions = new Set<ServerHttp2Session>();
  const server = createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: false });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', async () => {
      const reply = (status: number, reason?: string) => {
        stream.respond({ ':status': status, 'content-type': 'application/json' });
        stream.end(reason ? JSON.stringify({ reason }) : undefined);
      };
      const token = /^\/3\/device\/([0-9a-f]+)$/.exec(String(headers[':path']))?.[1];
      if (headers[':method'] !== 'POST' || !token) return reply(404, 'BadPath');
      const problem = await providerTokenProblem(String(headers.authorization ?? ''), publicKey);
      if (problem) {
        service.problems.push(problem);
        return reply(403, 'InvalidProviderToken');
      }
      if (headers['apns-topic'] !== 'com.example.wallet') return reply(400, 'TopicDisallowed');
      const answer = service.answer(token);
      if (answer.status !== 200) return reply(answer.status, answer.reason);
      service.received.push({ to: token, payload: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers, at: Date.now() });
      reply(200);
    });
  });
  const port = await listen(server);
  service.env = {
    APNS_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    APNS_KEY_ID: 'KEY123ABCD',
    APNS_TEAM_ID: 'TEAM123456',
    APNS_TOPIC: 'com.example.wallet',
    APNS_HOST: `https://127.0.0.1:${port}`,
    APNS_CA: tls.cert,
  };
  return service;
}

async function providerTokenProblem(authorization: string, key: KeyObject): Promise<string | null> {
  const jwt = /^bearer (.+)$/.exec(authorization)?.[1];
  if (!jwt) return 'no provider token';
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, key, { issuer: 'TEAM123456', algorithms: ['ES256'] });
    if (protectedHeader.kid !== 'KEY123ABCD') return `kid ${protectedHeader.kid}`;
    if (!payload.iat || payload.iat < Date.now() / 1000 - 3600) return 'iat missing or older than an hour';
    return null;
  } catch (error) {
    return `provider token refused: ${(error as Error).message}`;
  }
}

