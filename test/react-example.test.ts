/**
 * The React example (examples/react/) in a real browser: bundled by esbuild here (no dev server), served as two static files to headless Chromium, it
 * shows live transactions through urql's useSubscription over the resumable connection.
 * The server goes away; transactions are committed meanwhile (through a second instance
 * when there is one); the server comes back on the same port: the page resumes with every
 * row exactly once and the balance exact.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, prepareBackend, type BackendEnv } from './support/backends.ts';
import { producer } from './support/ledger-ops.ts';
import { freePort, startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';
import { bundleReactExample } from '../tools/client/bundle.ts';
import { CHROMIUM, chromiumFor, launchChromium } from './support/browser.ts';

const haveChromium = chromiumFor('the React example test');
const backend = BACKENDS.find((b) => b.name === 'postgres' && b.available) ?? BACKENDS[0]!;

describe.skipIf(!haveChromium)(haveChromium ? `React example in headless Chromium (${backend.name})` : `React example in headless Chromium (SKIPPED: no ${CHROMIUM})`, () => {
  let env: BackendEnv;
  let serverEnv: Record<string, string>;
  let server: RunningServer;
  let other: RunningServer | null = null;
  let browser: Browser;
  let page: Page;
  let pageOrigin: string;
  let files: Server;

  beforeAll(async () => {
    env = await prepareBackend(backend);
    const port = await freePort();
    serverEnv = { ...env.env, ...(backend.name === 'embedded' ? { DATA_DIR: `.artifacts/react-data-${port}` } : {}), PORT: String(port) };
    server = await startServer(serverEnv);
    if (backend.name === 'postgres') other = await startServer(env.env);
    const [html, script] = await Promise.all([readFile('examples/react/index.html', 'utf8'), bundleReactExample()]);
    browser = await launchChromium();
    page = await browser.newPage();
    // Two static files on loopback (a page from anywhere else may not reach a loopback API in Chromium).
    files = createServer((req, res) => {
      const isScript = req.url?.startsWith('/main.js');
      res.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' }).end(isScript ? script : html);
    });
    files.listen(0, '127.0.0.1');
    await once(files, 'listening');
    pageOrigin = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    files?.close();
    await server?.stop();
    await other?.stop();
    await env?.dispose();
  });

  const rowSequences = () => page.$$eval('#feed tr[data-sequence]', (rows) => rows.map((row) => Number((row as HTMLElement).dataset.sequence)));
  const available = (walletId: string) => page.textContent(`[data-wallet="${walletId}"] .available`);

  it('shows live rows, and after a server restart every row exactly once with the exact balance', async () => {
    const owner = `react-${server.port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);
    const deposit = (via: typeof ops, amount: number) => via.post({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: String(amount), status: 'SUCCESS', description: `deposit ${amount}` });

    await page.goto(`${pageOrigin}/#token=${await token(owner, 'user', 3600)}&api=${encodeURIComponent(server.url)}`);
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 10_000 });
    await expect.poll(() => server.app.stats().subscriptions, { timeout: 10_000 }).toBe(1);
    for (const amount of [100, 200]) await deposit(ops, amount);
    await page.waitForSelector('#feed tr[data-sequence="4"]', { timeout: 5_000 });
    expect(await available(wallet.id)).toBe('300');

    await server.stop();
    await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: 5_000 });
    if (other) {
      const elsewhere = producer(other.url, await token('producer', 'service'));
      for (const amount of [1000, 2000, 3000]) await deposit(elsewhere, amount);
    }
    server = await startServer(serverEnv);
    await deposit(producer(server.url, await token('producer', 'service')), 5);

    const postings = other ? 6 : 3;
    await page.waitForFunction((n) => document.querySelectorAll('#feed tr[data-sequence]').length >= n, postings, { timeout: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate row would appear now
    // Transaction events are every other sequence from 2 (each posting is followed by its balance), newest first.
    expect(await rowSequences()).toEqual(Array.from({ length: postings }, (_, i) => 2 + 2 * (postings - 1 - i)));
    const balance = (await ops.wallet(wallet.id)).balance.available;
    expect(balance).toBe(other ? '6305' : '305');
    await expect.poll(() => available(wallet.id), { timeout: 5_000 }).toBe(balance);
  });
});
