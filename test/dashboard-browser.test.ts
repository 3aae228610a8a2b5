/**
 * The live dashboard in a real browser: headless Chromium driven
 * by playwright-core. The page loads with a token; a transaction posted through the API
 * appears within a second and the balance follows; stopping the server shows
 * "reconnecting"; events committed meanwhile (through a second instance) and after the
 * restart all appear, none missing or doubled. A screenshot is saved to .artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, prepareBackend, type BackendEnv } from './support/backends.ts';
import { producer } from './support/ledger-ops.ts';
import { freePort, startServer, type RunningServer } from './support/server.ts';
import { token } from './support/tokens.ts';
import { CHROMIUM, chromiumFor, launchChromium } from './support/browser.ts';
import { gqlData } from './support/clients.ts';
import webPush from 'web-push';

const haveChromium = chromiumFor('the browser test');
// Two instances sharing PostgreSQL + Redis let events be committed while the page's own server is down.
const backend = BACKENDS.find((b) => b.name === 'postgres' && b.available) ?? BACKENDS[0]!;

describe.skipIf(!haveChromium)(haveChromium ? `dashboard in headless Chromium (${backend.name})` : `dashboard in headless Chromium (SKIPPED: no ${CHROMIUM}; apt-get install chromium)`, () => {
  let env: BackendEnv;
  let port: number;
  let serverEnv: Record<string, string>;
  let server: RunningServer;
  let other: RunningServer | null = null;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    env = await prepareBackend(backend);
    port = await freePort();
    // The embedded backend keeps its data on disk here so that a restart finds it again.
    const vapid = webPush.generateVAPIDKeys();
    serverEnv = {
      ...env.env,
      ...(backend.name === 'embedded' ? { DATA_DIR: `.artifacts/dashboard-data-${port}` } : {}),
      PORT: String(port),
      SSE_RETRY: '300ms',
      WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
    };
    server = await startServer(serverEnv);
    if (backend.name === 'postgres') other = await startServer(env.env);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await other?.stop();
    await env?.dispose();
  });

  const rowSequences = () => page.$$eval('#feed tr[data-sequence]', (rows) => rows.map((row) => Number((row as HTMLElement).dataset.sequence)));

  it('shows live transactions and balances, and resumes after a restart with no row missing or doubled', async () => {
    const owner = `dash-${port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);

    await page.goto(`http://127.0.0.1:${port}/#token=${await token(owner, 'user', 3600)}`);
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 10_000 });
    expect(await page.textContent('#owner')).toBe(owner);
    await page.waitForSelector(`[data-wallet="${wallet.id}"]`);

    // Posted through the API: the row appears within a second and the balance follows.
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: '150000', status: 'SUCCESS', description: 'Salary' });
    await page.waitForSelector('#feed tr[data-sequence="2"]', { timeout: 1_000 });
    await page.waitForFunction((id) => document.querySelector(`[data-wallet="${id}"] .available`)?.textContent === '1,500.00 NGN', wallet.id, { timeout: 1_000 });
    expect(await page.textContent('#feed tr[data-sequence="2"]')).toContain('Salary');

    // The page's server goes away: the page says so.
    await server.stop();
    await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: 5_000 });

    // Committed while the page is disconnected (through the other instance, when there is one).
    if (other) {
      const ops2 = producer(other.url, await token('producer', 'service'));
      for (const amount of ['1000', '2000', '3000']) await ops2.post({ walletId: wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount, status: 'SUCCESS', description: `Missed ${amount}` });
    }

    server = await startServer(serverEnv);
    await page.waitForSelector('#state[data-state="resumed"]', { timeout: 15_000 });
    const ops3 = producer(server.url, await token('producer', 'service'));
    await ops3.post({ walletId: wallet.id, direction: 'CREDIT', type: 'REFUND', amount: '500', status: 'SUCCESS', description: 'After restart' });

    // Transaction events are every other sequence from 2: one per posting, each followed by its balance.
    const postings = other ? 5 : 2;
    const expected = Array.from({ length: postings }, (_, i) => 2 + 2 * i);
    await page.waitForFunction((n) => document.querySelectorAll('#feed tr[data-sequence]').length >= n, postings, { timeout: 10_000 });
    expect((await rowSequences()).sort((a, b) => a - b)).toEqual(expected);
    const finalAvailable = other ? '1,445.00 NGN' : '1,505.00 NGN';
    await page.waitForFunction(([id, text]) => document.querySelector(`[data-wallet="${id}"] .available`)?.textContent === text, [wallet.id, finalAvailable] as const, { timeout: 5_000 });

    await mkdir('.artifacts', { recursive: true });
    await page.screenshot({ path: '.artifacts/dashboard.png', fullPage: true });
  });

  it("opens on the owner's recent history, then goes on live from its end, and a 19-digit balance fits its card", async () => {
    const owner = `dash-history-${port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: '1234567890123456789', status: 'SUCCESS', description: 'Before opening' });
    await ops.post({ walletId: wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '100', status: 'SUCCESS', description: 'Also before' });
    const fresh = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await fresh.goto(`http://127.0.0.1:${port}/#token=${await token(owner, 'user', 3600)}`);
    await fresh.waitForSelector('#state[data-state="connected"]', { timeout: 10_000 });
    // Nothing new has happened, yet both earlier postings are there, newest on top.
    const rows = () => fresh.$$eval('#feed tr[data-sequence]', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.sequence)));
    expect(await rows()).toEqual([4, 2]);
    expect(await fresh.textContent('#feed tr[data-sequence="2"]')).toContain('Before opening');
    await ops.post({ walletId: wallet.id, direction: 'CREDIT', type: 'REFUND', amount: '1', status: 'SUCCESS' });
    await fresh.waitForSelector('#feed tr[data-sequence="6"]', { timeout: 5_000 });
    expect(await rows()).toEqual([6, 4, 2]);
    const card = `[data-wallet="${wallet.id}"]`;
    await fresh.waitForFunction((sel) => document.querySelector(`${sel} .available`)?.textContent === '12,345,678,901,234,566.90 NGN', card, { timeout: 5_000 });
    const fits = await fresh.$eval(card, (el) => [...el.querySelectorAll('*')].every((child) => child.getBoundingClientRect().right <= el.getBoundingClientRect().right + 0.5));
    expect(fits).toBe(true);
    await fresh.close();
  });

  it('keeps the notification list and its unread badge the same on two open pages, live', async () => {
    const owner = `dash-notes-${port}`;
    const ops = producer(server.url, await token('producer', 'service'));
    const wallet = await ops.createWallet(owner);
    const user = await token(owner, 'user', 3600);
    await gqlData(server.url, user, 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: TRANSACTION_ABOVE, threshold: "1000" }) { id } }', { w: wallet.id });
    const [phone, laptop] = [await browser.newPage(), await browser.newPage()];
    for (const p of [phone, laptop]) {
      await p.goto(`http://127.0.0.1:${port}/#token=${user}`);
      await p.waitForSelector('#state[data-state="connected"]', { timeout: 10_000 });
    }
    const unread = (p: Page) => p.textContent('#unread');
    const unreadIs = (p: Page, n: number) => p.waitForFunction((count) => document.getElementById('unread')?.textContent === String(count), n, { timeout: 5_000 });

    await ops.post({ walletId: wallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: '250000', status: 'SUCCESS' });
    for (const p of [phone, laptop]) await unreadIs(p, 1);
    expect(await phone.textContent('#notifications li.unread .title')).toBe('Large transaction');
    expect(await phone.textContent('#notifications li.unread .body')).toBe('A credit of 2,500.00 NGN is above 10.00 NGN.');

    // Read on the phone: the laptop's badge and list follow.
    await phone.click('#notifications li.unread button');
    for (const p of [phone, laptop]) {
      await unreadIs(p, 0);
      await p.waitForSelector('#notifications li:not(.unread)[data-note]');
    }
    await ops.post({ walletId: wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '2000', status: 'SUCCESS' });
    await ops.post({ walletId: wallet.id, direction: 'DEBIT', type: 'PAYMENT', amount: '3000', status: 'SUCCESS' });
    for (const p of [phone, laptop]) await unreadIs(p, 2);
    expect(await laptop.$$eval('#notifications li[data-note]', (items) => items.length)).toBe(3);
    await laptop.click('#mark-all');
    for (const p of [phone, laptop]) await unreadIs(p, 0);
    expect([await unread(phone), await unread(laptop)]).toEqual(['0', '0']);
    await phone.close();
    await laptop.close();
  });

  it('offers "Notify me", and its service worker shows a push it is handed', async () => {
    const owner = `dash-push-${port}`;
    await producer(server.url, await token('producer', 'service')).createWallet(owner);
    const context = await browser.newContext();
    const origin = `http://127.0.0.1:${port}`;
    await context.grantPermissions(['notifications'], { origin });
    const fresh = await context.newPage();
    const cdp = await context.newCDPSession(fresh);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => registrations.push(...updated));
    await cdp.send('ServiceWorker.enable');
    await fresh.goto(`${origin}/#token=${await token(owner, 'user', 3600)}`);
    await fresh.waitForSelector('#notify:not([disabled])', { timeout: 10_000 });
    expect(await fresh.getAttribute('#notify', 'aria-pressed')).toBe('false');
    // `ready` resolves while the worker may still be activating; a push is handled only once it is activated.
    await fresh.evaluate(async () => {
      const worker = (await navigator.serviceWorker.ready).active!;
      if (worker.state !== 'activated') await new Promise((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve(true)));
    });
    const registration = registrations.findLast((r) => r.scopeURL === `${origin}/` && !r.isDeleted)!;
    expect(registration).toBeDefined();
    // What a push service would hand the worker once it decrypted our payload (no push service is reached: tests stay on loopback).
    const payload = { title: 'Possible fraud', body: 'A debit of 25.00 NGN was flagged (risk 87/100): mule account', badge: 1, urgent: true, data: { kind: 'FRAUD_FLAG', notificationId: 'n-1' } };
    const notifications = () => fresh.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction })));
    // Polled: the worker shows it once it has handled the push event, a moment later. In
    // full-suite runs on two busy cores one delivery went unanswered for 15 s with the
    // worker activated (cause not found), so an unanswered push is handed again, as a push
    // service redelivers; the tag makes a second showing replace the first, so the answer
    // is still exactly one notification.
    let shown = await notifications();
    for (let delivery = 0; shown.length === 0 && delivery < 4; delivery++) {
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: registration.registrationId, data: JSON.stringify(payload) });
      for (const deadline = Date.now() + 4_000; shown.length === 0 && Date.now() < deadline; shown = await notifications()) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(shown).toEqual([{ title: 'Possible fraud', body: payload.body, tag: 'n-1', requireInteraction: true }]);
    await context.close();
  });

  it('asks for a token, keyboard first, when it has none or a bad one', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`http://127.0.0.1:${port}/#token=not-a-token`);
    await fresh.waitForSelector('#token-form:not([hidden])');
    expect(await fresh.textContent('#token-error')).toContain('UNAUTHENTICATED');
    expect(await fresh.evaluate(() => document.activeElement?.id)).toBe('token-input');
    await fresh.keyboard.type(await token('someone', 'user'));
    await fresh.keyboard.press('Enter');
    await fresh.waitForSelector('#state[data-state="connected"]');
    await fresh.close();
  });
});
