/**
 * `@wallet-events/client` as an app team gets it: `npm pack` makes the tarball, which is
 * installed into an empty project outside the repository (with graphql, graphql-ws and ws,
 * the peers such an app brings). From there it must run in Node against a real server,
 * bundle for browsers and run in Chromium, and type-check an app (and reject a wrong one).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumFor, launchChromium } from './support/browser.ts';
import { producer } from './support/ledger-ops.ts';
import { RUN_MARKER, tracked } from './support/processes.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';
import { waitUntil } from './support/clients.ts';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const haveChromium = chromiumFor('the browser half of the client package test');

/** The app's code: a subscription with the package's typed document, printing each event. */
const NODE_APP = `
import WebSocket from 'ws';
import { WalletEventsSubscription } from '@wallet-events/client';
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';

const [url, bearer] = process.argv.slice(2);
const client = new WalletEventsClient({ url, token: () => bearer, webSocketImpl: WebSocket });
client.onStateChange((state) => state === 'connected' && console.log(JSON.stringify({ state })));
client.subscribe({
  query: WalletEventsSubscription,
  onEvent: (event) => console.log(JSON.stringify({ type: event.__typename, sequence: event.sequence })),
  onError: (error) => { console.error(error.message); process.exit(1); },
});
`;

const TYPED_APP = `
import { resumable, backoffDelay, type WalletEventsResult } from '@wallet-events/client';
import { WalletEventsClient, type ConnectionState } from '@wallet-events/client/graphql-ws';

export const state: ConnectionState = 'reconnecting';
export const delay: number = backoffDelay(2);
export function sequenceOf(result: WalletEventsResult): number {
  return result.walletEvents.sequence;
}
export const make = (url: string) => new WalletEventsClient({ url, token: () => 'token' });
export { resumable };
`;

const BROWSER_APP = `
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';
const { url, bearer } = window.walletEventsTest;
const client = new WalletEventsClient({ url, token: () => bearer });
client.subscribe({
  query: 'subscription ($after: String) { walletEvents(after: $after) { __typename sequence } }',
  onEvent: (event) => window.received.push(event.__typename + ' ' + event.sequence),
});
`;

describe('@wallet-events/client from its tarball, in an empty project', () => {
  let app: string;
  let tarball: string;
  let server: RunningServer;

  beforeAll(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'wallet-events-client-app-'));
    app = join(scratch, 'app');
    mkdirSync(app);
    // The test run built the package already (global-setup), so its prepack build is skipped.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: join(ROOT, 'packages/client') });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, packed!.filename);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'client-app', private: true, type: 'module' }));
    // The packages come from npm's cache, which the repository's own install filled.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, 'graphql@16', 'graphql-ws@6', 'ws@8'], { cwd: app, timeout: 120_000 });
    server = await startServer({ DATA_DIR: 'memory://' });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (app) rmSync(join(app, '..'), { recursive: true, force: true });
  });

  it('ships the compiled modules, their declarations and a README, and no build leftovers', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((path) => path.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/graphql-ws.js', 'dist/graphql-ws.d.ts']));
    expect(files.filter((path) => /tsbuildinfo|\.test\./.test(path))).toEqual([]);
    expect(readdirSync(join(app, 'node_modules/@wallet-events/client/dist')).length).toBeGreaterThan(0);
  });

  it('runs from Node: a WalletEventsClient receives the events of a posting', async () => {
    writeFileSync(join(app, 'watch.mjs'), NODE_APP);
    const owner = `pkg-node-${server.port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);
    const child = tracked(spawn(process.execPath, ['watch.mjs', server.wsUrl, await token(owner)], { cwd: app, env: { PATH: process.env.PATH!, [RUN_MARKER]: process.env[RUN_MARKER] ?? '' } }));
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => output.includes('"state":"connected"') && server.app.stats().subscriptions === 1, 20_000, () => output);
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      await waitUntil(() => output.includes('"type":"BalanceEvent"'), 20_000, () => output);
      const events = output.split('\n').filter((line) => line.includes('"type"')).map((line) => JSON.parse(line));
      expect(events).toEqual([
        { type: 'TransactionEvent', sequence: 2 },
        { type: 'BalanceEvent', sequence: 3 },
      ]);
    } finally {
      child.kill();
    }
  });

  it('bundles for browsers, leaving graphql-ws out of an app that does not use it', async () => {
    const bundle = (contents: string) =>
      build({ stdin: { contents, resolveDir: app, loader: 'ts' }, absWorkingDir: app, bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent' });
    const light = await bundle("import { resumable } from '@wallet-events/client'; console.log(resumable);");
    const inputs = Object.keys(light.metafile.inputs);
    expect(inputs.some((path) => path.includes('node_modules/@wallet-events/client/dist/'))).toBe(true);
    expect(inputs.filter((path) => path.includes('graphql-ws'))).toEqual([]);
    const full = await bundle("import { WalletEventsClient } from '@wallet-events/client/graphql-ws'; console.log(WalletEventsClient);");
    expect(Object.keys(full.metafile.inputs).some((path) => path.includes('node_modules/graphql-ws/'))).toBe(true);
  });

  it.skipIf(!haveChromium)('runs from that bundle in Chromium against the server', async () => {
    const { outputFiles } = await build({ stdin: { contents: BROWSER_APP, resolveDir: app, loader: 'js' }, absWorkingDir: app, bundle: true, minify: true, format: 'iife', platform: 'browser', write: false, logLevel: 'silent' });
    const script = outputFiles[0]!.text;
    const owner = `pkg-browser-${server.port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);
    // The page comes from a loopback origin of its own, as an app's would.
    const page: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>client app</title>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${(page.address() as { port: number }).port}/`);
      await tab.evaluate(({ url, bearer }) => Object.assign(window, { walletEventsTest: { url, bearer }, received: [] }), { url: server.wsUrl, bearer: await token(owner) });
      await tab.addScriptTag({ content: script });
      await waitUntil(() => server.app.stats().subscriptions === 1, 20_000);
      await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '7', status: 'SUCCESS' });
      await waitUntil(async () => (await tab.evaluate(() => (window as unknown as { received: string[] }).received.length)) === 2, 20_000);
      expect(await tab.evaluate(() => (window as unknown as { received: string[] }).received)).toEqual(['TransactionEvent 2', 'BalanceEvent 3']);
    } finally {
      await browser.close();
      page.close();
    }
  });

  it('type-checks an app against its declarations, and rejects a wrong use', async () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] }, include: ['app.ts', 'wrong.ts'] }));
    writeFileSync(join(app, 'app.ts'), TYPED_APP);
    writeFileSync(join(app, 'wrong.ts'), "import type { ConnectionState } from '@wallet-events/client/graphql-ws';\nexport const wrong: ConnectionState = 'asleep';\n");
    // One compiler run: the app compiles clean, and the wrong use is the only error.
    const failure = (await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: app }).catch((error) => error)) as { stdout: string };
    const errors = failure.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^wrong\.ts\(2,\d+\): error TS2322: Type '"asleep"' is not assignable to type 'ConnectionState'/);
  });
});
