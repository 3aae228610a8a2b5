/**
 * How statements reach PostgreSQL: as named prepared statements by default (one round trip
 * each, pipelined inside a transaction), or unnamed with DATABASE_PREPARED_STATEMENTS=false
 * for poolers that cannot keep named statements apart. Both write the same ledger.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgres, rowsOf, type DatabaseHandle } from '../src/db/client.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { BACKENDS, GROUP_COMMIT, label, prepareBackend, type BackendEnv } from './support/backends.ts';

const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;

describe(`statements sent to PostgreSQL, ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres', () => {
    let env: BackendEnv | undefined;
    let handle: DatabaseHandle | undefined;
    afterEach(async () => {
      await handle?.close();
      await env?.dispose();
    });

    /** Posts two credits to a new wallet on a one-connection pool; returns the owner's log and how many named statements the session keeps for the key claim. */
    async function postTwice(preparedStatements: boolean) {
      env = await prepareBackend(postgres);
      handle = await openPostgres(env.env.DATABASE_URL!, 1, preparedStatements);
      const ledger = new Ledger(handle.db, { publish: async () => {} }, { groupCommit: GROUP_COMMIT });
      const wallet = await ledger.createWallet({ ownerId: 'alice', currency: 'NGN' }, 'default');
      const credit = { walletId: wallet.id, direction: 'CREDIT' as const, type: 'DEPOSIT' as const, amount: 250n, status: 'SUCCESS' as const };
      await Promise.all([ledger.postTransaction({ ...credit, idempotencyKey: randomUUID() }, 'producer'), ledger.postTransactions([{ ...credit, idempotencyKey: randomUUID() }], 'producer')]);
      const log = rowsOf<{ sequence: string | number; type: string }>(await handle.db.execute(sql`select sequence, type from events where owner_id = 'alice' order by sequence`));
      // The key claim is the ledger's first statement of a posting: named, it is kept in the session.
      const named = rowsOf<{ count: string | number }>(await handle.db.execute(sql`select count(*) as count from pg_prepared_statements where statement like 'insert into "idempotency_keys"%'`));
      return { log: log.map((row) => `${Number(row.sequence)} ${row.type}`), named: Number(named[0]!.count) };
    }

    const expectedLog = ['1 WALLET_STATUS', '2 TRANSACTION', '3 BALANCE', '4 TRANSACTION', '5 BALANCE'];

    it('names them by default, and the ledger writes the same log', async () => {
      const { log, named } = await postTwice(true);
      expect(log).toEqual(expectedLog);
      expect(named).toBe(1);
    });

    it('leaves them unnamed with DATABASE_PREPARED_STATEMENTS=false, and the ledger writes the same log', async () => {
      const { log, named } = await postTwice(false);
      expect(log).toEqual(expectedLog);
      expect(named).toBe(0);
    });
  });
});
