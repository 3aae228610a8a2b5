/**
 * Reads on PostgreSQL streaming replicas (`DATABASE_REPLICA_URLS`).
 *
 * A read must see everything committed before it began (a client that wrote and then
 * reads, a stream that heard of an event and reads the log for it). So before a read goes
 * to a replica, the primary's WAL position is taken (`pg_current_wal_lsn()`: no table is
 * touched; one such query serves every read that asked while the previous one ran), and the
 * read runs on the replica only once the replica has replayed that far, which it is given
 * `REPLICA_READ_WAIT` to do; else it runs on the primary. A replica's replay position is
 * read before the read itself, so the read's snapshot holds at least that much.
 *
 * A check every `REPLICA_CHECK_INTERVAL` measures each replica's lag (how long ago the
 * primary was where the replica's replay is now) and takes a replica out of rotation while
 * it fails, is not in recovery (promoted), or lags past `REPLICA_MAX_LAG`; it comes back
 * with the first good check. A read that fails on a replica for want of a connection (or
 * is cancelled by a recovery conflict) is run again on the primary: reads change nothing.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import { rowsOf, type Database } from './client.ts';
import { preparing } from './prepared-statements.ts';
import * as schema from './schema.ts';

/** Where the reads that need not be on the primary run. */
export interface Reads {
  /** Runs `read` on a database that holds everything committed before this call. */
  run<T>(read: (db: Database) => Promise<T>): Promise<T>;
}

/** Every read on `db` itself (PGlite, or PostgreSQL without replicas). */
export function readsOn(db: Database): Reads {
  return { run: (read) => read(db) };
}

/** Where a read went: a replica, or the primary because there was none in rotation, it lagged, or it failed. */
export type ReadRoute = 'replica' | 'no_replica' | 'lagging' | 'failed';

/** A replica as the checks last saw it. */
export interface ReplicaState {
  /** host:port/database, without credentials. */
  name: string;
  inRotation: boolean;
  /** How far behind the primary it was at the last check; null when it could not be measured. */
  lagMs: number | null;
  /** Why it is out of rotation. */
  reason: string | null;
}

/** What the replica set reports, for metrics. */
export interface ReplicaObserver {
  onRead(route: ReadRoute): void;
}

/** The settings of {@link ReplicaSet}. */
export interface ReplicaOptions {
  urls: readonly string[];
  poolSize: number;
  readWaitMs: number;
  maxLagMs: number;
  checkIntervalMs: number;
  preparedStatements: boolean;
}

/** What the set needs of a logger. */
interface ReplicaLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** A WAL position ('16/B374D848') as a number that compares. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/**
 * Fetches a value for every caller with a call that began after the caller asked: callers
 * while a call is on its way share the next one. A WAL position read before a caller's
 * write would not cover it, so joining a call already under way is not enough.
 */
export class FreshValue<T> {
  private current: Promise<T> | null = null;
  private following: Promise<T> | null = null;

  constructor(private readonly fetch: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.current) return this.begin();
    this.following ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.following = null;
        return this.begin();
      });
    return this.following;
  }

  private begin(): Promise<T> {
    const call: Promise<T> = this.fetch().finally(() => {
      if (this.current === call) this.current = null;
    });
    this.current = call;
    return call;
  }
}

/** Errors that say the replica (or the way to it) failed, not the read: the read is run again on the primary. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/** True when `error` (or its cause) is a lost connection, a server shutting down, or a query cancelled by a recovery conflict. */
export function isReplicaFailure(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '40001' || code === '57014') return true;
  }
  return false;
}

class Replica {
  state: ReplicaState;
  replayLsn = -1n;
  readonly db: Database;
  readonly replay: FreshValue<bigint>;
  private readonly client: Sql;

  constructor(url: string, options: ReplicaOptions) {
    const parsed = new URL(url);
    this.state = { name: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`, inRotation: false, lagMs: null, reason: 'not checked yet' };
    this.client = postgres(url, { max: options.poolSize, onnotice: () => {}, connect_timeout: Math.max(1, Math.ceil(options.checkIntervalMs / 1000)) });
    this.db = drizzle(options.preparedStatements ? preparing(this.client) : this.client, { schema }) as unknown as Database;
    this.replay = new FreshValue(async () => {
      const [row] = await this.client<{ lsn: string | null; recovery: boolean }[]>`select pg_last_wal_replay_lsn()::text as lsn, pg_is_in_recovery() as recovery`;
      if (!row?.recovery || !row.lsn) throw new Error('not a replica: the server is not in recovery');
      const lsn = parseLsn(row.lsn);
      if (lsn > this.replayLsn) this.replayLsn = lsn;
      return this.replayLsn;
    });
  }

  close(): Promise<void> {
    return this.client.end({ timeout: 5 });
  }
}

/** The replicas of one primary, their rotation, and the reads routed to them. */
export class ReplicaSet implements Reads {
  private readonly replicas: Replica[];
  private readonly primaryLsn: FreshValue<bigint>;
  /** The primary's position over the last checks, for lag in time: (when, where). */
  private readonly samples: { at: number; lsn: bigint }[] = [];
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly primary: Database,
    private readonly options: ReplicaOptions,
    private readonly logger: ReplicaLogger,
    private readonly observer?: ReplicaObserver,
  ) {
    this.replicas = options.urls.map((url) => new Replica(url, options));
    this.primaryLsn = new FreshValue(async () => {
      const result = await primary.execute(sql`select pg_current_wal_lsn()::text as lsn`);
      return parseLsn(rowsOf<{ lsn: string }>(result)[0]!.lsn);
    });
  }

  /** Checks the replicas now and then every interval; reads go to the primary until a replica's first good check. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  async run<T>(read: (db: Database) => Promise<T>): Promise<T> {
    const replica = this.pick();
    if (!replica) return this.onPrimary('no_replica', read);
    const target = await this.primaryLsn.get();
    if (!(await this.caughtUp(replica, target))) return this.onPrimary('lagging', read);
    try {
      const result = await read(replica.db);
      this.observer?.onRead('replica');
      return result;
    } catch (error) {
      if (!isReplicaFailure(error)) throw error;
      this.takeOut(replica, (error as Error).message);
      return this.onPrimary('failed', read);
    }
  }

  /** Each replica as last checked. */
  states(): ReplicaState[] {
    return this.replicas.map((replica) => ({ ...replica.state }));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.replicas.map((replica) => replica.close()));
  }

  private onPrimary<T>(route: ReadRoute, read: (db: Database) => Promise<T>): Promise<T> {
    this.observer?.onRead(route);
    return read(this.primary);
  }

  /** The next replica in rotation, round robin. */
  private pick(): Replica | null {
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.turn + i) % this.replicas.length]!;
      if (replica.state.inRotation) {
        this.turn = (this.turn + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return null;
  }

  /** Whether `replica` has replayed up to `target`, waiting up to REPLICA_READ_WAIT for it. */
  private async caughtUp(replica: Replica, target: bigint): Promise<boolean> {
    const deadline = Date.now() + this.options.readWaitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
      if (replica.replayLsn >= target) return true;
      if (!replica.state.inRotation || Date.now() >= deadline) return false;
      try {
        if ((await replica.replay.get()) >= target) return true;
      } catch (error) {
        this.takeOut(replica, (error as Error).message);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(pause, deadline - Date.now()))));
    }
  }

  private async check(): Promise<void> {
    let lsn: bigint;
    try {
      lsn = await this.primaryLsn.get();
    } catch {
      return; // the primary is away: nothing to measure the replicas against
    }
    const now = Date.now();
    this.samples.push({ at: now, lsn });
    const kept = Math.min(1_000, Math.ceil((2 * this.options.maxLagMs) / this.options.checkIntervalMs) + 2);
    if (this.samples.length > kept) this.samples.splice(0, this.samples.length - kept);
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const replayed = await withTimeout(replica.replay.get(), Math.max(this.options.checkIntervalMs, 1_000));
          const lagMs = this.lagOf(replayed, Date.now());
          replica.state.lagMs = lagMs;
          if (lagMs > this.options.maxLagMs) this.takeOut(replica, `${lagMs} ms behind the primary, more than REPLICA_MAX_LAG`);
          else this.putBack(replica);
        } catch (error) {
          replica.state.lagMs = null;
          this.takeOut(replica, (error as Error).message);
        }
      }),
    );
  }

  /** How long ago the primary stood where `replayed` is: 0 once the replica has replayed the newest sample. */
  private lagOf(replayed: bigint, now: number): number {
    const newest = this.samples.at(-1)!;
    if (replayed >= newest.lsn) return 0;
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i]!.lsn <= replayed) return now - this.samples[i]!.at;
    return now - this.samples[0]!.at;
  }

  private takeOut(replica: Replica, reason: string): void {
    if (replica.state.inRotation || replica.state.reason === 'not checked yet') this.logger.warn('replica out of rotation', { replica: replica.state.name, reason });
    replica.state.inRotation = false;
    replica.state.reason = reason;
  }

  private putBack(replica: Replica): void {
    if (replica.state.inRotation) return;
    this.logger.info('replica in rotation', { replica: replica.state.name, lagMs: replica.state.lagMs });
    replica.state.inRotation = true;
    replica.state.reason = null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
