/**
 * GraphiQL (issue: what users see) opens with three example tabs — a live subscription, a
 * polling query and a producer mutation — each with the token's place in the header editor.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';

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
});
