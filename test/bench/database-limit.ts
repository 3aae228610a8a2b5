/**
 * PostgreSQL's own insert rate for the rows a batch of postings writes, to set the batch
 * ingest figure beside: per posting one idempotency key and one transaction, per posting
 * two events (the transaction's and the new balance), one wallet row updated; the same
 * tables with the same indexes, written with COPY, committed once per `batch` postings as
 * the server commits a `postTransactions` call. What the server adds on top (checks,
 * locks, sequences, the GraphQL request) is the gap to this figure.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import postgres from 'postgres';
import { openPostgres } from '../../src/db/client.ts';
import { balanceDraft, transactionDraft } from '../../src/ledger/event-drafts.ts';
import type { Transaction, Wallet } from '../../src/domain/ledger-types.ts';

/** COPY text format: tabs, newlines and backslashes escaped; null as \N. */
function field(value: string | number | null): string {
  return value === null ? '\\N' : String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
const line = (values: (string | number | null)[]) => `${values.map(field).join('\t')}\n`;

/** Copies `lines` into `table` (`columns`) on the transaction `tx`. */
async function copy(tx: postgres.TransactionSql, table: string, columns: string, lines: string[]): Promise<void> {
  const stream = await tx.unsafe(`copy ${table} (${columns}) from stdin`).writable();
  stream.write(lines.join(''));
  stream.end();
  await once(stream, 'finish');
}

/** Events per second PostgreSQL stores by COPY, `postings` postings over `owners` wallets, committed every `batch`. */
export async function databaseInsertLimit(databaseUrl: string, postings: number, batch: number, owners: number): Promise<{ eventsPerSecond: number; seconds: number; walBytesPerEvent: number; diskBytesPerEvent: number }> {
  const migrated = await openPostgres(databaseUrl, 1); // the schema, indexes included
  await migrated.close();
  // Nagle's algorithm off: postgres.js leaves it on, and a COPY's closing message, sent
  // right behind its data, would wait for the server's delayed ACK (40 ms a COPY here).
  const { hostname, port } = new URL(databaseUrl);
  const socket = async () => {
    const connection = connect({ host: hostname, port: Number(port || 5432), noDelay: true });
    await once(connection, 'connect');
    return connection;
  };
  // `socket` (a connected socket for each connection) is a postgres.js option its types leave out.
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, socket } as postgres.Options<{}>);
  try {
    const now = new Date();
    const wallets: Wallet[] = Array.from({ length: owners }, (_, i) => ({ id: randomUUID(), ownerId: `limit-${i}`, currency: 'NGN', status: 'ACTIVE', ledger: 0n, pending: 0n, createdAt: now, updatedAt: now }));
    await sql`insert into owners ${sql(wallets.map((w) => ({ owner_id: w.ownerId, last_sequence: 0 })))}`;
    await sql`insert into wallets ${sql(wallets.map((w) => ({ id: w.id, owner_id: w.ownerId, currency: w.currency, status: w.status, ledger: 0, pending: 0, created_at: now, updated_at: now })))}`;
    const sequences = new Map(wallets.map((w) => [w.ownerId, 0]));
    // WAL is the cluster's: nothing else should write while this runs (the bench runs it alone).
    const walFrom = (await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`)[0]!.lsn;
    const started = performance.now();
    for (let done = 0, n = 0; done < postings; done += batch) {
      const keys: string[] = [];
      const rows: string[] = [];
      const events: string[] = [];
      const touched = new Map<string, Wallet>();
      const at = new Date().toISOString();
      for (let i = 0; i < Math.min(batch, postings - done); i++, n++) {
        const wallet = wallets[n % owners]!;
        const txn: Transaction = { id: randomUUID(), walletId: wallet.id, ownerId: wallet.ownerId, direction: 'CREDIT', type: 'DEPOSIT', amount: 100n, currency: 'NGN', status: 'SUCCESS', counterparty: null, description: 'bench', reversalReason: null, createdAt: now, updatedAt: now };
        wallet.ledger += 100n;
        touched.set(wallet.id, wallet);
        keys.push(line(['bench', randomUUID(), 'a'.repeat(64), txn.id, at]));
        rows.push(line([txn.id, txn.walletId, txn.ownerId, 'CREDIT', 'DEPOSIT', '100', 'NGN', 'SUCCESS', null, 'bench', null, at, at]));
        for (const draft of [transactionDraft(txn, null), balanceDraft(wallet)]) {
          const sequence = sequences.get(wallet.ownerId)! + 1;
          sequences.set(wallet.ownerId, sequence);
          events.push(line([randomUUID(), wallet.ownerId, sequence, wallet.id, draft.type, at, JSON.stringify(draft.data), 'default']));
        }
      }
      await sql.begin(async (tx) => {
        await copy(tx, 'idempotency_keys', 'principal, key, request_hash, transaction_id, created_at', keys);
        await copy(tx, 'transactions', 'id, wallet_id, owner_id, direction, type, amount, currency, status, counterparty, description, reversal_reason, created_at, updated_at', rows);
        await copy(tx, 'events', 'event_id, owner_id, sequence, wallet_id, type, occurred_at, data, tenant_id', events);
        const balances = [...touched.values()].map((w) => ({ id: w.id, ledger: w.ledger.toString() }));
        await tx`update wallets set ledger = v.ledger::bigint from jsonb_to_recordset(${tx.json(balances)}) as v(id uuid, ledger text) where wallets.id = v.id`;
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const bytes = (await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${walFrom}::pg_lsn)::text as bytes`)[0]!.bytes;
    // The log's partitions with their indexes (the database is this run's own: only these rows are in it).
    const disk = (await sql<{ bytes: string }[]>`select sum(pg_total_relation_size(inhrelid))::text as bytes from pg_inherits where inhparent = 'events'::regclass`)[0]!.bytes;
    const perEvent = (total: string) => Math.round(Number(total) / (postings * 2));
    return { eventsPerSecond: Math.round((postings * 2) / seconds), seconds, walBytesPerEvent: perEvent(bytes), diskBytesPerEvent: perEvent(disk) };
  } finally {
    await sql.end();
  }
}
