/**
 * Opens the database. Both backends are drizzle `PgDatabase`s over the same tables, so
 * everything above this file runs one code path; `app.ts` decides which one to open.
 */
import { DataDirError, lockDataDir } from './data-dir-lock.ts';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { preparing } from './prepared-statements.ts';
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

/**
 * Opens PGlite in `dataDir` (or in memory for `memory://`) and applies migrations. One
 * process owns a directory at a time (see data-dir-lock.ts): PGlite has no lock of its own,
 * and two processes writing one directory damage it.
 */
export async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  const unlock = inMemory ? () => {} : lockDataDir(dataDir);
  let client: PGlite;
  try {
    client = inMemory ? await freshInMemory() : await PGlite.create(dataDir);
  } catch (error) {
    unlock();
    throw new DataDirError(
      dataDir,
      `PGlite could not open the data directory ${dataDir} (${(error as Error).message}). If two processes wrote to it at once its files may be damaged: move it aside to start afresh, or set DATA_DIR to another directory.`,
    );
  }
  const db = drizzlePglite(client, { schema });
  try {
    await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    await client.close();
    unlock();
    throw error;
  }
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      await client.close();
      unlock();
    },
  };
}

/**
 * The image of a freshly migrated in-memory database, made once per process. Creating one
 * from scratch runs initdb and every migration (about seven seconds of CPU); starting from
 * this image takes about one. Processes that open many in-memory databases (the tests, one
 * per suite) pay the full cost once. The image (some 40 MB) is kept only by such processes.
 */
const IMAGE = Symbol.for('wallet-events.pglite-memory-image');
/** Kept on the process (not this module): a test runner loads modules anew per test file. */
const processCache = globalThis as typeof globalThis & { [IMAGE]?: Promise<Blob> | null };

/** A new in-memory PGlite holding a freshly migrated, empty database. */
async function freshInMemory(): Promise<PGlite> {
  processCache[IMAGE] ??= (async () => {
    const first = await PGlite.create('memory://');
    await migratePglite(drizzlePglite(first, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    const image = await first.dumpDataDir('none');
    await first.close();
    return image;
  })().catch((error: unknown) => {
    processCache[IMAGE] = null;
    throw error;
  });
  return PGlite.create('memory://', { loadDataDir: await processCache[IMAGE] });
}

/** Connects to PostgreSQL and applies migrations under an advisory lock. */
export async function openPostgres(url: string, poolSize: number, preparedStatements = true): Promise<DatabaseHandle> {
  const client = postgres(url, { max: poolSize, onnotice: () => {} });
  const db = drizzlePostgres(preparedStatements ? preparing(client) : client, { schema });
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
