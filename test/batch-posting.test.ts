/**
 * Batched ingest: `postTransactions` writes a batch in one database
 * transaction, all or nothing, with the same events a sequence of single posts would
 * give; concurrent single posts are group-committed and each keeps its own outcome.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

describe.each(BACKENDS)('batched posting on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const f = serverOn(backend, { MAX_BATCH_SIZE: '400' });

    it('writes a batch across owners in order, with the events single posts would give, and live subscribers get them all', async () => {
      const [alice, bob] = [ownerId('alice'), ownerId('bob')];
      const aliceWallet = await f.ops.createWallet(alice);
      const bobWallet = await f.ops.createWallet(bob, 'USD');
      const client = wsClient(f.server.wsUrl, await token(alice));
      const live = subscribeWs(client, `subscription { walletEvents { sequence type ... on BalanceEvent { balance { ledger } } } }`);
      await waitUntil(() => f.server.app.stats().subscriptions === 1);

      const inputs = Array.from({ length: 300 }, (_, i) => ({
        walletId: i % 3 === 2 ? bobWallet.id : aliceWallet.id,
        direction: 'CREDIT' as const,
        amount: String(i + 1),
        status: 'SUCCESS' as const,
        description: `item ${i}`,
      }));
      const res = await f.ops.postBatchRaw(inputs);
      expect(res.errors).toBeUndefined();
      const results = res.data!.postTransactions;
      expect(results.map((r) => r.transaction.description)).toEqual(inputs.map((input) => input.description));
      expect(results.every((r) => r.replayed === false)).toBe(true);

      const expected = (walletId: string) => inputs.filter((i) => i.walletId === walletId).reduce((sum, i) => sum + BigInt(i.amount), 0n);
      expect((await f.ops.wallet(aliceWallet.id)).balance.ledger).toBe(expected(aliceWallet.id).toString());
      expect((await f.ops.wallet(bobWallet.id)).balance.ledger).toBe(expected(bobWallet.id).toString());

      // Alice's log: CREATED, then (transaction, balance) per posting, gap-free, running balances.
      const log = await f.ops.log(alice);
      expect(log.map((e) => e.sequence)).toEqual(Array.from({ length: 401 }, (_, i) => i + 1));
      const balances = log.filter((e) => e.type === 'BALANCE').map((e) => BigInt(e.balance.ledger));
      expect(balances).toHaveLength(200);
      expect(balances.every((b, i) => i === 0 || b > balances[i - 1]!)).toBe(true);
      expect(log.filter((e) => e.type === 'TRANSACTION').map((e) => e.transaction.description)).toEqual(
        inputs.filter((i) => i.walletId === aliceWallet.id).map((i) => i.description),
      );
      const items = await live.waitFor(400);
      expect(items.map((e) => e.sequence)).toEqual(Array.from({ length: 400 }, (_, i) => i + 2));
      live.dispose();
      await client.dispose();
    });

    it('refuses the whole batch when one item is refused, names the item, and writes nothing', async () => {
      const owner = ownerId();
      const wallet = await f.ops.createWallet(owner);
      await f.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '100', status: 'SUCCESS' });
      const before = await f.ops.log(owner);

      const tooMuch = await f.ops.postBatchRaw([
        { walletId: wallet.id, direction: 'DEBIT', amount: '60', status: 'SUCCESS' },
        { walletId: wallet.id, direction: 'DEBIT', amount: '60', status: 'SUCCESS' },
      ]);
      expect(codes(tooMuch)).toEqual(['INSUFFICIENT_FUNDS']);
      expect(tooMuch.errors![0]!.extensions!.index).toBe(1);
      expect(tooMuch.errors![0]!.message).toMatch(/^inputs\[1\]/);

      const unknownWallet = await f.ops.postBatchRaw([
        { walletId: wallet.id, direction: 'CREDIT', amount: '1' },
        { walletId: randomUUID(), direction: 'CREDIT', amount: '1' },
      ]);
      expect(codes(unknownWallet)).toEqual(['NOT_FOUND']);
      expect(unknownWallet.errors![0]!.extensions!.index).toBe(1);

      const badAmount = await f.ops.postBatchRaw([
        { walletId: wallet.id, direction: 'CREDIT', amount: '1' },
        { walletId: wallet.id, direction: 'CREDIT', amount: '0' },
      ]);
      expect(codes(badAmount)).toEqual(['BAD_USER_INPUT']);
      expect(badAmount.errors![0]!.extensions!.index).toBe(1);

      const key = randomUUID();
      const sameKey = await f.ops.postBatchRaw([
        { walletId: wallet.id, direction: 'CREDIT', amount: '1', idempotencyKey: key },
        { walletId: wallet.id, direction: 'CREDIT', amount: '2', idempotencyKey: key },
      ]);
      expect(codes(sameKey)).toEqual(['BAD_USER_INPUT']);

      const tooLong = await f.ops.postBatchRaw(Array.from({ length: 401 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1' })));
      expect(codes(tooLong)).toEqual(['LIMIT_EXCEEDED']);
      expect(tooLong.errors![0]!.extensions!.limit).toBe(400);

      expect(await f.ops.log(owner)).toEqual(before);
      expect((await f.ops.wallet(wallet.id)).balance.ledger).toBe('100');
    });

    it('replays a retried batch item by item and appends nothing', async () => {
      const owner = ownerId();
      const wallet = await f.ops.createWallet(owner);
      const inputs = Array.from({ length: 5 }, (_, i) => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: String(i + 1), idempotencyKey: randomUUID() }));
      const first = await f.ops.postBatchRaw(inputs);
      const logAfterFirst = await f.ops.log(owner);
      const retry = await f.ops.postBatchRaw(inputs);
      expect(retry.errors).toBeUndefined();
      expect(retry.data!.postTransactions.map((r) => r.replayed)).toEqual([true, true, true, true, true]);
      expect(retry.data!.postTransactions.map((r) => r.transaction.id)).toEqual(first.data!.postTransactions.map((r) => r.transaction.id));
      expect(await f.ops.log(owner)).toEqual(logAfterFirst);
    });

    it('refuses batches from user tokens', async () => {
      const owner = ownerId();
      const wallet = await f.ops.createWallet(owner);
      const { producer } = await import('./support/ledger-ops.ts');
      const asUser = producer(f.server.url, await token(owner));
      expect(codes(await asUser.postBatchRaw([{ walletId: wallet.id, direction: 'CREDIT', amount: '1' }]))).toEqual(['FORBIDDEN']);
    });

    it('group-commits 60 concurrent single posts: each gets the outcome it would get alone', async () => {
      const owner = ownerId();
      const wallet = await f.ops.createWallet(owner);
      await f.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1000', status: 'SUCCESS' });
      const retriedKey = randomUUID();
      // 40 debits of 50 against 1,000: exactly 20 can succeed, whichever they are.
      const debits = Array.from({ length: 40 }, () => f.ops.postRaw({ walletId: wallet.id, direction: 'DEBIT', amount: '50', status: 'SUCCESS' }));
      const credits = Array.from({ length: 18 }, () => f.ops.postRaw({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'PENDING' }));
      const retried = [0, 1].map(() => f.ops.postRaw({ walletId: wallet.id, direction: 'CREDIT', amount: '7', idempotencyKey: retriedKey }));
      const [debitResults, creditResults, retriedResults] = await Promise.all([Promise.all(debits), Promise.all(credits), Promise.all(retried)]);

      const outcomes = debitResults.map((r) => (r.errors ? codes(r)[0] : 'OK'));
      expect(outcomes.filter((o) => o === 'OK')).toHaveLength(20);
      expect(outcomes.filter((o) => o === 'INSUFFICIENT_FUNDS')).toHaveLength(20);
      expect(creditResults.every((r) => r.errors === undefined)).toBe(true);
      expect(retriedResults.map((r) => r.data!.postTransaction.replayed).sort()).toEqual([false, true]);
      expect(retriedResults[0]!.data!.postTransaction.transaction.id).toBe(retriedResults[1]!.data!.postTransaction.transaction.id);

      const balance = (await f.ops.wallet(wallet.id)).balance;
      expect(balance).toMatchObject({ ledger: '0', pending: '0', available: '0' });
      const log = await f.ops.log(owner);
      expect(log.map((e) => e.sequence)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
      // CREATED, the top-up (2), 20 debits (2 each), 18 + 1 pending credits (1 each: nothing moves).
      expect(log).toHaveLength(1 + 2 + 40 + 19);
    });
  });
});
