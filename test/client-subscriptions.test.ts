/**
 * The client library's subscriptions are independent of each other: each deduplicates and acks on its own, a
 * handler that throws stops its subscription at that event (it comes again on resume,
 * nothing after it is processed first), a transient refusal is retried while a terminal
 * one is reported, and a document that cannot resume is refused before anything is sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { CONNECTION_LOST, HANDLER_FAILED, NOT_RESUMABLE, type WalletEventsError } from '@wallet-events/client';
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';
import { BACKENDS, label } from './support/backends.ts';
import { gql, waitUntil } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

interface Seen {
  eventId: string;
  sequence: number;
}

const EVENTS = 'subscription($after: String, $consumer: String, $ownerId: ID) { walletEvents(after: $after, consumer: $consumer, ownerId: $ownerId) { eventId sequence } }';
const BALANCES = 'subscription($after: String) { balanceChanged(after: $after) { eventId sequence } }';
const settle = () => new Promise((resolve) => setTimeout(resolve, 300)); // anything more would arrive by now

describe.each(BACKENDS)('client library subscriptions on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    /** A fresh owner with a wallet, a client for them, and a deposit function; `oneToken` makes the client present the same token on every connect (else a fresh one each time). */
    async function setup({ oneToken = false, ...clientOptions }: { ackBatchSize?: number; httpUrl?: string; oneToken?: boolean } = {}) {
      const owner = ownerId('sub');
      const wallet = await t.ops.createWallet(owner);
      const start = (await t.ops.log(owner)).at(-1).cursor as string;
      const minted = oneToken ? await token(owner) : null;
      const client = new WalletEventsClient({ url: t.server.wsUrl, token: () => minted ?? token(owner), webSocketImpl: WebSocket, backoff: { initialMs: 50, maxMs: 200 }, ackIntervalMs: 60_000, ...clientOptions });
      const deposit = (times = 1) => Promise.all(Array.from({ length: times }, () => t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' })));
      return { owner, start, client, deposit };
    }

    it('hands an event to every subscription that selects it: balanceChanged and walletEvents both get the BALANCE event', async () => {
      const { start, client, deposit } = await setup();
      const balances: Seen[] = [];
      const events: Seen[] = [];
      client.subscribe<Seen>({ query: BALANCES, after: start, onEvent: (e) => void balances.push(e) });
      client.subscribe<Seen>({ query: EVENTS, after: start, onEvent: (e) => void events.push(e) });
      await deposit();
      await waitUntil(() => balances.length === 1 && events.length === 2, 10_000, () => `${balances.length} balances, ${events.length} events`);
      await client.close();
      expect(events[1]!.eventId).toBe(balances[0]!.eventId);
    });

    it('acks per consumer: a new session resumes each subscription after its own acks', async () => {
      const { client, deposit, owner } = await setup({ ackBatchSize: 2 });
      const ledger: number[] = [];
      const notifier: number[] = [];
      const errors: WalletEventsError[] = [];
      client.subscribe<Seen>({ query: EVENTS, consumer: 'ledger', onEvent: (e) => void ledger.push(e.sequence) });
      // The notifier's handler fails at sequence 4: it stops there, acked through 3 only.
      client.subscribe<Seen>({
        query: EVENTS,
        consumer: 'notifier',
        onEvent: (e) => {
          if (e.sequence === 4) throw new Error('mail server down');
          notifier.push(e.sequence);
        },
        onError: (error) => errors.push(error),
      });
      await waitUntil(() => t.server.app.stats().subscriptions === 2);
      for (let i = 0; i < 3; i++) await deposit();
      await waitUntil(() => ledger.length === 6 && errors.length === 1, 10_000, () => `${ledger.length} ledger events, ${errors.length} errors`);
      await client.close();
      await deposit();

      const next = new WalletEventsClient({ url: t.server.wsUrl, token: () => token(owner), webSocketImpl: WebSocket, ackIntervalMs: 60_000 });
      onTestFinished(() => next.close()); // also when an expectation fails: its subscriptions would count in the next test
      const ledgerAgain: number[] = [];
      const notifierAgain: number[] = [];
      next.subscribe<Seen>({ query: EVENTS, consumer: 'ledger', onEvent: (e) => void ledgerAgain.push(e.sequence) });
      next.subscribe<Seen>({ query: EVENTS, consumer: 'notifier', onEvent: (e) => void notifierAgain.push(e.sequence) });
      await waitUntil(() => ledgerAgain.length === 2 && notifierAgain.length === 6, 10_000, () => `${ledgerAgain}; ${notifierAgain}`);
      await settle();
      await next.close();
      expect(ledger).toEqual([2, 3, 4, 5, 6, 7]);
      expect(notifier).toEqual([2, 3]);
      expect(ledgerAgain).toEqual([8, 9]);
      expect(notifierAgain).toEqual([4, 5, 6, 7, 8, 9]);
    });

    it('closes only once every ack in flight is answered, also that of a subscription stopped by its handler', async () => {
      // A real HTTP hop in front of the ack endpoint that answers each ack 300 ms late.
      let answered = 0;
      const slow = createServer(async (req, res) => {
        let body = '';
        for await (const chunk of req) body += chunk;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const upstream = await fetch(t.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' }, body });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
        answered++;
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      onTestFinished(() => new Promise<void>((resolve) => slow.close(() => resolve())));
      const httpUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/graphql`;
      const { owner, start, client, deposit } = await setup({ httpUrl, ackBatchSize: 1 });
      const errors: WalletEventsError[] = [];
      // Sequence 2 is processed and acked; the handler throws at 3, which stops the subscription.
      client.subscribe<Seen>({
        query: EVENTS,
        after: start,
        consumer: 'mailer',
        onEvent: (e) => {
          if (e.sequence === 3) throw new Error('mail server down');
        },
        onError: (error) => errors.push(error),
      });
      await deposit();
      await waitUntil(() => errors.length === 1);
      await client.close();
      expect(answered).toBe(1);

      // So a new session of that consumer starts at the event its handler refused.
      const next = new WalletEventsClient({ url: t.server.wsUrl, token: () => token(owner), webSocketImpl: WebSocket });
      onTestFinished(() => next.close());
      const again: number[] = [];
      next.subscribe<Seen>({ query: EVENTS, consumer: 'mailer', onEvent: (e) => void again.push(e.sequence) });
      await waitUntil(() => again.length === 1);
      expect(again).toEqual([3]);
    });

    it('refuses a second subscription of the same consumer on one client, whose acks would cover the first’s events', async () => {
      const { client } = await setup();
      const first = client.subscribe<Seen>({ query: EVENTS, consumer: 'phone', onEvent: () => {} });
      expect(() => client.subscribe<Seen>({ query: EVENTS, consumer: 'phone', onEvent: () => {} })).toThrow(/consumer "phone" already has a subscription/);
      first.unsubscribe();
      // Once the first is gone, the name is free again.
      const again = client.subscribe<Seen>({ query: EVENTS, consumer: 'phone', onEvent: () => {} });
      again.unsubscribe();
      await client.close();
    });

    it('stops at an event whose handler throws: nothing after it is processed, and it comes again on resume', async () => {
      const { start, client, deposit } = await setup();
      await deposit(3); // sequences 2…7, all received in one burst of the replay
      const processed: number[] = [];
      const errors: WalletEventsError[] = [];
      const subscription = client.subscribe<Seen>({
        query: EVENTS,
        after: start,
        onEvent: async (e) => {
          await new Promise((resolve) => setTimeout(resolve, 5)); // the later events are queued by now
          if (e.sequence === 4) throw new Error('cannot render');
          processed.push(e.sequence);
        },
        onError: (error) => errors.push(error),
      });
      await waitUntil(() => errors.length === 1);
      await settle();
      expect(processed).toEqual([2, 3]);
      expect(errors[0]).toMatchObject({ code: HANDLER_FAILED, cursor: subscription.cursor });
      expect(errors[0]!.message).toContain('cannot render');

      client.subscribe<Seen>({ query: EVENTS, after: errors[0]!.cursor, onEvent: (e) => void processed.push(e.sequence) });
      await waitUntil(() => processed.length === 6);
      await settle();
      await client.close();
      expect(processed).toEqual([2, 3, 4, 5, 6, 7]);
    });

    it('reports FORBIDDEN once and does not retry it', async () => {
      const { client } = await setup();
      const errors: WalletEventsError[] = [];
      let retries = 0;
      client.subscribe<Seen>({ query: EVENTS, variables: { ownerId: 'someone-else' }, onEvent: () => {}, onError: (error) => errors.push(error), onRetry: () => retries++ });
      await waitUntil(() => errors.length === 1);
      await settle();
      await client.close();
      expect(errors.map((e) => e.code)).toEqual(['FORBIDDEN']);
      expect(retries).toBe(0);
    });

    it('reports a revoked token (the reconnect is refused with 4401) and stops retrying', async () => {
      // The token is the one revoked: a token minted after the revocation (in a later second
      // than its whole-second cutoff) would rightly be accepted, and the test would race the clock.
      const { client, owner } = await setup({ oneToken: true });
      const errors: WalletEventsError[] = [];
      const seen: Seen[] = [];
      client.subscribe<Seen>({ query: EVENTS, onEvent: (e) => void seen.push(e), onError: (error) => errors.push(error) });
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      const res = await gql(t.server.url, await token('security', 'admin'), 'mutation($o: ID!) { revokeAccess(ownerId: $o, reason: "stolen phone") { revoked } }', { o: owner });
      expect(res.data.revokeAccess.revoked).toBe(true);
      await waitUntil(() => errors.length === 1, 10_000);
      await settle();
      await client.close();
      expect(errors.map((e) => e.code)).toEqual([CONNECTION_LOST]);
      expect(errors[0]!.message).toContain('4401');
    });

    it('refuses a subscription that does not pass $after on, before sending it (it could not resume)', async () => {
      const { client } = await setup();
      const errors: WalletEventsError[] = [];
      client.subscribe<Seen>({ query: 'subscription { walletEvents { eventId sequence } }', onEvent: () => {}, onError: (error) => errors.push(error) });
      await waitUntil(() => errors.length === 1);
      expect(errors[0]!.code).toBe(NOT_RESUMABLE);
      expect(t.server.app.stats().subscriptions).toBe(0);
      await client.close();
    });
  });
});

const pg = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`a transient failure on ${label(pg)}`, () => {
  describe.skipIf(!pg.available)('postgres + redis', () => {
    const t = serverOn(pg);

    it('is retried from the last event: INTERNAL_SERVER_ERROR once (the log unreadable), then every event', async () => {
      const owner = ownerId('transient');
      const wallet = await t.ops.createWallet(owner);
      const start = (await t.ops.log(owner)).at(-1).cursor as string;
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      const admin = postgres(t.env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      // A real fault: the log table is away while the subscription replays from its cursor.
      await admin`alter table events rename to events_away`;
      const retries: string[] = [];
      const seen: number[] = [];
      const errors: WalletEventsError[] = [];
      const client = new WalletEventsClient({ url: t.server.wsUrl, token: () => token(owner), webSocketImpl: WebSocket, backoff: { initialMs: 50, maxMs: 200 } });
      try {
        client.subscribe<Seen>({
          query: EVENTS,
          after: start,
          onEvent: (e) => void seen.push(e.sequence),
          onError: (error) => errors.push(error),
          onRetry: (error) => {
            retries.push(error.code);
            // (postgres.js runs a query once it is awaited or then'd)
            if (retries.length === 1) admin`alter table events_away rename to events`.then(() => {});
          },
        });
        await waitUntil(() => seen.length === 2, 10_000, () => `${seen.length} events, retries ${retries}`);
      } finally {
        await admin`alter table if exists events_away rename to events`;
        await admin.end();
      }
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      await waitUntil(() => seen.length === 4);
      await client.close();
      expect(retries[0]).toBe('INTERNAL_SERVER_ERROR');
      expect(errors).toEqual([]);
      expect(seen).toEqual([2, 3, 4, 5]);
    });
  });
});
