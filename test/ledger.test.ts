/**
 * Ledger rules: balance invariants after a random walk
 * of 200 operations checked against an independent model; every refusal leaves rows and
 * the log unchanged; idempotent retries return the same transaction; Money is exact.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { codes, gqlData, type Response } from './support/clients.ts';
import { ownerId } from './support/ledger-ops.ts';
import { seededRandom } from './support/random.ts';
import { token } from './support/tokens.ts';

interface ModelTxn {
  id: string;
  walletId: string;
  direction: 'CREDIT' | 'DEBIT';
  amount: bigint;
  status: 'PENDING' | 'SUCCESS' | 'FAILED' | 'REVERSED';
}

interface ModelWallet {
  id: string;
  frozen: boolean;
}

/** The model's balances, computed from transactions alone (not from the server's figures). */
function modelBalances(txns: ModelTxn[], walletId: string) {
  let ledger = 0n;
  let pending = 0n;
  for (const t of txns.filter((x) => x.walletId === walletId)) {
    const sign = t.direction === 'CREDIT' ? 1n : -1n;
    if (t.status === 'SUCCESS') ledger += sign * t.amount;
    if (t.status === 'PENDING' && t.direction === 'DEBIT') pending += t.amount;
  }
  return { ledger, pending, available: ledger - pending };
}

describe.each(BACKENDS)('ledger on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    /** Everything a refusal must leave untouched. */
    async function snapshot(owner: string, walletIds: string[]) {
      const wallets = await Promise.all(walletIds.map((id) => t.ops.wallet(id)));
      const log = await t.ops.log(owner);
      return { wallets, logLength: log.length, lastEventId: log.at(-1)?.eventId };
    }

    it('keeps the balance invariants through 200 random operations, and refuses exactly what the rules refuse', async () => {
      const seed = Number(process.env.LEDGER_SEED ?? 20261122);
      const rnd = seededRandom(seed);
      const owner = ownerId('walk');
      const wallets: ModelWallet[] = [];
      for (let i = 0; i < 3; i++) wallets.push({ id: (await t.ops.createWallet(owner)).id, frozen: false });
      const txns: ModelTxn[] = [];
      let refusals = 0;

      for (let step = 0; step < 200; step++) {
        const wallet = rnd.pick(wallets);
        const kind = rnd.pick(['credit', 'credit', 'debit', 'debit', 'settle', 'settle', 'reverse', 'freeze'] as const);
        const context = `seed ${seed}, step ${step}, ${kind}`;
        const model = modelBalances(txns, wallet.id);
        let expected: string | null = null; // the refusal code the rules demand, or null
        let act: () => Promise<Response<any>>;
        let apply: (data: any) => void = () => {};

        if (kind === 'credit' || kind === 'debit') {
          const direction = kind === 'credit' ? 'CREDIT' : 'DEBIT';
          const amount = BigInt(rnd.int(1, 5000));
          const status = rnd.pick(['PENDING', 'SUCCESS'] as const);
          if (wallet.frozen) expected = 'WALLET_FROZEN';
          else if (direction === 'DEBIT' && amount > model.available) expected = 'INSUFFICIENT_FUNDS';
          act = () => t.ops.postRaw({ walletId: wallet.id, direction, amount: amount.toString(), status });
          apply = (data) => txns.push({ id: data.postTransaction.transaction.id, walletId: wallet.id, direction, amount, status });
        } else if (kind === 'settle') {
          const candidates = txns.filter((t) => t.status === 'PENDING');
          if (candidates.length === 0) continue;
          const txn = rnd.pick(candidates);
          const to = rnd.pick(['SUCCESS', 'FAILED'] as const);
          if (wallets.find((w) => w.id === txn.walletId)!.frozen) expected = 'WALLET_FROZEN';
          act = () => t.ops.settleRaw(txn.id, to);
          apply = () => (txn.status = to);
        } else if (kind === 'reverse') {
          const candidates = txns.filter((t) => t.status === 'SUCCESS');
          if (candidates.length === 0) continue;
          const txn = rnd.pick(candidates);
          const walletOf = wallets.find((w) => w.id === txn.walletId)!;
          if (walletOf.frozen) expected = 'WALLET_FROZEN';
          else if (txn.direction === 'CREDIT' && txn.amount > modelBalances(txns, txn.walletId).available) expected = 'INSUFFICIENT_FUNDS';
          act = () => t.ops.reverseRaw(txn.id);
          apply = () => (txn.status = 'REVERSED');
        } else {
          act = () => (wallet.frozen ? t.ops.unfreezeRaw(wallet.id) : t.ops.freezeRaw(wallet.id));
          apply = () => (wallet.frozen = !wallet.frozen);
        }

        const before = expected ? await snapshot(owner, wallets.map((w) => w.id)) : null;
        const res = await act();
        if (expected) {
          refusals++;
          expect(codes(res), context).toEqual([expected]);
          expect(await snapshot(owner, wallets.map((w) => w.id)), context).toEqual(before);
        } else {
          expect(res.errors, context).toBeUndefined();
          apply(res.data);
        }
      }

      for (const w of wallets) {
        const actual = await t.ops.wallet(w.id);
        const model = modelBalances(txns, w.id);
        expect(actual.balance, `wallet ${w.id}`).toMatchObject({ ledger: `${model.ledger}`, pending: `${model.pending}`, available: `${model.available}` });
        expect(BigInt(actual.balance.available)).toBeGreaterThanOrEqual(0n);
        expect(BigInt(actual.balance.available)).toBe(BigInt(actual.balance.ledger) - BigInt(actual.balance.pending));
        // The last BalanceEvent of each wallet carries the same figures as the row.
        const log = await t.ops.log(owner);
        const lastBalance = log.filter((e) => e.__typename === 'BalanceEvent' && e.walletId === w.id).at(-1);
        if (lastBalance) expect(lastBalance.balance).toEqual(actual.balance);
      }
      // The walk must have exercised refusals for the test to mean anything.
      expect(refusals).toBeGreaterThan(5);
      expect(txns.some((t) => t.status === 'REVERSED')).toBe(true);
      expect(txns.some((t) => t.status === 'FAILED')).toBe(true);
    });

    it('returns the same transaction for an idempotent retry and refuses a different input under the same key', async () => {
      const owner = ownerId('idem');
      const wallet = await t.ops.createWallet(owner);
      const key = `order-${randomUUID()}`;
      const input = { walletId: wallet.id, direction: 'CREDIT' as const, amount: '2500', idempotencyKey: key, description: 'top-up' };
      const first = await t.ops.postRaw(input);
      const logAfterFirst = await t.ops.log(owner);
      const retry = await t.ops.postRaw(input);
      expect(retry.data!.postTransaction.replayed).toBe(true);
      expect(first.data!.postTransaction.replayed).toBe(false);
      expect(retry.data!.postTransaction.transaction).toEqual(first.data!.postTransaction.transaction);
      expect(await t.ops.log(owner)).toEqual(logAfterFirst);

      const conflict = await t.ops.postRaw({ ...input, amount: '2600' });
      expect(codes(conflict)).toEqual(['IDEMPOTENCY_CONFLICT']);
      expect(await t.ops.log(owner)).toEqual(logAfterFirst);

      // Ten concurrent retries of a new key create exactly one transaction.
      const key2 = `order-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 10 }, () => t.ops.postRaw({ ...input, idempotencyKey: key2 })));
      const ids = new Set(results.map((r) => r.data?.postTransaction.transaction.id));
      expect(results.every((r) => !r.errors)).toBe(true);
      expect(ids.size).toBe(1);
      expect(results.filter((r) => r.data!.postTransaction.replayed === false)).toHaveLength(1);
      const txns = await gqlData(t.server.url, await token(owner), `query($w: ID!) { transactions(walletId: $w, first: 50) { edges { node { id } } } }`, { w: wallet.id });
      expect(txns.transactions.edges).toHaveLength(2);
    });

    it('keeps amounts exact beyond 2^53 and accepts Money as an Int or a string', async () => {
      const owner = ownerId('whale');
      const wallet = await t.ops.createWallet(owner, 'USD');
      const big = 2n ** 60n + 7n; // far above Number.MAX_SAFE_INTEGER
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: big.toString(), status: 'SUCCESS' });
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: 3, status: 'SUCCESS' });
      const hold = await t.ops.post({ walletId: wallet.id, direction: 'DEBIT', amount: (2n ** 59n).toString() });
      expect(hold.amount).toBe((2n ** 59n).toString());
      const after = await t.ops.wallet(wallet.id);
      expect(after.balance).toEqual({
        ledger: (big + 3n).toString(),
        pending: (2n ** 59n).toString(),
        available: (big + 3n - 2n ** 59n).toString(),
        currency: 'USD',
      });
    });

    it('settles and reverses idempotently, and refuses transitions the lifecycle does not allow', async () => {
      const owner = ownerId('life');
      const wallet = await t.ops.createWallet(owner);
      const credit = await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1000' });
      expect((await t.ops.settleRaw(credit.id, 'SUCCESS')).data!.settleTransaction.status).toBe('SUCCESS');
      const logLength = (await t.ops.log(owner)).length;
      expect((await t.ops.settleRaw(credit.id, 'SUCCESS')).data!.settleTransaction.status).toBe('SUCCESS');
      expect((await t.ops.log(owner)).length).toBe(logLength);
      expect(codes(await t.ops.settleRaw(credit.id, 'FAILED'))).toEqual(['INVALID_TRANSITION']);
      expect((await t.ops.reverseRaw(credit.id)).data!.reverseTransaction).toMatchObject({ status: 'REVERSED', reversalReason: 'chargeback' });
      expect(codes(await t.ops.settleRaw(credit.id, 'SUCCESS'))).toEqual(['INVALID_TRANSITION']);
      const pending = await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5' });
      expect(codes(await t.ops.reverseRaw(pending.id))).toEqual(['INVALID_TRANSITION']);
      expect((await t.ops.wallet(wallet.id)).balance).toMatchObject({ ledger: '0', pending: '0', available: '0' });
    });
  });
});
