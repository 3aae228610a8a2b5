/**
 * Isolation fuzz: 100 owners with wallets and
 * subscriptions with random filters over graphql-ws and SSE, ~2,500 random events. No
 * subscriber ever receives another owner's event, and each receives exactly what its
 * filters select — checked against the log with an independent implementation of the
 * filter rules.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { gqlData, subscribeSse, subscribeWs, waitUntil, wsClient, type Collector } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { seededRandom } from '../support/random.ts';
import { token } from '../support/tokens.ts';

type Rnd = ReturnType<typeof seededRandom>;
type LogEvent = { sequence: number; ownerId: string; walletId: string; type: string; transaction?: any; balance?: any; walletStatus?: any };

interface Spec {
  query: string;
  variables: Record<string, unknown>;
  /** The filter, re-implemented here from the API's documented semantics. */
  selects: (event: LogEvent, currencyOf: (walletId: string) => string) => boolean;
}

const FIELDS = 'sequence ownerId walletId type';
const STATUSES = ['PENDING', 'SUCCESS', 'FAILED', 'REVERSED'];

function some<T>(rnd: Rnd, items: readonly T[]): T[] {
  const picked = items.filter(() => rnd.next() < 0.5);
  return picked.length ? picked : [rnd.pick(items)];
}

/** A random subscription for an owner with `wallets` (id, currency). */
function randomSpec(rnd: Rnd, wallets: { id: string; currency: string }[], after: string): Spec {
  const walletId = rnd.next() < 0.4 ? rnd.pick(wallets).id : null;
  const currency = rnd.next() < 0.3 ? rnd.pick(['NGN', 'USD']) : null;
  const kind = rnd.pick(['transactionUpdated', 'balanceChanged', 'walletEvents'] as const);
  const inWallet = (e: LogEvent) => !walletId || e.walletId === walletId;
  const inCurrency = (e: LogEvent, currencyOf: (w: string) => string) => !currency || currencyOf(e.walletId) === currency;
  if (kind === 'transactionUpdated') {
    const status = rnd.next() < 0.5 ? some(rnd, STATUSES) : null;
    const minAmount = rnd.next() < 0.3 ? rnd.int(1, 500) : null;
    const maxAmount = rnd.next() < 0.3 ? rnd.int(500, 1000) : null;
    return {
      query: `subscription($w: ID, $s: [TransactionStatus!], $min: Money, $max: Money, $c: String, $a: String) { transactionUpdated(walletId: $w, status: $s, minAmount: $min, maxAmount: $max, currency: $c, after: $a) { ${FIELDS} } }`,
      variables: { w: walletId, s: status, min: minAmount, max: maxAmount, c: currency, a: after },
      selects: (e, currencyOf) =>
        e.type === 'TRANSACTION' &&
        inWallet(e) &&
        inCurrency(e, currencyOf) &&
        (!status || status.includes(e.transaction.status)) &&
        (minAmount === null || Number(e.transaction.amount) >= minAmount) &&
        (maxAmount === null || Number(e.transaction.amount) <= maxAmount),
    };
  }
  if (kind === 'balanceChanged') {
    return {
      query: `subscription($w: ID, $c: String, $a: String) { balanceChanged(walletId: $w, currency: $c, after: $a) { ${FIELDS} } }`,
      variables: { w: walletId, c: currency, a: after },
      selects: (e, currencyOf) => e.type === 'BALANCE' && inWallet(e) && inCurrency(e, currencyOf),
    };
  }
  const types = rnd.next() < 0.5 ? some(rnd, ['TRANSACTION', 'BALANCE', 'WALLET_STATUS']) : null;
  const direction = rnd.next() < 0.4 ? rnd.pick(['CREDIT', 'DEBIT']) : null;
  return {
    query: `subscription($t: [WalletEventType!], $w: ID, $f: WalletEventFilter, $a: String) { walletEvents(types: $t, walletId: $w, filter: $f, after: $a) { ${FIELDS} } }`,
    variables: { t: types, w: walletId, f: { direction, currency }, a: after },
    selects: (e, currencyOf) =>
      (!types || types.includes(e.type)) && inWallet(e) && inCurrency(e, currencyOf) && (e.type !== 'TRANSACTION' || !direction || e.transaction.direction === direction),
  };
}

describe.each(BACKENDS)('isolation fuzz on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('delivers to 200 randomly filtered subscribers exactly their own selected events', async () => {
      const rnd = seededRandom(Number(process.env.FUZZ_SEED ?? 7));
      const owners = Array.from({ length: 100 }, () => ownerId('fuzz'));
      const walletsOf = new Map<string, { id: string; currency: string }[]>();
      const currencyOfWallet = new Map<string, string>();
      for (const owner of owners) {
        const wallets = [await t.ops.createWallet(owner, 'NGN'), await t.ops.createWallet(owner, 'USD')];
        walletsOf.set(owner, wallets);
        for (const w of wallets) currencyOfWallet.set(w.id, w.currency);
      }
      const currencyOf = (walletId: string) => currencyOfWallet.get(walletId)!;

      // Each owner: one graphql-ws and one SSE subscriber, each with its own random filter,
      // all starting after the wallets' CREATED events (cursor of sequence 2).
      const subscribers: { owner: string; spec: Spec; sub: Collector<LogEvent>; transport: string }[] = [];
      for (const owner of owners) {
        const userToken = await token(owner);
        const start = (await gqlData(t.server.url, userToken, '{ events { edges { cursor } } }')).events.edges[1].cursor;
        const wsSpec = randomSpec(rnd, walletsOf.get(owner)!, start);
        const sseSpec = randomSpec(rnd, walletsOf.get(owner)!, start);
        subscribers.push({ owner, spec: wsSpec, transport: 'ws', sub: subscribeWs(wsClient(t.server.wsUrl, userToken), wsSpec.query, wsSpec.variables) });
        subscribers.push({ owner, spec: sseSpec, transport: 'sse', sub: subscribeSse(t.server.url, userToken, sseSpec.query, sseSpec.variables) });
      }
      await waitUntil(() => t.server.app.stats().subscriptions === 200, 30_000);

      // ~2,500 events: credits and debits, pending and settled, some settled or reversed later.
      const posted: { id: string; status: string }[] = [];
      for (let round = 0; round < 25; round++) {
        await Promise.all(
          Array.from({ length: 40 }, async () => {
            const owner = rnd.pick(owners);
            const wallet = rnd.pick(walletsOf.get(owner)!);
            const direction = rnd.next() < 0.7 ? 'CREDIT' : 'DEBIT';
            const status = rnd.next() < 0.6 ? 'SUCCESS' : 'PENDING';
            const res = await t.ops.postRaw({ walletId: wallet.id, direction, amount: String(rnd.int(1, 1000)), status });
            if (res.data) posted.push({ id: res.data.postTransaction.transaction.id, status });
          }),
        );
        const pending = posted.filter((p) => p.status === 'PENDING');
        for (let i = 0; i < 10 && pending.length; i++) {
          const p = pending.splice(rnd.int(0, pending.length - 1), 1)[0]!;
          const to = rnd.pick(['SUCCESS', 'FAILED'] as const);
          if (!(await t.ops.settleRaw(p.id, to)).errors) p.status = to;
        }
      }

      // What each subscriber should get, from its owner's log.
      let total = 0;
      for (const { owner, spec, sub, transport } of subscribers) {
        const log: LogEvent[] = (await gqlData(t.server.url, t.serviceToken, `query($o: ID) { events(ownerId: $o, first: 500) { edges { node { sequence ownerId walletId type ... on TransactionEvent { transaction { status amount direction } } } } } }`, { o: owner })).events.edges.map((e: any) => e.node as LogEvent);
        expect(log.length).toBeLessThan(500);
        total += log.length;
        const expected = log.filter((e) => e.sequence > 2 && spec.selects(e, currencyOf)).map((e) => e.sequence);
        const got = await sub.waitFor(expected.length, 30_000);
        await new Promise((resolve) => setImmediate(resolve));
        expect(got.every((e) => e.ownerId === owner), `${transport} subscriber of ${owner} saw another owner's event`).toBe(true);
        expect(got.map((e) => e.sequence), `${transport} ${spec.query} ${JSON.stringify(spec.variables)}`).toEqual(expected);
        sub.dispose();
      }
      expect(total).toBeGreaterThan(2_000);
    }, 240_000);
  });
});
