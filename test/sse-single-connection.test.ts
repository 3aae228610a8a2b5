/**
 * graphql-sse's single-connection mode: one
 * event stream at /graphql/stream carries several operations, authenticated by header,
 * each receiving only its owner's events with their cursors. Every request there needs a
 * valid bearer token: an anonymous or forged stream reservation (PUT) is refused with 401.
 * Its streams share the limits of every other connection: per-owner slots, the
 * per-connection operation limit, and backpressure (a reader that stops reading while
 * thousands of events pass is a long run: test/faults/sse-paused-reader.fault.ts).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { waitUntil } from './support/clients.ts';
import { openStream, reserve } from './support/sse-stream.ts';
import { mintToken } from '../src/auth/mint.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

describe.each(BACKENDS)('graphql-sse single connection on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('carries two subscriptions over one stream, each with its filter and cursors', async () => {
      const owner = ownerId('single');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const client = createClient({
        url: `http://127.0.0.1:${t.server.port}/graphql/stream`,
        singleConnection: true,
        headers: { authorization: `Bearer ${userToken}` },
      });
      const txns: any[] = [];
      const balances: any[] = [];
      const errors: unknown[] = [];
      const sink = (into: any[]) => ({ next: (result: any) => into.push(result), error: (e: unknown) => errors.push(e), complete: () => {} });
      const stopA = client.subscribe({ query: 'subscription { transactionUpdated { transaction { amount } } }' }, sink(txns));
      const stopB = client.subscribe({ query: 'subscription { balanceChanged { balance { available } } }' }, sink(balances));
      await waitUntil(() => t.server.app.stats().subscriptions === 2);

      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '42', status: 'SUCCESS' });
      await waitUntil(() => txns.length === 1 && balances.length === 1);
      stopA();
      stopB();
      client.dispose();
      expect(errors).toEqual([]);
      expect(txns[0].data).toEqual({ transactionUpdated: { transaction: { amount: '42' } } });
      expect(balances[0].data).toEqual({ balanceChanged: { balance: { available: '42' } } });
      expect(txns[0].extensions.sequence).toBe(2);
      expect(balances[0].extensions.sequence).toBe(3);
    });

    it('refuses stream reservations and operations without a valid token, and accepts them with one', async () => {
      const url = `http://127.0.0.1:${t.server.port}/graphql/stream`;
      const forged = await mintToken('another-secret-that-is-also-32-characters-long!', { subject: 'x', role: 'user', ttlSeconds: 60 });
      for (const authorization of [null, `Bearer ${forged}`, 'Bearer not-a-jwt']) {
        const res = await fetch(url, { method: 'PUT', headers: authorization ? { authorization } : {} });
        expect(res.status).toBe(401);
        const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
        expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      }
      const anonymousStream = await fetch(url, { headers: { accept: 'text/event-stream' } });
      expect(anonymousStream.status).toBe(401);
      const reserved = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${await token(ownerId('reserver'))}` } });
      expect(reserved.status).toBe(201);
      expect((await reserved.text()).length).toBeGreaterThan(0);
    });

    describe('limits', () => {
      const t = serverOn(backend, { MAX_CONNECTIONS_PER_OWNER: '2', MAX_SUBSCRIPTIONS_PER_CONNECTION: '10', CONNECTION_INIT_TIMEOUT: '500ms' });

      it('gives reservations per-owner slots: past MAX_CONNECTIONS_PER_OWNER a PUT gets 429, and a lapsed reservation frees its slot', async () => {
        const owner = ownerId('sse-slots');
        const bearer = await token(owner);
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await reserve(t.server, bearer)).status);
        expect(statuses).toEqual([201, 201, 429]);
        const refused = await reserve(t.server, bearer);
        expect(((await refused.json()) as any).errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 2 });
        // Unused reservations lapse after CONNECTION_INIT_TIMEOUT, and give their slots back.
        await waitUntil(async () => (await reserve(t.server, bearer)).status === 201, 5_000);
      });

      it('refuses an operation past MAX_SUBSCRIPTIONS_PER_CONNECTION with LIMIT_EXCEEDED, keeping the others', async () => {
        const owner = ownerId('sse-ops');
        const wallet = await t.ops.createWallet(owner);
        const stream = await openStream(t.server, await token(owner));
        const answers = [];
        for (let id = 1; id <= 11; id++) answers.push(await stream.post(String(id), 'subscription { walletEvents { sequence } }'));
        expect(answers.slice(0, 10).map((res) => res.status)).toEqual(Array(10).fill(202));
        expect(answers[10]!.status).toBe(429);
        expect(((await answers[10]!.json()) as any).errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 10 });
        await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
        await waitUntil(() => stream.nexts().length === 20);
        expect(new Set(stream.nexts().map((frame) => frame.id))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => String(i + 1))));
        stream.close();
      });
    });
  });
});

describe('an idle graphql-sse stream', () => {
  const t = serverOn(BACKENDS[0]!, { IDLE_TIMEOUT: '1s' });

  /** Reserves a stream and opens it; resolves with the response and when it ends. */
  async function openStream(bearer: string) {
    const url = `http://127.0.0.1:${t.server.port}/graphql/stream`;
    const reservation = await (await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${bearer}` } })).text();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': reservation, authorization: `Bearer ${bearer}` } }, resolve);
      req.on('error', reject);
      req.end();
    });
    response.resume();
    const ended = new Promise<void>((resolve) => response.once('close', () => resolve()));
    return { url, reservation, response, ended };
  }

  it('is closed after IDLE_TIMEOUT without an operation, like an idle WebSocket; one with an operation stays', async () => {
    const idleOwner = ownerId('idle-sse');
    const busyOwner = ownerId('busy-sse');
    const idle = await openStream(await token(idleOwner));
    const busyToken = await token(busyOwner);
    const busy = await openStream(busyToken);
    const accepted = await fetch(busy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${busyToken}`, 'x-graphql-event-stream-token': busy.reservation },
      body: JSON.stringify({ query: 'subscription { walletEvents { eventId } }', extensions: { operationId: 'op-1' } }),
    });
    expect(accepted.status).toBe(202);
    await idle.ended; // within a sweep or two of the timeout
    let busyEnded = false;
    void busy.ended.then(() => (busyEnded = true));
    // A whole idle timeout more, measured by a stream opened now being closed for idleness.
    const later = await openStream(await token(ownerId('idle-sse-later')));
    await later.ended;
    expect(busyEnded).toBe(false);
    busy.response.destroy();
  });
});
