/**
 * GraphiQL opens with three example tabs — a live subscription, a
 * polling query and a producer mutation — each with the token's place in the header editor.
 * Its assets come from the server itself: in headless Chromium with
 * every request off loopback blocked, it renders and runs a live subscription.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { token } from './support/tokens.ts';
import { CHROMIUM, chromiumFor, launchChromium } from './support/browser.ts';

const haveChromium = chromiumFor('the GraphiQL browser test');

/** The `defaultTabs` array embedded (as JSON) in the GraphiQL page. */
function embeddedTabs(html: string): { query: string; variables: string; headers: string }[] {
  const start = html.indexOf('[', html.indexOf('"defaultTabs":'));
  // The first `]` after which the text parses as JSON closes the array.
  for (let end = html.indexOf(']', start); end > 0; end = html.indexOf(']', end + 1)) {
    try {
      return JSON.parse(html.slice(start, end + 1));
    } catch {
      // a `]` inside a string: keep looking
    }
  }
  throw new Error('no defaultTabs in the GraphiQL page');
}

describe('GraphiQL', () => {
  const f = serverOn(BACKENDS[0]!);

  it('opens with example tabs and the Authorization header ready for a token', async () => {
    const res = await fetch(f.server.url, { headers: { accept: 'text/html' } });
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    // The options are embedded as JSON in the page; read them back as GraphiQL will.
    const tabs = embeddedTabs(html);
    expect(tabs.map((tab) => /^(subscription|query|mutation) (\w+)/m.exec(tab.query)?.slice(1, 3).join(' '))).toEqual([
      'subscription LiveWalletEvents',
      'query Poll',
      'mutation Post',
    ]);
    for (const tab of tabs) expect(JSON.parse(tab.headers)).toEqual({ Authorization: 'Bearer <token>' });
    expect(JSON.parse(tabs[2]!.variables).input).toMatchObject({ direction: 'CREDIT', type: 'DEPOSIT', idempotencyKey: 'deposit-1' });
  });

  it('accepts every example tab as a valid operation of the schema', async () => {
    const html = await (await fetch(f.server.url, { headers: { accept: 'text/html' } })).text();
    const tabs = embeddedTabs(html);
    for (const { query } of tabs) {
      // No token: the operation must fail on authentication, never on parsing or validation.
      const body = await (await fetch(f.server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query, variables: { input: { walletId: 'x', direction: 'CREDIT', type: 'DEPOSIT', amount: '1', idempotencyKey: 'k' } } }) })).json();
      const codes = (body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
      expect(codes).not.toContain('GRAPHQL_PARSE_FAILED');
      expect(codes).not.toContain('GRAPHQL_VALIDATION_FAILED');
    }
  });

  it("answers a browser's /favicon.ico with the site's icon", async () => {
    const base = `http://127.0.0.1:${f.server.port}`;
    const ico = await fetch(`${base}/favicon.ico`, { redirect: 'manual' });
    expect(ico.status).toBe(301);
    expect(ico.headers.get('location')).toBe('/favicon.svg');
    const svg = await fetch(`${base}/favicon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toMatch(/^<svg /);
    expect(await (await fetch(`${base}/`)).text()).toContain('<link rel="icon" href="/favicon.svg"');
  });

  it('serves its own assets, gzipped and cacheable, and loads nothing from elsewhere', async () => {
    const html = await (await fetch(f.server.url, { headers: { accept: 'text/html' } })).text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(sources).toEqual(['/graphiql/graphiql.css', '/graphiql/graphiql.js']);
    const script = await fetch(`http://127.0.0.1:${f.server.port}/graphiql/graphiql.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(script.headers.get('cache-control')).toBe('public, max-age=86400');
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
    expect((await fetch(`http://127.0.0.1:${f.server.port}/graphiql/nothing.js`)).status).toBe(404);
  });

  it.skipIf(!haveChromium)(haveChromium ? 'renders and runs a live subscription with every request off loopback blocked' : `renders offline (SKIPPED: no ${CHROMIUM})`, { timeout: 60_000 }, async () => {
    const owner = 'graphiql-offline';
    const wallet = await f.ops.createWallet(owner);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const blocked: string[] = [];
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
        blocked.push(url.href);
        return route.abort();
      });
      await page.goto(f.server.url);
      await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
      // The first tab is the live subscription: put a real token in its headers and run it.
      await page.getByText('Headers', { exact: true }).click();
      await page.getByText('Bearer <token>').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${await token(owner)}` }));
      await page.click('.graphiql-execute-button');
      await expect.poll(() => f.server.app.stats().subscriptions, { timeout: 10_000 }).toBe(1);
      await f.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '777', status: 'SUCCESS' });
      await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('777'), undefined, { timeout: 10_000 });
      expect(blocked).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
