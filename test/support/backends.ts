/**
 * The storage backends every storage-touching suite runs on:
 * `embedded` (PGlite in memory + in-process pub/sub) always, and `postgres` (PostgreSQL +
 * Redis) when DATABASE_URL and REDIS_URL are set. Without them that half is reported as
 * skipped, by name; with REQUIRE_SERVICES=1 (set by .ci/run) their absence is a failure.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface Backend {
  name: 'embedded' | 'postgres';
  /** False when the services this backend needs are not configured on this machine. */
  available: boolean;
  /** Why it is unavailable, for the skipped suite's name. */
  reason: string;
}

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const required = process.env.REQUIRE_SERVICES === '1';

export const servicesAvailable = Boolean(databaseUrl && redisUrl);

if (required && !servicesAvailable) {
  throw new Error('REQUIRE_SERVICES=1 but DATABASE_URL and REDIS_URL are not both set: the postgres+redis suites would be skipped');
}

export const BACKENDS: Backend[] = [
  { name: 'embedded', available: true, reason: '' },
  {
    name: 'postgres',
    available: servicesAvailable,
    reason: servicesAvailable ? '' : 'SKIPPED: set DATABASE_URL and REDIS_URL to run on PostgreSQL + Redis',
  },
];

/** A label for describe.each that says when the suite is skipped. */
export function label(backend: Backend): string {
  return backend.available ? backend.name : `${backend.name} (${backend.reason})`;
}

/** Environment for a server on `backend`; Postgres gets a database of its own. */
export interface BackendEnv {
  env: Record<string, string>;
  /** Drops what was created for it. */
  dispose(): Promise<void>;
}

/** Creates a fresh database (PostgreSQL) or nothing (PGlite in memory) for one suite. */
export async function prepareBackend(backend: Backend): Promise<BackendEnv> {
  if (backend.name === 'embedded') return { env: { DATA_DIR: 'memory://' }, dispose: async () => {} };
  const name = `we_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl!);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl!, PUBSUB_PREFIX: `${name}:` },
    async dispose() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Group commit as a test that builds a Ledger by hand uses it: one group at a time, as on PGlite. */
export const GROUP_COMMIT = { maxGroup: 100, maxConcurrentGroups: 1, maxWaitingPostings: 10_000 };
