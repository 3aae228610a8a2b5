/**
 * The firehose: a tenant's events in one order, the same for every reader. A durable
 * firehose consumer killed (-9) mid-stream restarts right after its last ack. Partitions
 * split the feed with no overlap and no loss; the feed stays inside the caller's tenant.
 * (The long runs are apart, in `npm run test:smoke`: the late-commit race, where no reader
 * passes an event that commits later, in test/faults/firehose-late-commit.fault.ts, and a
 * reader that stops reading, in test/faults/firehose-stalled-reader.fault.ts.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openPostgres, rowsOf } from '../src/db/client.ts';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, gqlData, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { tenantToken, token } from './support/tokens.ts';
import { tracked } from './support/processes.ts';
import { FEED, pageAll, readable, type FeedNode } from './support/firehose-pages.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

describe.each(BACKENDS)('the firehose on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('splits into 4 partitions with no overlap and no loss, each owner’s events in order in one partition', { timeout: 120_000 }, async () => {
      const tenant = `parts-${backend.name}`;
      const bearer = await tenantToken('parts', tenant);
      const ops = producer(t.server.url, bearer);
      const start = (await pageAll(t.server.url, bearer, null)).after;
      const wallets = await Promise.all(Array.from({ length: 40 }, () => ops.createWallet(ownerId('part'))));
      // 40 wallet creations + 4,980 postings of two events each = 10,000 events.
      const postings = Array.from({ length: 4_980 }, (_, i) => ({ walletId: wallets[i % wallets.length]!.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const }));
      for (let i = 0; i < postings.length; i += 166) {
        const res = await ops.postBatchRaw(postings.slice(i, i + 166));
        expect(res.errors).toBeUndefined();
      }
      const whole = (await readable(t.server.url, bearer, null, 10_000)).events;
      const parts = await Promise.all([0, 1, 2, 3].map(async (index) => (await pageAll(t.server.url, bearer, start, { partition: { index, count: 4 } })).events));

      const ids = parts.flat().map((e) => e.eventId);
      expect(ids).toHaveLength(10_000);
      expect(new Set(ids).size).toBe(10_000);
      expect(new Set(ids)).toEqual(new Set(whole.map((e) => e.eventId)));
      const partitionOf = new Map<string, number>();
      parts.forEach((events, index) => {
        expect(events.length).toBeGreaterThan(0);
        const last = new Map<string, number>();
        for (const e of events) {
          expect(partitionOf.get(e.ownerId) ?? index).toBe(index); // an owner lives in one partition
          partitionOf.set(e.ownerId, index);
          expect(e.sequence).toBe((last.get(e.ownerId) ?? 0) + 1); // and its events come in order, none missing
          last.set(e.ownerId, e.sequence);
        }
      });
    });

    it('stays inside the caller’s tenant; admins name one or read all; users are refused', async () => {
      const acme = await tenantToken('acme-reader', 'acme-feed');
      const globex = await tenantToken('globex-reader', 'globex-feed');
      const acmeOwner = ownerId('acme');
      await producer(t.server.url, acme).createWallet(acmeOwner);
      const globexOwner = ownerId('globex');
      await producer(t.server.url, globex).createWallet(globexOwner);

      const ownersIn = (events: FeedNode[]) => new Set(events.map((e) => e.ownerId));
      expect(ownersIn((await readable(t.server.url, acme, null, 1)).events)).toEqual(new Set([acmeOwner]));
      expect(ownersIn((await readable(t.server.url, globex, null, 1)).events)).toEqual(new Set([globexOwner]));
      expect(codes(await gql(t.server.url, acme, FEED, { tenant: 'globex-feed' }))).toEqual(['FORBIDDEN']);

      const admin = await token('root', 'admin');
      expect(ownersIn((await pageAll(t.server.url, admin, null, { tenant: 'globex-feed' })).events)).toEqual(new Set([globexOwner]));
      const everything = ownersIn((await pageAll(t.server.url, admin, null)).events);
      expect(everything.has(acmeOwner) && everything.has(globexOwner)).toBe(true);
      expect(codes(await gql(t.server.url, await token(acmeOwner), FEED))).toEqual(['FORBIDDEN']);
    });

    it('streams live in feed order, with partitions and types, and resumes an SSE stream from Last-Event-ID', async () => {
      const tenant = `live-${backend.name}`;
      const bearer = await tenantToken('live', tenant);
      const ops = producer(t.server.url, bearer);
      const start = (await pageAll(t.server.url, bearer, null)).after;
      const client = wsClient(t.server.wsUrl, bearer);
      const STREAM = 'subscription($p: FeedPartition, $types: [WalletEventType!]) { feed(partition: $p, types: $types) { eventId ownerId sequence type } }';
      const whole = subscribeWs<FeedNode & { type: string }>(client, STREAM);
      const halves = [0, 1].map((index) => subscribeWs<FeedNode>(client, STREAM, { p: { index, count: 2 } }));
      const balances = subscribeWs<FeedNode & { type: string }>(client, STREAM, { types: ['BALANCE'] });
      await waitUntil(() => t.server.app.stats().subscriptions === 4);
      const wallets = await Promise.all(Array.from({ length: 6 }, () => ops.createWallet(ownerId('live'))));
      for (const wallet of wallets) await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '3', status: 'SUCCESS' });
      const log = (await readable(t.server.url, bearer, start, 18)).events;
      expect(log).toHaveLength(18);
      await waitUntil(() => whole.items.length === 18 && halves[0]!.items.length + halves[1]!.items.length === 18 && balances.items.length === 6, 10_000);
      await client.dispose();
      expect(whole.items.map((e) => e.eventId)).toEqual(log.map((e) => e.eventId));
      const inHalf = (index: number) => log.filter((e) => halves[index]!.items.some((h) => h.ownerId === e.ownerId)).map((e) => e.eventId);
      for (const index of [0, 1]) expect(halves[index]!.items.map((e) => e.eventId)).toEqual(inHalf(index));
      expect(balances.items.every((e) => e.type === 'BALANCE')).toBe(true);

      // The firehose's reads and lag are in the metrics.
      const metrics = await (await fetch(`http://127.0.0.1:${t.server.port}/metrics`)).text();
      expect(Number(/^wallet_events_feed_reads_total\{reason="(?:wake|look)"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(Number(/^wallet_events_feed_lag_seconds_count (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(18);

      // An EventSource that reconnects sends the last id it saw: a feed cursor.
      const cursors = (await gqlData(t.server.url, bearer, FEED, { after: start, first: 18 })).feed.edges.map((edge: { cursor: string }) => edge.cursor);
      const target = new URL(t.server.url);
      target.searchParams.set('query', 'subscription { feed { eventId } }');
      const res = await fetch(target, { headers: { accept: 'text/event-stream', authorization: `Bearer ${bearer}`, 'last-event-id': cursors[14] } });
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/^id: /gm) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect([...text.matchAll(/^id: (.+)$/gm)].map((match) => match[1])).toEqual(cursors.slice(15, 18));
    });

    it('refuses bad input clearly', async () => {
      const bearer = await tenantToken('bad', 'bad-input');
      const owner = ownerId('bad');
      await producer(t.server.url, bearer).createWallet(owner);
      const ownerCursor = (await gqlData(t.server.url, bearer, 'query($o: ID) { events(ownerId: $o) { edges { cursor } } }', { o: owner })).events.edges[0].cursor;
      for (const variables of [{ after: ownerCursor }, { after: 'nonsense' }, { partition: { index: 4, count: 4 } }, { partition: { index: 0, count: 0 } }, { partition: { index: 0, count: 5000 } }, { first: 0 }]) {
        const res = await gql(t.server.url, bearer, FEED, variables);
        expect(codes(res), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
      }
    });
  });
});

describe(`a durable firehose consumer on ${label(postgres)}`, () => {
  describe.skipIf(!postgres.available)('postgres + redis', () => {
    const t = serverOn(postgres);

    /** Starts a worker process; `events` fills as it prints what it processed. */
    function worker(bearer: string) {
      const child = tracked(spawn(process.execPath, ['--import', 'tsx', 'test/support/feed-worker.ts', t.server.wsUrl, bearer], { stdio: ['ignore', 'pipe', 'pipe'] }));
      const events: FeedNode[] = [];
      let buffered = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (buffered + chunk.toString()).split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (line) events.push(JSON.parse(line));
      });
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      return { child, events, errors: () => errors };
    }

    it('restarts after its last ack when killed (-9) mid-stream, and misses nothing', { timeout: 120_000 }, async () => {
      const bearer = await tenantToken('warehouse-loader', 'kill9');
      const ops = producer(t.server.url, bearer);
      const wallets = await Promise.all(Array.from({ length: 10 }, () => ops.createWallet(ownerId('k9'))));
      let posted = 0;
      const post = async (count: number) => {
        const res = await ops.postBatchRaw(Array.from({ length: count }, (_, i) => ({ walletId: wallets[i % wallets.length]!.id, direction: 'CREDIT' as const, amount: '1', status: 'SUCCESS' as const })));
        expect(res.errors).toBeUndefined();
        posted += count;
      };
      // The wallets' events readable first, so the consumer starts after them.
      const created = await readable(t.server.url, bearer, null, 10);
      const start = created.after;
      const anchor = created.events.at(-1)!; // where the consumer starts: nothing acked yet
      const first = worker(bearer);
      await waitUntil(() => t.server.app.stats().subscriptions === 1, 30_000, first.errors);
      let writing = true;
      const writer = (async () => {
        while (writing) await post(10);
      })();
      await waitUntil(() => first.events.length >= 100, 30_000, first.errors);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      await post(50); // while no worker runs

      const handle = await openPostgres(t.env.env.DATABASE_URL!, 1);
      const [stored] = rowsOf<{ owner_id: string; sequence: string }>(await handle.db.execute(sql`select owner_id, sequence from feed_consumers where name = 'warehouse'`));
      await handle.close();
      const second = worker(bearer);
      await post(50);
      writing = false;
      await writer;
      const all = (await readable(t.server.url, bearer, start, posted * 2)).events;
      expect(all).toHaveLength(posted * 2);
      await waitUntil(() => second.events.at(-1)?.eventId === all.at(-1)!.eventId, 30_000, second.errors);
      second.child.kill('SIGKILL');

      // The second worker starts right after the last event the first one acked…
      const ids = all.map((e) => e.eventId);
      const at = (e: FeedNode) => e.ownerId === stored!.owner_id && e.sequence === Number(stored!.sequence);
      // -1 when the first worker was killed before any ack left it: then the consumer is still at its start.
      const acked = at(anchor) ? -1 : all.findIndex(at);
      expect(at(anchor) || acked >= 0).toBe(true);
      expect(first.events.map((e) => e.eventId)).toEqual(ids.slice(0, first.events.length));
      expect(acked).toBeLessThan(first.events.length);
      expect(second.events.map((e) => e.eventId)).toEqual(ids.slice(acked + 1));
      // …so between them, nothing is missed.
      expect(new Set([...first.events, ...second.events].map((e) => e.eventId))).toEqual(new Set(ids));
    });
  });
});
