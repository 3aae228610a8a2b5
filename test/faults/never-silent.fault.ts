/**
 * Never silent: a cursor older than retention
 * ends with CURSOR_EXPIRED (subscriptions, polling, and a consumer whose acked position
 * was pruned); a subscriber that stops reading is paused, and ends with SLOW_CONSUMER only
 * when it stays stuck past SLOW_CONSUMER_TIMEOUT, after which a resume from its consumer's
 * acked position gets the rest; one that reads again in time gets everything it missed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { acknowledgedSocket, codes, gql, subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { token } from '../support/tokens.ts';

describe.each(BACKENDS)('never silent on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    describe('CURSOR_EXPIRED', () => {
      const t = serverOn(backend, { EVENT_RETENTION: '1s', EVENT_PARTITION_INTERVAL: '1s', PRUNE_INTERVAL: '200ms' });

      it('ends subscriptions, polls and consumers whose position was pruned, and tells the client what to do', async () => {
        const owner = ownerId('old');
        const wallet = await t.ops.createWallet(owner);
        const userToken = await token(owner);
        await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
        const old = await t.ops.log(owner);
        await gql(t.server.url, userToken, 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "tablet") { sequence } }', { e: old[0].eventId });
        // Wait for the pruning job to remove them, then add a newer event that is kept.
        await waitUntil(async () => (await t.ops.log(owner)).length === 0, 10_000);
        await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '6', status: 'SUCCESS' });

        const client = wsClient(t.server.wsUrl, userToken);
        const byCursor = subscribeWs(client, 'subscription($a: String) { walletEvents(after: $a) { eventId } }', { a: old[0].cursor });
        const byConsumer = subscribeWs(client, 'subscription { walletEvents(consumer: "tablet") { eventId } }');
        await Promise.all([byCursor.ended, byConsumer.ended]);
        for (const sub of [byCursor, byConsumer]) {
          const error = (sub.errors[0] as any[])[0];
          expect(error.extensions.code).toBe('CURSOR_EXPIRED');
          expect(error.message).toMatch(/resync/);
        }
        const poll = await gql(t.server.url, userToken, 'query($a: String) { events(after: $a) { edges { cursor } } }', { a: old[0].cursor });
        expect(codes(poll)).toEqual(['CURSOR_EXPIRED']);
        // The newest cursor is still good.
        const fresh = await t.ops.log(owner);
        const ok = subscribeWs(client, 'subscription($a: String) { walletEvents(after: $a) { sequence } }', { a: fresh[0].cursor });
        expect(await ok.waitFor(1)).toEqual([{ sequence: fresh[1].sequence }]);
        await client.dispose();
      });
    });

    describe('SLOW_CONSUMER', () => {
      const t = serverOn(backend, { SUBSCRIBER_QUEUE_LIMIT: '50', SLOW_CONSUMER_BYTES: '65536', SLOW_CONSUMER_TIMEOUT: '2s' });

      it('ends a subscriber that stopped reading, and a resume from its acked position gets the rest', async () => {
        const owner = ownerId('stalled');
        const wallet = await t.ops.createWallet(owner);
        const userToken = await token(owner);

        // A raw graphql-ws client that reads one event, acks it, then stops reading its socket.
        const socket = await acknowledgedSocket(t.server.wsUrl, userToken);
        // Twenty subscriptions with full payloads on one socket, so loopback's large kernel
        // buffers fill after a few hundred posts rather than many thousands.
        const query = 'subscription { walletEvents(consumer: "mobile") { eventId sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }';
        for (let id = 1; id <= 20; id++) socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query } }));
        let firstEvent: any = null;
        socket.on('message', (data) => {
          const message = JSON.parse(String(data));
          if (message.type === 'next' && !firstEvent) {
            firstEvent = message.payload.data.walletEvents;
            socket.pause();
          }
        });
        await waitUntil(() => t.server.app.stats().subscriptions === 20);
        await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS', description: 'x'.repeat(200) });
        await waitUntil(() => firstEvent !== null);
        await gql(t.server.url, userToken, 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "mobile") { sequence } }', { e: firstEvent.eventId });

        // Produce until the server gives up on the stalled subscriber (bounded).
        let batches = 0;
        while (t.server.app.stats().subscriptions > 0) {
          if (++batches > 400) throw new Error('the stalled subscriber was never ended');
          await Promise.all(
            Array.from({ length: 10 }, () =>
              t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS', description: 'x'.repeat(250), counterparty: 'c'.repeat(120) }),
            ),
          );
        }
        // Read what the server sent last: an error payload with SLOW_CONSUMER, then complete.
        const tail: any[] = [];
        socket.on('message', (data) => tail.push(JSON.parse(String(data))));
        socket.resume();
        await waitUntil(() => tail.filter((m) => m.type === 'complete').length === 20, 30_000);
        const failures = tail.filter((m) => m.type === 'next' && m.payload.errors);
        expect(failures).toHaveLength(20);
        for (const failure of failures) {
          expect(failure.payload.errors[0].extensions.code).toBe('SLOW_CONSUMER');
          expect(failure.payload.errors[0].message).toMatch(/resume/);
        }
        socket.close();

        // Resuming from the consumer's acked position delivers everything after it.
        const log = await t.ops.log(owner);
        const client = wsClient(t.server.wsUrl, userToken);
        const resumed = subscribeWs(client, 'subscription { walletEvents(consumer: "mobile") { sequence } }');
        const rest = await resumed.waitFor(log.length - firstEvent.sequence, 60_000);
        expect(rest.map((e) => e.sequence)).toEqual(log.filter((e) => e.sequence > firstEvent.sequence).map((e) => e.sequence));
        await client.dispose();
      });
    });

    describe('a paused reader', () => {
      const t = serverOn(backend, { SLOW_CONSUMER_BYTES: '65536', SLOW_CONSUMER_TIMEOUT: '60s', MAX_BATCH_SIZE: '1000' });

      it('keeps its place while its client stops reading, and gets every event in order when it reads again', async () => {
        const owner = ownerId('paused');
        const wallet = await t.ops.createWallet(owner);
        const userToken = await token(owner);
        const socket = await acknowledgedSocket(t.server.wsUrl, userToken);
        // Ten subscriptions with full payloads, so the kernel's buffers fill long before the end.
        const query = 'subscription { walletEvents { sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }';
        const seen = new Map<string, number[]>();
        const others: any[] = [];
        socket.on('message', (data) => {
          const message = JSON.parse(String(data));
          if (message.type === 'next' && !message.payload.errors) seen.set(message.id, [...(seen.get(message.id) ?? []), message.payload.data.walletEvents.sequence]);
          else others.push(message);
        });
        for (let id = 1; id <= 10; id++) socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query } }));
        await waitUntil(() => t.server.app.stats().subscriptions === 10);
        socket.pause(); // the client stops reading its socket

        // 5,000 events pass while it reads nothing (2,500 settled credits, in batches).
        for (let batch = 0; batch < 5; batch++) {
          const inputs = Array.from({ length: 500 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const, description: 'x'.repeat(250), counterparty: 'c'.repeat(120) }));
          const res = await t.ops.postBatchRaw(inputs);
          expect(res.errors).toBeUndefined();
        }
        expect(t.server.app.stats().subscriptions).toBe(10); // paused, not ended
        const metrics = await (await fetch(t.server.url.replace(/\/graphql$/, '/metrics'))).text();
        expect(Number(/^wallet_events_stream_pauses_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);

        socket.resume();
        const want = Array.from({ length: 5_000 }, (_, i) => i + 2);
        await waitUntil(() => [...seen.values()].every((list) => list.length >= want.length) && seen.size === 10, 60_000, () => [...seen.values()].map((l) => l.length).join(','));
        for (const list of seen.values()) expect(list).toEqual(want);
        expect(others).toEqual([]); // no error, no complete: the same subscriptions carried on
        socket.close();
      });
    });

    describe('a paused reader whose events are pruned', () => {
      // No ring: a stream behind the head reads the log, where the pruning job gets first.
      const t = serverOn(backend, { FEED_RING_BYTES: '0', EVENT_RETENTION: '1s', EVENT_PARTITION_INTERVAL: '1s', PRUNE_INTERVAL: '200ms', SLOW_CONSUMER_BYTES: '65536', MAX_BATCH_SIZE: '1000' });

      it('ends with CURSOR_EXPIRED when it reads again, rather than skipping or spinning', async () => {
        const owner = ownerId('expired-while-paused');
        const wallet = await t.ops.createWallet(owner);
        const socket = await acknowledgedSocket(t.server.wsUrl, await token(owner));
        const frames: any[] = [];
        socket.on('message', (data) => frames.push(JSON.parse(String(data))));
        // Ten subscriptions with full payloads: far more than the kernel's buffers hold.
        const query = 'subscription { walletEvents { sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }';
        for (let id = 1; id <= 10; id++) socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query } }));
        await waitUntil(() => t.server.app.stats().subscriptions === 10);
        socket.pause();
        for (let batch = 0; batch < 4; batch++) {
          const inputs = Array.from({ length: 500 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1', status: 'PENDING' as const, description: 'd'.repeat(250), counterparty: 'c'.repeat(120) }));
          expect((await t.ops.postBatchRaw(inputs)).errors).toBeUndefined();
        }
        // Everything the streams have not sent yet goes past retention (one page, no cursor:
        // paging with cursors while the job prunes would itself, rightly, meet CURSOR_EXPIRED).
        const oldest = async () => (await gql(t.server.url, t.serviceToken, 'query($o: ID) { events(ownerId: $o, first: 1) { edges { cursor } } }', { o: owner })).data.events.edges;
        await waitUntil(async () => (await oldest()).length === 0, 15_000);
        socket.resume();
        // Each stream either was behind when its events went, and ends with CURSOR_EXPIRED, or
        // had already sent everything into the socket's buffers before it filled (which one
        // gets there first is the kernel's business), and then has every event.
        const head = 1 + 4 * 500;
        const sequencesOf = (id: number) => frames.filter((f) => f.id === String(id) && f.type === 'next' && !f.payload.errors).map((f) => f.payload.data.walletEvents.sequence);
        const settled = (id: number) => frames.some((f) => f.id === String(id) && f.type === 'complete') || sequencesOf(id).at(-1) === head;
        await waitUntil(() => Array.from({ length: 10 }, (_, i) => settled(i + 1)).every(Boolean), 20_000, () => `${frames.length} frames ${JSON.stringify(t.server.app.stats())}`);
        let expired = 0;
        for (let id = 1; id <= 10; id++) {
          const sequences = sequencesOf(id);
          expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 2)); // in order, no hole
          const failure = frames.find((f) => f.id === String(id) && f.type === 'next' && f.payload.errors);
          if (sequences.length === head - 1) expect(failure).toBeUndefined();
          else {
            expect(failure.payload.errors[0].extensions.code).toBe('CURSOR_EXPIRED'); // never a skip, never a hang
            expired++;
          }
        }
        expect(expired).toBeGreaterThan(5); // most were behind: ten full-payload streams share one stalled socket
        socket.close();
      });
    });

    describe('a stuck SSE reader', () => {
      const t = serverOn(backend, { SLOW_CONSUMER_TIMEOUT: '1s', SLOW_CONSUMER_BYTES: '65536', MAX_BATCH_SIZE: '1000' });

      it('ends, past SLOW_CONSUMER_TIMEOUT, the stream of a client that stopped reading, saying SLOW_CONSUMER; what it received is in order, and it resumes from its last id', async () => {
        const owner = ownerId('stuck-sse');
        const wallet = await t.ops.createWallet(owner);
        const url = new URL(t.server.url);
        url.searchParams.set('query', 'subscription { walletEvents { sequence ... on TransactionEvent { transaction { id description counterparty amount status } } } }');
        url.searchParams.set('token', await token(owner));
        const response = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(url, { headers: { accept: 'text/event-stream' } }, resolve).on('error', reject).end());
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        await waitUntil(() => t.server.app.stats().subscriptions === 1);
        response.pause(); // the client stops reading

        // Events until the kernel's buffers are full and the stream ends by itself (bounded).
        let batches = 0;
        while (t.server.app.stats().subscriptions > 0) {
          if (++batches > 60) throw new Error('the stuck stream was never ended');
          const inputs = Array.from({ length: 1000 }, () => ({ walletId: wallet.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const, description: 'x'.repeat(250), counterparty: 'c'.repeat(120) }));
          expect((await t.ops.postBatchRaw(inputs)).errors).toBeUndefined();
        }

        // Reading again, the client finds what was sent, in order, then why the stream ended.
        const ended = new Promise((resolve) => response.once('close', resolve));
        response.resume();
        await ended;
        // Only whole frames count: the cut may fall inside the last one, which is then not seen.
        const frames = text.split('\n\n').slice(0, -1).filter((frame) => frame.startsWith('id:'));
        const received = frames.map((frame) => ({ id: frame.slice(4, frame.indexOf('\n')), sequence: JSON.parse(frame.split('data: ')[1]!).data.walletEvents.sequence as number }));
        expect(received.length).toBeGreaterThan(0);
        expect(received.map((event) => event.sequence)).toEqual(Array.from({ length: received.length }, (_, i) => i + 2));
        const ending = text.split('\n\n').filter((frame) => frame.startsWith('event:')).slice(-2);
        expect(ending[0]).toContain('"code":"SLOW_CONSUMER"');
        expect(ending[1]).toMatch(/^event: complete/);

        // As an EventSource would, it reconnects with Last-Event-ID and gets the next event on.
        const last = received.at(-1)!;
        const resumed = new URL(t.server.url);
        resumed.searchParams.set('query', 'subscription { walletEvents { sequence } }');
        resumed.searchParams.set('token', await token(owner));
        const again = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(resumed, { headers: { accept: 'text/event-stream', 'last-event-id': last.id } }, resolve).on('error', reject).end());
        let more = '';
        again.setEncoding('utf8');
        again.on('data', (chunk: string) => (more += chunk));
        await waitUntil(() => /"sequence":\d+/.test(more));
        expect(Number(/"sequence":(\d+)/.exec(more)![1])).toBe(last.sequence + 1);
        again.destroy();
      });
    });
  });
});
