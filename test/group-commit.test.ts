/**
 * Group commit under refusals and contention: a refused posting is answered alone while the
 * rest of its group commits in the same transaction (no rollback, no rewrite); postings
 * that share idempotency keys never deadlock, however they are ordered; and the waiting
 * list is bounded (GROUP_COMMIT_QUEUE_LIMIT), refusing with RATE_LIMITED and changing nothing.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import postgresJs from 'postgres';
import { codes, waitUntil, type Response } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId, type PostInput } from './support/ledger-ops.ts';
import { seededRandom, shuffled } from './support/random.ts';

const KEYS = 200;

/** The ledger's transaction counters from /metrics. */
async function transactions(graphqlUrl: string): Promise<{ committed: number; rolledBack: number }> {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  const read = (outcome: string) => Number(new RegExp(`wallet_events_write_transactions_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { committed: read('committed'), rolledBack: read('rolled_back') };
}

describe.each(BACKENDS)('group commit on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend, { GROUP_COMMIT_CONCURRENCY: '4' });

    it('answers refused postings alone and commits the rest of their group in the same pass', async () => {
      const owner = ownerId('group');
      const active = await t.ops.createWallet(owner);
      const frozen = await t.ops.createWallet(owner, 'USD');
      await t.ops.freezeRaw(frozen.id);
      const before = await transactions(t.server.url);
      const frozenKeys = Array.from({ length: 20 }, () => randomUUID());
      const posts = [
        ...frozenKeys.map((idempotencyKey) => t.ops.postRaw({ walletId: frozen.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS', idempotencyKey })),
        ...Array.from({ length: 40 }, () => t.ops.postRaw({ walletId: active.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' })),
      ];
      const results = await Promise.all(shuffled(posts, seededRandom(7)));
      const outcomes = results.map((r) => (r.errors ? codes(r)[0] : 'OK'));
      expect(outcomes.filter((o) => o === 'OK')).toHaveLength(40);
      expect(outcomes.filter((o) => o === 'WALLET_FROZEN')).toHaveLength(20);
      const after = await transactions(t.server.url);
      // No transaction was rolled back (and its group written again) because of a refusal.
      expect(after.rolledBack - before.rolledBack).toBe(0);
      expect(after.committed - before.committed).toBeGreaterThan(0);
      expect(after.committed - before.committed).toBeLessThanOrEqual(60);
      expect((await t.ops.wallet(active.id)).balance.ledger).toBe('200');

      // A refused posting left nothing behind, not even its key: once the wallet is unfrozen,
      // the same key posts anew instead of conflicting or replaying.
      await t.ops.unfreezeRaw(frozen.id);
      const retry = await t.ops.postRaw({ walletId: frozen.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS', idempotencyKey: frozenKeys[0] });
      expect(retry.errors).toBeUndefined();
      expect(retry.data!.postTransaction.replayed).toBe(false);
    });

    it('never deadlocks when concurrent batches and single posts share keys in different orders', async () => {
      const owner = ownerId('keys');
      const wallet = await t.ops.createWallet(owner);
      // Large enough that concurrent inserts of the keys overlap in time.
      const inputs: PostInput[] = Array.from({ length: KEYS }, (_, i) => ({ walletId: wallet.id, direction: 'CREDIT', amount: String(i + 1), status: 'SUCCESS', idempotencyKey: `shared-${owner}-${i}` }));
      const random = seededRandom(11);
      const batches = Array.from({ length: 8 }, () => t.ops.postBatchRaw(shuffled(inputs, random)));
      const singles = shuffled(inputs, random).slice(0, 100).map((input) => t.ops.postRaw(input));
      const [batchResults, singleResults] = await Promise.all([Promise.all(batches), Promise.all(singles)]);
      expect(batchResults.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect(singleResults.flatMap((r) => r.errors ?? [])).toEqual([]);
      // Every key names one transaction, whoever wrote it first.
      const ids = new Map<string, Set<string>>();
      const record = (key: string, id: string) => ids.set(key, (ids.get(key) ?? new Set()).add(id));
      for (const result of batchResults) for (const item of result.data!.postTransactions) record(item.transaction.amount, item.transaction.id);
      for (const result of singleResults) record(result.data!.postTransaction.transaction.amount, result.data!.postTransaction.transaction.id);
      expect(ids.size).toBe(KEYS);
      for (const set of ids.values()) expect(set.size).toBe(1);
      expect((await t.ops.wallet(wallet.id)).balance.ledger).toBe(String((KEYS * (KEYS + 1)) / 2));
    });
  });
});

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`key order between writers, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const t = serverOn(postgres);

    it('does not deadlock two batches that claim the same keys in opposite orders', async () => {
      const owner = ownerId('order');
      const wallet = await t.ops.createWallet(owner);
      const inputs: PostInput[] = Array.from({ length: 100 }, (_, i) => ({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS', idempotencyKey: `k-${owner}-${i}` }));
      // Another writer holds the middle key, so both batches stop at it with half their keys
      // claimed: one from each end, which would make a cycle as soon as it lets go.
      const blocker = postgresJs(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      let letGo!: () => void;
      const holding = new Promise<void>((resolve) => (letGo = resolve));
      let held!: () => void;
      const isHeld = new Promise<void>((resolve) => (held = resolve));
      const session = blocker
        .begin(async (tx) => {
          await tx`insert into idempotency_keys (principal, key, request_hash, transaction_id, created_at) values ('producer', ${inputs[50]!.idempotencyKey!}, 'held', gen_random_uuid(), now())`;
          held();
          await holding;
          throw new Error('roll back');
        })
        .catch(() => {});
      await isHeld;
      const forward = t.ops.postBatchRaw(inputs);
      const backward = t.ops.postBatchRaw([...inputs].reverse());
      const observer = postgresJs(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      const waiting = async () => Number((await observer`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)[0]!.n);
      await waitUntil(async () => (await waiting()) >= 2, 10_000, () => 'for both batches to wait');
      letGo();
      await session;
      await Promise.all([blocker.end(), observer.end()]);
      const results = await Promise.all([forward, backward]);
      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      const [a, b] = results.map((r) => new Set(r.data!.postTransactions.map((item) => item.transaction.id)));
      expect([...a!].sort()).toEqual([...b!].sort());
      expect((await t.ops.wallet(wallet.id)).balance.ledger).toBe('100');
    });
  });
});

describe(`the group-commit waiting list, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const t = serverOn(postgres, { GROUP_COMMIT_QUEUE_LIMIT: '5', GROUP_COMMIT_MAX: '2', GROUP_COMMIT_CONCURRENCY: '1' });

    it('refuses postings past GROUP_COMMIT_QUEUE_LIMIT with RATE_LIMITED, writing nothing of them', async () => {
      const owner = ownerId('flood');
      const wallet = await t.ops.createWallet(owner);
      // Another session holds the wallet's row: the group being written waits on it, and the queue fills up.
      const blocker = postgresJs(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const session = blocker.begin(async (tx) => {
        await tx`select id from wallets where id = ${wallet.id} for update`;
        locked();
        await held;
      });
      await isLocked;
      const settled: Response<unknown>[] = [];
      const posts = Array.from({ length: 50 }, () => t.ops.postRaw({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' }).then((r) => (settled.push(r), r)));
      // One group (the first one or two postings) is blocked, 5 wait: the other 43 or 44 are refused at once.
      await waitUntil(() => settled.length >= 43, 15_000, () => `${settled.length} answered`);
      for (const r of settled) expect(r.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'write queue full', limit: 5 });
      release();
      await session;
      await blocker.end();
      const results = await Promise.all(posts);
      const accepted = results.filter((r) => !r.errors).length;
      expect([6, 7]).toContain(accepted);
      expect(results.filter((r) => codes(r)[0] === 'RATE_LIMITED')).toHaveLength(50 - accepted);
      expect((await t.ops.wallet(wallet.id)).balance.ledger).toBe(String(accepted));
      expect(await t.ops.log(owner)).toHaveLength(1 + 2 * accepted);
    });
  });
});
