/**
 * Live delivery: a subscriber receives exactly its
 * owner's events, in sequence order, with each filter honoured, over graphql-ws and SSE.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { subscribeSse, subscribeWs, waitUntil, wsClient, type Collector } from './support/clients.ts';
import { EVENT_FIELDS, ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

describe.each(BACKENDS)('live delivery on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    type Transport = 'ws' | 'sse';
    const transports: Transport[] = ['ws', 'sse'];

    async function subscribe(transport: Transport, subject: string, query: string, variables: Record<string, unknown> = {}): Promise<Collector<any>> {
      const before = t.server.app.stats().subscriptions;
      const userToken = await token(subject);
      const sub = transport === 'ws' ? subscribeWs(wsClient(t.server.wsUrl, userToken), query, variables) : subscribeSse(t.server.url, userToken, query, variables);
      // Live streams start at the log head once attached; wait for that before producing.
      await waitUntil(() => t.server.app.stats().subscriptions > before);
      return sub;
    }

    it.each(transports)('delivers exactly the owner’s events, in sequence order (%s)', async (transport) => {
      const alice = ownerId('alice');
      const bob = ownerId('bob');
      const aliceWallet = await t.ops.createWallet(alice);
      const bobWallet = await t.ops.createWallet(bob);
      const sub = await subscribe(transport, alice, `subscription { walletEvents { ${EVENT_FIELDS} } }`);

      const credit = await t.ops.post({ walletId: aliceWallet.id, direction: 'CREDIT', amount: '5000', status: 'SUCCESS' });
      await t.ops.post({ walletId: bobWallet.id, direction: 'CREDIT', amount: '700', status: 'SUCCESS' });
      const debit = await t.ops.post({ walletId: aliceWallet.id, direction: 'DEBIT', amount: '1200' });
      await t.ops.settleRaw(debit.id, 'SUCCESS');
      await t.ops.freezeRaw(aliceWallet.id);

      // credit: txn+balance, debit: txn+balance, settle: txn+balance, freeze: status = 7
      const events = await sub.waitFor(7);
      sub.dispose();
      const log = await t.ops.log(alice);
      const live = log.filter((e) => e.sequence > 1); // sequence 1 is CREATED, before subscribing
      expect(events).toEqual(live);
      expect(events.every((e) => e.ownerId === alice)).toBe(true);
      expect(events.map((e) => e.sequence)).toEqual([2, 3, 4, 5, 6, 7, 8]);
      expect(events.map((e) => e.__typename)).toEqual([
        'TransactionEvent',
        'BalanceEvent',
        'TransactionEvent',
        'BalanceEvent',
        'TransactionEvent',
        'BalanceEvent',
        'WalletStatusEvent',
      ]);
      expect(events[0].transaction).toMatchObject({ id: credit.id, amount: '5000', status: 'SUCCESS' });
      expect(events[5].balance).toEqual({ available: '3800', ledger: '3800', pending: '0', currency: 'NGN' });
      expect(events[6]).toMatchObject({ change: 'FROZEN', status: 'FROZEN', reason: 'compliance review' });
      for (const event of events) {
        expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
        expect(typeof event.cursor).toBe('string');
        expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
        expect(event.walletId).toBe(aliceWallet.id);
      }
    });

    it.each(transports)('honours transactionUpdated filters: status, min/max amount, currency, walletId (%s)', async (transport) => {
      const owner = ownerId('carol');
      const ngn = await t.ops.createWallet(owner, 'NGN');
      const usd = await t.ops.createWallet(owner, 'USD');
      const sub = await subscribe(
        transport,
        owner,
        `subscription($w: ID, $s: [TransactionStatus!], $min: Money, $max: Money, $c: String) {
          transactionUpdated(walletId: $w, status: $s, minAmount: $min, maxAmount: $max, currency: $c) { sequence transaction { amount status currency walletId } }
        }`,
        { w: ngn.id, s: ['SUCCESS'], min: '100', max: 1000, c: 'NGN' },
      );
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '50', status: 'SUCCESS' }); // below min
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '5000', status: 'SUCCESS' }); // above max
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '300' }); // PENDING
      await t.ops.post({ walletId: usd.id, direction: 'CREDIT', amount: '300', status: 'SUCCESS' }); // other wallet
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '100', status: 'SUCCESS' }); // matches (min inclusive)
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '1000', status: 'SUCCESS' }); // matches (max inclusive)
      const [first, second] = await sub.waitFor(2);
      // A third matching event proves nothing unmatched slipped in between.
      await t.ops.post({ walletId: ngn.id, direction: 'CREDIT', amount: '500', status: 'SUCCESS' });
      const items = await sub.waitFor(3);
      sub.dispose();
      expect(items.map((e) => e.transaction.amount)).toEqual(['100', '1000', '500']);
      expect(items.every((e) => e.transaction.status === 'SUCCESS' && e.transaction.walletId === ngn.id)).toBe(true);
      expect(first.sequence).toBeLessThan(second.sequence);
    });

    it.each(transports)('honours balanceChanged, walletStatus and walletEvents(types, filter) (%s)', async (transport) => {
      const owner = ownerId('dave');
      const a = await t.ops.createWallet(owner, 'NGN');
      const b = await t.ops.createWallet(owner, 'USD');
      const balances = await subscribe(transport, owner, `subscription($c: String) { balanceChanged(currency: $c) { walletId balance { available currency } } }`, { c: 'USD' });
      const statuses = await subscribe(transport, owner, `subscription($w: ID) { walletStatus(walletId: $w) { walletId change status } }`, { w: a.id });
      const mixed = await subscribe(
        transport,
        owner,
        `subscription { walletEvents(types: [TRANSACTION, WALLET_STATUS], filter: { direction: DEBIT }) { __typename ... on TransactionEvent { transaction { direction amount } } ... on WalletStatusEvent { change } } }`,
      );
      await t.ops.post({ walletId: a.id, direction: 'CREDIT', amount: '900', status: 'SUCCESS' });
      await t.ops.post({ walletId: b.id, direction: 'CREDIT', amount: '400', status: 'SUCCESS' });
      await t.ops.post({ walletId: a.id, direction: 'DEBIT', amount: '100', status: 'SUCCESS' });
      await t.ops.freezeRaw(b.id);
      await t.ops.freezeRaw(a.id);

      expect(await balances.waitFor(1)).toEqual([{ walletId: b.id, balance: { available: '400', currency: 'USD' } }]);
      expect(await statuses.waitFor(1)).toEqual([{ walletId: a.id, change: 'FROZEN', status: 'FROZEN' }]);
      const items = await mixed.waitFor(3);
      expect(items).toEqual([
        { __typename: 'TransactionEvent', transaction: { direction: 'DEBIT', amount: '100' } },
        { __typename: 'WalletStatusEvent', change: 'FROZEN' },
        { __typename: 'WalletStatusEvent', change: 'FROZEN' },
      ]);
      // Nothing further arrived on the narrower streams after the last event was delivered.
      expect(balances.items).toHaveLength(1);
      expect(statuses.items).toHaveLength(1);
      for (const sub of [balances, statuses, mixed]) sub.dispose();
    });
  });
});
