/** The usual suite setup: a fresh backend, one server on it, and a producer bound to it. */
import { afterAll, beforeAll } from 'vitest';
import { openPglite, openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { prepareBackend, type Backend, type BackendEnv } from './backends.ts';
import { producer, type Producer } from './ledger-ops.ts';
import { freePort, spawnServer, startServer, type RunningServer, type ServerProcess } from './server.ts';
import { token } from './tokens.ts';

export interface ServerFixture {
  env: BackendEnv;
  server: RunningServer;
  /** A `service` token for the producer. */
  serviceToken: string;
  ops: Producer;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in before the first test. */
export function serverOn(backend: Backend, extraEnv: Record<string, string> = {}): ServerFixture {
  const fixture = {} as ServerFixture;
  beforeAll(async () => {
    fixture.env = await prepareBackend(backend);
    fixture.server = await startServer({ ...fixture.env.env, ...extraEnv });
    fixture.serviceToken = await token('producer', 'service');
    fixture.ops = producer(fixture.server.url, fixture.serviceToken);
  });
  afterAll(async () => {
    await fixture.server?.stop();
    await fixture.env?.dispose();
  });
  return fixture;
}

/** Two in-process instances on one fresh backend; each may get extra settings. */
export interface PairFixture {
  env: BackendEnv;
  a: RunningServer;
  b: RunningServer;
}

/** Registers hooks that start two instances sharing `backend` (PostgreSQL + Redis). */
export function instancePair(backend: Backend, envA: (env: BackendEnv) => Record<string, string> = () => ({}), envB = envA): PairFixture {
  const fixture = {} as PairFixture;
  beforeAll(async () => {
    fixture.env = await prepareBackend(backend);
    fixture.a = await startServer({ ...fixture.env.env, ...envA(fixture.env) });
    fixture.b = await startServer({ ...fixture.env.env, ...envB(fixture.env) });
  });
  afterAll(async () => {
    await fixture.a?.stop();
    await fixture.b?.stop();
    await fixture.env?.dispose();
  });
  return fixture;
}

/** Two server processes (as deployed) sharing one fresh backend. */
export interface ProcessesFixture {
  env: BackendEnv;
  instances: [ServerProcess, ServerProcess];
}

/** Registers hooks that spawn two server processes on `backend`; they are SIGKILLed at the end. */
export function spawnedPair(backend: Backend): ProcessesFixture {
  const fixture = {} as ProcessesFixture;
  beforeAll(async () => {
    fixture.env = await prepareBackend(backend);
    const ports = [await freePort(), await freePort()];
    fixture.instances = (await Promise.all(ports.map((port) => spawnServer(fixture.env.env, port)))) as [ServerProcess, ServerProcess];
  });
  afterAll(async () => {
    for (const instance of fixture.instances ?? []) await instance.kill('SIGKILL');
    await fixture.env?.dispose();
  });
  return fixture;
}

/** A migrated database of its own on `backend`, without a server: for tests of the storage code itself. */
export interface DatabaseFixture {
  env: BackendEnv;
  database: DatabaseHandle;
}

/** Registers hooks that open a fresh database on `backend` (PostgreSQL, or PGlite in memory). */
export function databaseOn(backend: Backend): DatabaseFixture {
  const fixture = {} as DatabaseFixture;
  beforeAll(async () => {
    fixture.env = await prepareBackend(backend);
    const url = fixture.env.env.DATABASE_URL;
    fixture.database = url ? await openPostgres(url, 2) : await openPglite('memory://');
  });
  afterAll(async () => {
    await fixture.database?.close();
    await fixture.env?.dispose();
  });
  return fixture;
}

/** A writer and a reader instance: `ops` posts through `writer`; clients subscribe on `reader`. */
export interface WriterReaderFixture {
  env: BackendEnv;
  writer: RunningServer;
  /** Another instance on PostgreSQL + Redis, so events cross the backbone; the writer itself on the embedded backend (one process, one PGlite). */
  reader: RunningServer;
  ops: Producer;
}

/** Registers hooks that start a writer and a reader instance on one fresh `backend`. */
export function writerAndReader(backend: Backend, extraEnv: Record<string, string> = {}): WriterReaderFixture {
  const fixture = {} as WriterReaderFixture;
  beforeAll(async () => {
    fixture.env = await prepareBackend(backend);
    fixture.writer = await startServer({ ...fixture.env.env, ...extraEnv });
    fixture.reader = backend.name === 'postgres' ? await startServer({ ...fixture.env.env, ...extraEnv }) : fixture.writer;
    fixture.ops = producer(fixture.writer.url, await token('producer', 'service'));
  });
  afterAll(async () => {
    await fixture.writer?.stop();
    if (fixture.reader !== fixture.writer) await fixture.reader?.stop();
    await fixture.env?.dispose();
  });
  return fixture;
}
