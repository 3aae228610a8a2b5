/**
 * Opens the database. Both backends are drizzle `PgDatabase`s over the same tables, so
 * everything above this file runs one code path; `app.ts` decides which one to open.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

/** The database handle every layer above `db/` receives. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A drizzle transaction on {@link Database}. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** An open database with its lifecycle. */
export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Resolves when a trivial query succeeds; for `/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS_FOLDER = new URL('../../drizzle', import.meta.url).pathname;

/** A fixed advisory-lock key so that instances starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_261_554_221;

/** Opens PGlite in `dataDir` (or in memory for `memory://`) and applies migrations. */
export async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

/** Connects to PostgreSQL and applies migrations under an advisory lock. */
export async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const client = postgres(url, { max: poolSize, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema });
  // The lock is held on a connection of its own: reserving one of the pool would leave a
  // pool of one (DATABASE_POOL_SIZE=1) nothing to migrate with, and start-up would hang.
  const lock = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lock.end({ timeout: 5 }); // ending the session releases its advisory lock
  }
  return {
    db: db as unknown as Database,
    kind: 'postgres',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** The rows of a raw statement's result, whichever driver ran it (postgres.js or PGlite). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
