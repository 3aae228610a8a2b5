/**
 * graphql-sse's single-connection mode (issue: at-least-once delivery, SSE scope): one
 * event stream at /graphql/stream carries several operations, authenticated by header,
 * each receiving only its owner's events with their cursors. Every request there needs a
 * valid bearer token: an anonymous or forged stream reservation (PUT) is refused with 401.
 */
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { waitUntil } from './support/clients.ts';
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
  });
});
