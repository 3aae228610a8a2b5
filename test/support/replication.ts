/**
 * A PostgreSQL primary and a streaming replica of its own, on loopback ports, for the
 * replica tests and the bench: the system cluster does not allow replication connections.
 * Both run as the `postgres` OS user from PostgreSQL's server binaries (initdb,
 * pg_basebackup -R); both are children of this process (tracked, so a failing test still
 * stops them) and their directory goes with them.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './server.ts';
import { tracked } from './processes.ts';

const run = promisify(execFile);

/** The directory of PostgreSQL's server binaries, or null. */
const BIN = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_basebackup')));
  return found ?? null;
})();

/** The `postgres` OS user's ids, or null. */
const POSTGRES_USER = (() => {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
})();

/** Why replication tests cannot run here, or null when they can. */
export const replicationUnavailable: string | null = !BIN
  ? 'SKIPPED: PostgreSQL server binaries (initdb, pg_basebackup) not found under /usr/lib/postgresql'
  : !POSTGRES_USER
    ? 'SKIPPED: no postgres OS user to run a cluster as'
    : userInfo().uid !== 0
      ? 'SKIPPED: starting a cluster as the postgres user needs root'
      : null;

if (process.env.REQUIRE_SERVICES === '1' && replicationUnavailable) throw new Error(`REQUIRE_SERVICES=1 but ${replicationUnavailable}`);

/** One postmaster. */
interface Node {
  dir: string;
  port: number;
  child: ChildProcess | null;
}

/** A primary and its streaming replica. */
export interface ReplicatedPostgres {
  primaryUrl: string;
  replicaUrl: string;
  /** Runs SQL on the primary or the replica (the `postgres` database unless `database`). */
  query<T = Record<string, unknown>>(on: 'primary' | 'replica', text: string, database?: string): Promise<T[]>;
  /** The primary's postmaster, whose children are its server processes. */
  primaryPid(): number;
  /** Kills the replica at once (an immediate shutdown: no checkpoint, as a crash), or starts it again. */
  killReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Stops both and removes their files. */
  stop(): Promise<void>;
}

const as = () => ({ uid: POSTGRES_USER!.uid, gid: POSTGRES_USER!.gid });

async function chownTree(path: string): Promise<void> {
  await run('chown', ['-R', `${POSTGRES_USER!.uid}:${POSTGRES_USER!.gid}`, path]);
}

async function startNode(node: Node, socketDir: string): Promise<void> {
  const child = spawn(join(BIN!, 'postgres'), ['-D', node.dir, '-p', String(node.port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'], { ...as(), stdio: 'ignore' });
  node.child = tracked(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres on port ${node.port} exited with ${child.exitCode}`);
    const client = postgres(`postgres://postgres@127.0.0.1:${node.port}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 2 });
    try {
      await client`select 1`;
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end({ timeout: 1 });
    }
  }
}

async function stopNode(node: Node, signal: NodeJS.Signals): Promise<void> {
  const child = node.child;
  node.child = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

/** Starts a primary (with `database` created) and a streaming replica of it; both on free loopback ports. */
export async function startReplicatedPostgres(database = 'wallet'): Promise<ReplicatedPostgres> {
  if (replicationUnavailable) throw new Error(replicationUnavailable);
  const root = await mkdtemp('/tmp/we-replication-');
  await chownTree(root);
  const primary: Node = { dir: join(root, 'primary'), port: await freePort(), child: null };
  const replica: Node = { dir: join(root, 'replica'), port: await freePort(), child: null };
  const stop = async () => {
    await stopNode(replica, 'SIGINT');
    await stopNode(primary, 'SIGINT');
    await rm(root, { recursive: true, force: true });
  };
  try {
    await run(join(BIN!, 'initdb'), ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-instructions'], { ...as() });
    // initdb's pg_hba.conf already lets 127.0.0.1 replicate with trust.
    await appendFile(join(primary.dir, 'postgresql.conf'), ['wal_level = replica', 'max_wal_senders = 4', 'hot_standby = on', 'hot_standby_feedback = on', 'fsync = off', 'max_connections = 200', 'track_counts = on', ''].join('\n'));
    await startNode(primary, root);
    const admin = postgres(`postgres://postgres@127.0.0.1:${primary.port}/postgres`, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${database}`);
    await admin.end();
    await run(join(BIN!, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replica.dir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], { ...as() });
    await startNode(replica, root);
  } catch (error) {
    await stop();
    throw error;
  }
  const urlOf = (node: Node, db = database) => `postgres://postgres@127.0.0.1:${node.port}/${db}`;
  return {
    primaryUrl: urlOf(primary),
    replicaUrl: urlOf(replica),
    async query<T>(on: 'primary' | 'replica', text: string, db = database) {
      const client = postgres(urlOf(on === 'primary' ? primary : replica, db), { max: 1, onnotice: () => {} });
      try {
        return (await client.unsafe(text)) as unknown as T[];
      } finally {
        await client.end({ timeout: 1 });
      }
    },
    primaryPid: () => primary.child!.pid!,
    killReplica: () => stopNode(replica, 'SIGQUIT'),
    startReplica: () => startNode(replica, root),
    stop,
  };
}
