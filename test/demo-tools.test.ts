/**
 * `npm run simulate` and `npm run demo` run for real: the
 * simulator creates the owners' wallets and drives traffic the ledger accepts (refusals
 * it calls for are counted, not errors); the demo starts a server, prints a dashboard
 * address whose token works, and events flow to it.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './support/backends.ts';
import { gqlData, waitUntil } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { freePort } from './support/server.ts';
import { TEST_SECRET } from './support/tokens.ts';
import { tracked } from './support/processes.ts';

const run = promisify(execFile);

describe('npm run simulate', () => {
  const f = serverOn(BACKENDS[0]!);

  it('creates wallets for new owners and drives realistic traffic into a running server', async () => {
    const owners = [ownerId('sim'), ownerId('sim')];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/simulate.ts', '--url', f.server.url, '--rate', '30', '--duration', '3s', '--owners', owners.join(',')], {
      env: { ...process.env, JWT_SECRET: TEST_SECRET },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/simulating ~30 postings\/s over \d+ wallets/);
    expect(stdout).toMatch(/posted \d+/);
    for (const owner of owners) {
      const { wallets } = await gqlData(f.server.url, f.serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: owner });
      expect(wallets.length).toBeGreaterThan(0);
    }
    const log = await f.ops.log(owners[0]!);
    expect(new Set(log.map((e) => e.type))).toEqual(new Set(['WALLET_STATUS', 'TRANSACTION', 'BALANCE']));
  });

  it('refuses a bad rate with a clear message', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'tools/simulate.ts', '--rate', 'lots'], { env: process.env }).catch((error) => error);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--rate must be a number of postings per second');
  });
});

describe('npm run demo', () => {
  it('starts a server with demo owners and traffic and prints a dashboard address that works', async () => {
    const port = await freePort();
    const child = tracked(
      spawn(process.execPath, ['--import', 'tsx', 'tools/demo.ts'], {
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: 'memory://', JWT_SECRET: TEST_SECRET, DEMO_RATE: '20' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => output.includes('Dashboard (alice)'), 60_000, () => output);
      const url = /Dashboard \(alice\):\s+(\S+)/.exec(output)![1]!;
      expect(url.startsWith(`http://localhost:${port}/#token=`)).toBe(true);
      const dashboard = await fetch(`http://127.0.0.1:${port}/`);
      expect(dashboard.headers.get('content-type')).toContain('text/html');
      // The printed token is demo-alice's, and her wallets see traffic.
      const token = new URL(url).hash.replace('#token=', '');
      const graphql = `http://127.0.0.1:${port}/graphql`;
      const me = await gqlData(graphql, token, '{ me { id wallets { id } } }');
      expect(me.me.id).toBe('demo-alice');
      expect(me.me.wallets.length).toBe(3);
      await waitUntil(async () => (await gqlData(graphql, token, '{ events(first: 100, types: [TRANSACTION]) { edges { cursor } } }')).events.edges.length > 0, 30_000);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
