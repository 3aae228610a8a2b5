/**
 * Real clients: Apollo Client with GraphQLWsLink, urql with
 * subscriptionExchange over graphql-ws and over graphql-sse, and a client typed by the
 * graphql-codegen client preset each subscribe, receive, and resume after a cursor with
 * no gap and no duplicate. The code under test is examples/, which the client guide
 * (docs/guides/clients.md) shows verbatim (checked below), so its examples are tested code.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { watchWithApollo } from '../examples/apollo-client.ts';
import { watchBalances } from '../examples/typed-client.ts';
import { watchWithUrqlSse, watchWithUrqlWs } from '../examples/urql-client.ts';
import { BACKENDS, label } from './support/backends.ts';
import { waitUntil } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

interface Received {
  sequence: number;
  cursor: string;
}

type Watch = (url: string, token: string, onEvent: (event: Received) => void, after?: string) => () => void;

describe.each(BACKENDS)('real clients on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const f = serverOn(backend);

    const clients: [string, (server: typeof f.server) => string, Watch][] = [
      ['Apollo Client (GraphQLWsLink)', (s) => s.wsUrl, watchWithApollo],
      ['urql over graphql-ws', (s) => s.url, watchWithUrqlWs],
      ['urql over graphql-sse', (s) => s.url, watchWithUrqlSse],
      ['the codegen-typed client (balance changes)', (s) => s.wsUrl, (url, t, onEvent, after) => watchBalances(url, t, (b) => onEvent(b), after)],
    ];

    it.each(clients)('%s subscribes, receives, and resumes after its last cursor', async (_name, urlOf, watch) => {
      const owner = ownerId('client');
      const wallet = await f.ops.createWallet(owner);
      const userToken = await token(owner);
      const deposit = (amount: number) => f.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: String(amount), status: 'SUCCESS' });

      // The typed client watches balance changes only: one per deposit; the others see two.
      const perDeposit = _name.includes('typed') ? 1 : 2;
      const first: Received[] = [];
      let stop = watch(urlOf(f.server), userToken, (event) => first.push(event));
      await waitUntil(() => f.server.app.stats().subscriptions === 1);
      for (const amount of [100, 200, 300]) await deposit(amount);
      await waitUntil(() => first.length >= 3 * perDeposit, 15_000, () => `${first.length} events`);
      stop();
      await waitUntil(() => f.server.app.stats().subscriptions === 0);

      // Missed while away, then resumed from the last cursor seen.
      for (const amount of [400, 500]) await deposit(amount);
      const resumed: Received[] = [];
      stop = watch(urlOf(f.server), userToken, (event) => resumed.push(event), first.at(-1)!.cursor);
      await waitUntil(() => resumed.length >= 2 * perDeposit, 15_000, () => `${resumed.length} events after resume`);
      await deposit(600);
      await waitUntil(() => resumed.length >= 3 * perDeposit, 15_000, () => `${resumed.length} events after resume`);
      stop();
      // Gone before the next case counts its own subscription.
      await waitUntil(() => f.server.app.stats().subscriptions === 0);

      const sequences = [...first, ...resumed].map((e) => Number(e.sequence));
      // No gap, no duplicate: each sequence once, in order (the typed client skips transaction events).
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(resumed.length).toBe(3 * perDeposit);
      if (perDeposit === 2) expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => sequences[0]! + i));
    });
  });
});

describe('the client guide\'s examples', () => {
  it('shows the tested example files verbatim', async () => {
    const guide = await readFile('docs/guides/clients.md', 'utf8');
    for (const file of ['examples/apollo-client.ts', 'examples/urql-client.ts', 'examples/typed-client.ts']) {
      const code = (await readFile(file, 'utf8')).trim();
      expect(guide, `docs/guides/clients.md must contain ${file} as a code block (copy it again after editing the example)`).toContain(code);
    }
  });
});
