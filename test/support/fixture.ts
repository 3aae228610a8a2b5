/** The usual suite setup: a fresh backend, one server on it, and a producer bound to it. */
import { afterAll, beforeAll } from 'vitest';
import { prepareBackend, type Backend, type BackendEnv } from './backends.ts';
import { producer, type Producer } from './ledger-ops.ts';
import { startServer, type RunningServer } from './server.ts';
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
