/**
 * Clients that resume by themselves. The server process a client is connected to is killed (-9); 50
 * transactions are committed through a second instance; the first starts again on the
 * same port. graphql-ws
 * and graphql-sse reconnect by themselves and send the subscription's request again:
 * through `resumable`, that request asks for the events after the last one received, so the
 * app ends with every event exactly once, in order, with no reconnect code of its own.
 * Where the client's URL names the other instance, the reconnect lands there instead. A
 * plain EventSource does the same with `Last-Event-ID`.
 */
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { watchWithApollo } from '../examples/apollo-client.ts';
import { watchWithUrqlSse, watchWithUrqlWs } from '../examples/urql-client.ts';
import { resumable } from '@wallet-events/client';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { subscribeSse, waitUntil } from './support/clients.ts';
import { producer, ownerId, type Producer } from './support/ledger-ops.ts';
import { freePort, spawnServer, startServer, type RunningServer, type ServerProcess } from './support/server.ts';
import { token } from './support/tokens.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

interface Seen {
  eventId: string;
  sequence: number;
}

/** Starts watching with `url()` as the endpoint; returns the stop function. */
type Watch = (url: () => string, token: string, onEvent: (event: Seen) => void, after: string) => () => void;

const QUERY = 'subscription($after: String) { walletEvents(after: $after) { eventId sequence } }';

/** A bare graphql-ws client through `resumable`, read with `iterate` (a `for await` loop). */
const bareGraphqlWs: Watch = (url, bearer, onEvent, after) => {
  const client = resumable(createClient({ url: () => url().replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${bearer}` } }));
  const results = client.iterate<{ walletEvents: Seen }>({ query: QUERY, variables: { after } });
  void (async () => {
    for await (const result of results) if (result.data) onEvent(result.data.walletEvents);
  })();
  return () => {
    void results.return?.();
    void client.dispose();
  };
};

/** A plain EventSource: it reconnects with `Last-Event-ID` by itself. */
const eventSource: Watch = (url, bearer, onEvent, after) => {
  const sub = subscribeSse<Seen>(url(), bearer, QUERY, { after });
  const push = sub.items.push.bind(sub.items);
  sub.items.push = (...events) => (events.forEach(onEvent), push(...events));
  return () => sub.dispose();
};

describe(`clients resume by themselves across a server restart on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    let env: BackendEnv;
    let firstEnv: Record<string, string>;
    let port: number;
    let first: ServerProcess;
    let second: RunningServer;
    let ops: Producer;

    beforeAll(async () => {
      env = await prepareBackend(postgres);
      // The first instance is a process of its own that keeps its port across restarts; its
      // SSE streams advise a short retry.
      port = await freePort();
      firstEnv = { ...env.env, SSE_RETRY: '300ms' };
      first = await spawnServer(firstEnv, port);
      second = await startServer(env.env);
      ops = producer(second.url, await token('producer', 'service'));
    });

    afterAll(async () => {
      await first?.kill('SIGKILL');
      await second?.stop();
      await env?.dispose();
    });

    const cases: [string, 'same port' | 'other instance', Watch][] = [
      ['Apollo Client (GraphQLWsLink, graphql-ws default retries)', 'same port', (url, t, onEvent, after) => watchWithApollo(() => url().replace(/^http/, 'ws'), t, onEvent, after)],
      ['urql over graphql-ws', 'other instance', watchWithUrqlWs],
      ['urql over graphql-sse (single connection mode)', 'other instance', watchWithUrqlSse],
      ['a bare graphql-ws client', 'other instance', bareGraphqlWs],
      ['EventSource', 'same port', eventSource],
    ];

    it.each(cases)('%s ends with every event once, in order (reconnect: %s)', async (_name, reconnect, watch) => {
      const owner = ownerId('resume');
      const wallet = await ops.createWallet(owner);
      const start = (await ops.log(owner)).at(-1).cursor as string;
      const post = (count: number) => Promise.all(Array.from({ length: count }, () => ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' })));
      let firstUp = true;
      const seen: Seen[] = [];
      const stop = watch(() => (firstUp || reconnect === 'same port' ? first.url : second.url), await token(owner), (event) => seen.push(event), start);

      await post(10);
      await waitUntil(() => seen.length >= 20, 15_000, () => `${seen.length}/20 before the restart`);

      firstUp = false;
      await first.kill('SIGKILL');
      for (let i = 0; i < 5; i++) await post(10); // 50 transactions while the client's server is away
      first = await spawnServer(firstEnv, port);
      firstUp = true;
      await post(10);

      expect((await ops.log(owner)).slice(1)).toHaveLength(140); // 70 transactions, each with its balance change
      // A sentinel posting after everything: a duplicate would arrive before its events.
      await post(1);
      const log = (await ops.log(owner)).slice(1); // after the wallet's creation
      const sentinel = log.at(-1).eventId as string;
      await waitUntil(() => seen.some((e) => e.eventId === sentinel), 45_000, () => `${seen.length}/${log.length} events`);
      stop();
      expect(seen.map((e) => e.eventId)).toEqual(log.map((e) => e.eventId));
    });
  });
});
