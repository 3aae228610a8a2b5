/**
 * deploy/nginx.conf, the proxy docker-compose.yml puts in front of two instances, run for
 * real with nginx: mutations, graphql-ws (the upgrade must pass) and SSE (events must pass
 * unbuffered) all work through it, and events committed on either instance reach
 * subscribers connected through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from './support/backends.ts';
import { subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { instancePair } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { freePort } from './support/server.ts';
import { token } from './support/tokens.ts';
import { tracked } from './support/processes.ts';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const haveNginx = existsSync(NGINX);
if (!haveNginx && process.env.REQUIRE_SERVICES === '1') {
  throw new Error(`REQUIRE_SERVICES=1 but no nginx at ${NGINX} (apt-get install nginx-light): the proxy test would be skipped`);
}
const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const runs = haveNginx && postgres.available;

describe.skipIf(!runs)(runs ? 'deploy/nginx.conf in front of two instances' : 'deploy/nginx.conf (SKIPPED: needs nginx and PostgreSQL + Redis)', () => {
  const pair = instancePair(postgres);
  let nginx: ChildProcess;
  let prefix: string;
  let base: string;

  beforeAll(async () => {
    prefix = await mkdtemp(join(tmpdir(), 'nginx-'));
    await mkdir(join(prefix, 'logs'));
    const port = await freePort();
    // The shipped file, with the compose service names swapped for this test's instances.
    const config = (await readFile('deploy/nginx.conf', 'utf8'))
      .replace(/server wallet-events-1:4000/, `server 127.0.0.1:${pair.a.port}`)
      .replace(/server wallet-events-2:4000/, `server 127.0.0.1:${pair.b.port}`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('worker_processes auto;', 'worker_processes 1;');
    expect(config).toContain(`127.0.0.1:${pair.a.port}`);
    await writeFile(join(prefix, 'nginx.conf'), config);
    nginx = tracked(spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')}; error_log ${join(prefix, 'logs', 'error.log')};`], { stdio: 'inherit' }));
    base = `http://127.0.0.1:${port}`;
    await waitUntil(() => fetch(`${base}/health`).then((res) => res.ok, () => false), 10_000);
  });

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it('serves the API, the dashboard, graphql-ws and unbuffered SSE through the proxy', async () => {
    const owner = ownerId('proxied');
    const viaProxy = producer(`${base}/graphql`, await token('producer', 'service'));
    const wallet = await viaProxy.createWallet(owner);
    expect((await fetch(`${base}/`)).headers.get('content-type')).toContain('text/html');

    const userToken = await token(owner);
    const client = wsClient(`${base.replace('http', 'ws')}/graphql`, userToken);
    const ws = subscribeWs(client, 'subscription { walletEvents { sequence } }');
    const sse = subscribeSse(`${base}/graphql`, userToken, 'subscription { walletEvents { sequence } }');
    await waitUntil(() => pair.a.app.stats().subscriptions + pair.b.app.stats().subscriptions === 2);

    // Committed on each instance directly: both reach both subscribers through nginx.
    await producer(pair.a.url, await token('producer', 'service')).post({ walletId: wallet.id, direction: 'CREDIT', amount: '10', status: 'SUCCESS' });
    await producer(pair.b.url, await token('producer', 'service')).post({ walletId: wallet.id, direction: 'CREDIT', amount: '20', status: 'SUCCESS' });
    expect((await ws.waitFor(4)).map((e) => e.sequence)).toEqual([2, 3, 4, 5]);
    // They must arrive as sent, not held in a proxy buffer (the server also asks for that, with X-Accel-Buffering: no).
    expect((await sse.waitFor(4)).map((e) => e.sequence)).toEqual([2, 3, 4, 5]);

    ws.dispose();
    sse.dispose();
    await client.dispose();
  });
});
