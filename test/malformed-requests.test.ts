/**
 * Requests that are malformed or out of bounds, as a careless or hostile client sends them:
 * each is refused with a code from the error table (never INTERNAL_SERVER_ERROR, never a
 * guess at what was meant) and changes nothing. Every event stream of a subscription at
 * `/graphql` is the resumable one, whatever the client's `Accept` header.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../src/domain/errors.ts';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const POST = 'mutation($input: PostTransactionInput!) { postTransaction(input: $input) { transaction { id } } }';
const EVENTS = 'subscription($w: ID) { walletEvents(walletId: $w) { eventId sequence } }';

/** The body of a streaming response read until `done` says so (or the stream ends), then cancelled. */
async function readStream(res: Response, done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(text) && Date.now() < deadline) {
      const next = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(1, deadline - Date.now())))]);
      if (!next || next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text;
}

describe.each(BACKENDS)('malformed requests on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { MAX_REQUEST_BYTES: '1500000' });
    let owner: string;
    let walletId: string;
    let ownerToken: string;

    beforeAll(async () => {
      owner = ownerId('malformed');
      walletId = (await t.ops.createWallet(owner)).id;
      await t.ops.post({ walletId, direction: 'CREDIT', amount: '1000', status: 'SUCCESS' });
      ownerToken = await token(owner);
    });

    const state = async () => ({ wallet: await t.ops.wallet(walletId), log: await t.ops.log(owner) });
    const valid = () => ({ walletId, direction: 'DEBIT', type: 'PAYMENT', amount: '10', idempotencyKey: `k-${Math.random()}` });

    it('refuses text holding an unpaired surrogate, in variables and in literals, and changes nothing', async () => {
      const before = await state();
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), idempotencyKey: 'a\ud800b' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), description: 'x\udc00' } }))).toEqual(['BAD_USER_INPUT']);
      const literal = `mutation { postTransaction(input: { walletId: "${walletId}", direction: DEBIT, type: PAYMENT, amount: "10", idempotencyKey: "a\\ud800b" }) { transaction { id } } }`;
      // In a literal, graphql-js's parser already refuses the escape.
      expect(codes(await gql(t.server.url, t.serviceToken, literal))).toEqual(['GRAPHQL_PARSE_FAILED']);
      expect(await state()).toEqual(before);
    });

    it('refuses a DEPOSIT that is a DEBIT (and a WITHDRAWAL or FEE that is a CREDIT), and changes nothing', async () => {
      const before = await state();
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), type: 'DEPOSIT', direction: 'DEBIT' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), type: 'WITHDRAWAL', direction: 'CREDIT' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), type: 'FEE', direction: 'CREDIT' } }))).toEqual(['BAD_USER_INPUT']);
      expect(await state()).toEqual(before);
      // Seen from either side, a transfer, a payment or a refund takes either direction.
      expect(codes(await gql(t.server.url, t.serviceToken, POST, { input: { ...valid(), type: 'REFUND', direction: 'CREDIT', amount: '1' } }))).toEqual([]);
    });

    it('refuses a currency that is not an ISO 4217 code in use', async () => {
      expect(codes(await t.ops.createWalletRaw(ownerId('zzz'), 'ZZZ'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await t.ops.createWalletRaw(ownerId('usd'), 'USD'))).toEqual([]);
    });

    it('refuses a list argument longer than MAX_LIST_ITEMS instead of one query parameter per item', async () => {
      const res = await gql(t.server.url, ownerToken, 'query($t: [WalletEventType!]) { events(types: $t) { edges { cursor } } }', { t: Array.from({ length: 70_000 }, () => 'TRANSACTION') });
      expect(res.status).toBe(200);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses a list literal nested 2,000 deep over HTTP and graphql-ws with LIMIT_EXCEEDED, and still serves', async () => {
      const deep = `{ events(types: ${'['.repeat(2_000)}${']'.repeat(2_000)}) { edges { cursor } } }`;
      expect(codes(await gql(t.server.url, ownerToken, deep))).toEqual(['LIMIT_EXCEEDED']);
      const client = wsClient(t.server.wsUrl, ownerToken);
      const sub = subscribeWs(client, `subscription { walletEvents(types: ${'['.repeat(2_000)}${']'.repeat(2_000)}) { eventId } }`);
      await sub.ended;
      expect((sub.errors[0] as { extensions: { code: string } }[])[0]!.extensions.code).toBe('LIMIT_EXCEEDED');
      await client.dispose();
      expect(codes(await gql(t.server.url, ownerToken, '{ me { id } }'))).toEqual([]);
    });

    it('answers a GET with malformed variables 400 BAD_REQUEST, whatever it accepts', async () => {
      const url = `${t.server.url}?query=${encodeURIComponent('query($w: ID) { events(walletId: $w) { edges { cursor } } }')}&variables=%7Bbad`;
      const res = await fetch(url, { headers: { accept: 'application/json', authorization: `Bearer ${ownerToken}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
    });

    it('refuses malformed parameters of an event stream instead of opening a wider one', async () => {
      const query = encodeURIComponent(EVENTS);
      const cases = [`query=${query}&variables=%7Bbad`, `query=${query}&variables=%5B1%2C2%5D`, `query=${query}&extensions=nope`, `query=${query}&query=${query}`];
      for (const params of cases) {
        const res = await fetch(`${t.server.url}?${params}&token=${ownerToken}`, { headers: { accept: 'text/event-stream' } });
        const text = await readStream(res, (body) => body.includes('BAD_REQUEST'));
        expect(text, params).toContain('"code":"BAD_REQUEST"');
        expect(text, params).not.toContain('"sequence"');
      }
    });

    it('caps POST /graphql bodies at MAX_REQUEST_BYTES and wants their length up front', async () => {
      const padded = JSON.stringify({ query: `{ me { id } }${' '.repeat(1_600_000)}` });
      const big = await fetch(t.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` }, body: padded });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
      const chunked = await fetch(t.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` },
        body: new Blob([JSON.stringify({ query: '{ me { id } }' })]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(411);
      expect(codes(await gql(t.server.url, ownerToken, `{ me { id } }${' '.repeat(1_400_000)}`))).toEqual([]);
    });

    it('drops a POST whose client leaves mid-body, and goes on serving', async () => {
      const { host, port } = new URL(t.server.url);
      const socket = connect({ host: host.split(':')[0], port: Number(port) });
      await once(socket, 'connect');
      socket.write(`POST /graphql HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nAuthorization: Bearer ${ownerToken}\r\n\r\n{"query": "{ me`);
      socket.destroy(); // 1,000 bytes announced, 15 sent
      expect(codes(await gql(t.server.url, ownerToken, '{ me { id } }'))).toEqual([]);
    });

    it('answers malformed JSON and a body of another type with codes from the table', async () => {
      const headers = { authorization: `Bearer ${ownerToken}` };
      const broken = await fetch(t.server.url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"query": ' });
      expect(broken.status).toBe(400);
      const brokenCode = ((await broken.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;
      expect(Object.keys(ERRORS)).toContain(brokenCode);
      const untyped = await fetch(t.server.url, { method: 'POST', headers, body: JSON.stringify({ query: '{ me { id } }' }) });
      expect(untyped.status).toBe(415);
      expect(((await untyped.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('serves a streaming GET without Accept: text/event-stream as the same resumable stream', async () => {
      const url = `${t.server.url}?query=${encodeURIComponent(EVENTS)}&token=${ownerToken}`;
      const first = await fetch(url);
      expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      const posted = t.ops.post({ walletId, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      const text = await readStream(first, (body) => /^id: /m.test(body) && body.includes('"sequence"'));
      await posted;
      expect(text).toMatch(/^retry: \d+/m);
      const lastId = /^id: (.+)$/m.exec(text)![1]!;
      // Resumed with Last-Event-ID, as an EventSource (or curl -H) would: what came after it is replayed.
      await t.ops.post({ walletId, direction: 'CREDIT', amount: '6', status: 'SUCCESS' });
      const resumed = await fetch(url, { headers: { 'last-event-id': lastId } });
      const replay = await readStream(resumed, (body) => body.includes('"sequence"'));
      const firstSequence = Number(/"sequence":(\d+)/.exec(text)![1]);
      expect(Number(/"sequence":(\d+)/.exec(replay)![1])).toBe(firstSequence + 1);
    });
  });
});
