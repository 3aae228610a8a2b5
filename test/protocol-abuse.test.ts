/**
 * Bad input on the wire: each malformed WebSocket
 * message gets the close code the graphql-transport-ws protocol prescribes; 3,000
 * connection_init attempts with bad tokens are each refused; malformed HTTP requests get
 * a clear 4xx. Throughout, the server stays up and an honest subscriber receives every
 * event, promptly.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BACKENDS, label } from './support/backends.ts';
import { subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

async function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

describe.each(BACKENDS)('protocol abuse on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { WS_MAX_MESSAGE_BYTES: '4096' });

    it('answers each malformed message as the protocol says while honest traffic flows', async () => {
      const owner = ownerId('honest');
      const wallet = await t.ops.createWallet(owner);
      const honest = subscribeWs(wsClient(t.server.wsUrl, await token(owner)), 'subscription { walletEvents { sequence occurredAt } }');
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      const bearer = await token(ownerId('abuser'));

      const cases: [string, (socket: WebSocket) => void | Promise<void>, number][] = [
        ['non-JSON', (s) => s.send('this is not json'), 4400],
        ['an unknown message type', (s) => s.send(JSON.stringify({ type: 'shout' })), 4400],
        ['subscribe before connection_init', (s) => s.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }' } })), 4401],
        [
          'a duplicate operation id',
          async (s) => {
            s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
            await new Promise((resolve) => s.once('message', resolve));
            const subscribe = JSON.stringify({ id: 'dup', type: 'subscribe', payload: { query: 'subscription { walletEvents { eventId } }' } });
            s.send(subscribe);
            s.send(subscribe);
          },
          4409,
        ],
        [
          'a second connection_init',
          (s) => {
            s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
            s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
          },
          4429,
        ],
        ['an oversized frame', (s) => s.send('x'.repeat(10_000)), 1009],
      ];
      const got: Record<string, number> = {};
      let posted = 0;
      for (const [name, act, _code] of cases) {
        const socket = await open(t.server.wsUrl);
        const code = closed(socket);
        await act(socket);
        got[name] = await code;
        await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
        posted++;
      }
      expect(got).toEqual(Object.fromEntries(cases.map(([name, , code]) => [name, code])));

      // 3,000 connection_init attempts with bad tokens, 100 at a time, while events are posted.
      const started = Date.now();
      let refused = 0;
      for (let round = 0; round < 30; round++) {
        const batch = Array.from({ length: 100 }, async () => {
          const socket = await open(t.server.wsUrl);
          const code = closed(socket);
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-token' } }));
          if ((await code) === 4401) refused++;
        });
        if (round % 6 === 0) {
          await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
          posted++;
        }
        await Promise.all(batch);
      }
      expect(refused).toBe(3_000);

      // The honest subscriber got every event (2 per post), in order, each within a second of its commit.
      const events = await honest.waitFor(posted * 2);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: posted * 2 }, (_, i) => i + 2));
      expect(Date.now() - started).toBeLessThan(120_000);
      honest.dispose();
      expect((await fetch(`http://127.0.0.1:${t.server.port}/health`)).status).toBe(200);
    });

    it('answers malformed HTTP requests with a 4xx and a clear error', async () => {
      // The GraphQL-over-HTTP media type: request errors get 4xx (legacy application/json gets 200).
      const accept = 'application/graphql-response+json';
      const post = (body: string) =>
        fetch(t.server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${t.serviceToken}` }, body });
      const broken = await post('{ "query": ');
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
      const noQuery = await post(JSON.stringify({ variables: {} }));
      expect(noQuery.status).toBe(400);
      const mutationOverGet = await fetch(`${t.server.url}?query=${encodeURIComponent('mutation { closeWallet(id: "x", reason: "y") { id } }')}`, { headers: { accept, authorization: `Bearer ${t.serviceToken}` } });
      expect(mutationOverGet.status).toBe(405);
      const badVariables = await post(JSON.stringify({ query: 'query($id: ID!) { wallet(id: $id) { id } }', variables: 'nope' }));
      expect(badVariables.status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${t.server.port}/ready`)).status).toBe(200);
    });
  });
});
