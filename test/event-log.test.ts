/**
 * The event log: every change appends exactly the
 * events it should, and each owner's sequences are 1..N with no gap, even under 50
 * concurrent posts.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { codes } from './support/clients.ts';
import { ownerId } from './support/ledger-ops.ts';

describe.each(BACKENDS)('event log on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    /**
     * Runs `change` and returns the (typename, detail) pairs it appended to the owner's log
     * (`isNew`: the owner has no wallet yet, so it is in no tenant and has no log to read).
     */
    async function appendedBy(owner: string, change: () => Promise<unknown>, isNew = false) {
      const before = isNew ? 0 : (await t.ops.log(owner)).length;
      await change();
      const log = await t.ops.log(owner);
      return log.slice(before).map((e) => {
        if (e.__typename === 'TransactionEvent') return `txn ${e.previousStatus ?? 'new'}>${e.transaction.status}`;
        if (e.__typename === 'BalanceEvent') return `balance ${e.balance.ledger}/${e.balance.pending}`;
        return `status ${e.change}`;
      });
    }

    it('appends exactly the events each change implies', async () => {
      const owner = ownerId('log');
      let walletId = '';
      expect(await appendedBy(owner, async () => (walletId = (await t.ops.createWallet(owner)).id), true)).toEqual(['status CREATED']);

      let credit: any;
      // A pending credit moves no money yet: no balance event.
      expect(await appendedBy(owner, async () => (credit = await t.ops.post({ walletId, direction: 'CREDIT', amount: '1000' })))).toEqual(['txn new>PENDING']);
      expect(await appendedBy(owner, () => t.ops.settleRaw(credit.id, 'SUCCESS'))).toEqual(['txn PENDING>SUCCESS', 'balance 1000/0']);
      expect(await appendedBy(owner, () => t.ops.settleRaw(credit.id, 'SUCCESS'))).toEqual([]); // idempotent repeat

      let debit: any;
      expect(await appendedBy(owner, async () => (debit = await t.ops.post({ walletId, direction: 'DEBIT', amount: '300' })))).toEqual([
        'txn new>PENDING',
        'balance 1000/300',
      ]);
      expect(await appendedBy(owner, () => t.ops.settleRaw(debit.id, 'FAILED'))).toEqual(['txn PENDING>FAILED', 'balance 1000/0']);

      const failedCredit = await t.ops.post({ walletId, direction: 'CREDIT', amount: '50' });
      expect(await appendedBy(owner, () => t.ops.settleRaw(failedCredit.id, 'FAILED'))).toEqual(['txn PENDING>FAILED']);

      const spent = await t.ops.post({ walletId, direction: 'DEBIT', amount: '400', status: 'SUCCESS' });
      expect(await appendedBy(owner, () => t.ops.reverseRaw(spent.id))).toEqual(['txn SUCCESS>REVERSED', 'balance 1000/0']);
      expect(await appendedBy(owner, () => t.ops.freezeRaw(walletId))).toEqual(['status FROZEN']);
      expect(await appendedBy(owner, () => t.ops.freezeRaw(walletId))).toEqual([]); // already frozen
      expect(await appendedBy(owner, async () => expect(codes(await t.ops.postRaw({ walletId, direction: 'CREDIT', amount: '1' }))).toEqual(['WALLET_FROZEN']))).toEqual([]);
      expect(await appendedBy(owner, () => t.ops.unfreezeRaw(walletId))).toEqual(['status UNFROZEN']);

      const log = await t.ops.log(owner);
      expect(log.map((e) => e.sequence)).toEqual(log.map((_, i) => i + 1));
    });

    it('keeps sequences gap-free and unique under 50 concurrent posts for one owner', async () => {
      const owner = ownerId('burst');
      const wallets = [await t.ops.createWallet(owner), await t.ops.createWallet(owner)];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => t.ops.postRaw({ walletId: wallets[i % 2]!.id, direction: 'CREDIT', amount: String(i + 1), status: 'SUCCESS' })),
      );
      expect(results.filter((r) => r.errors)).toEqual([]);
      const log = await t.ops.log(owner);
      // 2 CREATED + 50 × (transaction + balance)
      expect(log).toHaveLength(102);
      expect(log.map((e) => e.sequence)).toEqual(Array.from({ length: 102 }, (_, i) => i + 1));
      expect(new Set(log.map((e) => e.eventId)).size).toBe(102);
      expect(new Set(log.map((e) => e.cursor)).size).toBe(102);
      // Commit order = sequence order: each wallet's successive balance events only grow.
      for (const wallet of wallets) {
        const ledgers = log.filter((e) => e.__typename === 'BalanceEvent' && e.walletId === wallet.id).map((e) => BigInt(e.balance.ledger));
        expect(ledgers).toEqual([...ledgers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        expect(ledgers.at(-1)).toBe(BigInt((await t.ops.wallet(wallet.id)).balance.ledger));
      }
    });
  });
});
