/**
 * /metrics: Prometheus figures that follow real activity — connections by
 * transport, subscriptions, events appended / published / delivered, commit-to-delivery
 * latency, replays, acks and server-ended streams.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { codes, gql, subscribeSse, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { serverOn } from './support/fixture.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

/** Reads one sample (`name{labels} value`) from the exposition text. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  if (!line) throw new Error(`no sample ${name}{${labels}}`);
  return Number(line.split(' ').at(-1));
}

describe.each(BACKENDS)('metrics on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${t.server.port}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };

    it('counts what the instance did', async () => {
      const before = await scrape();
      const owner = ownerId('metrics');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const client = wsClient(t.server.wsUrl, userToken);
      const ws = subscribeWs(client, 'subscription { walletEvents(consumer: "m") { eventId } }');
      const sse = subscribeSse(t.server.url, userToken, 'subscription { walletEvents { eventId } }');
      await waitUntil(() => t.server.app.stats().subscriptions === 2);
      const during = await scrape();
      expect(sample(during, 'wallet_events_connections', 'transport="ws"')).toBe(1);
      expect(sample(during, 'wallet_events_connections', 'transport="sse"')).toBe(1);
      expect(sample(during, 'wallet_events_subscriptions', 'field="walletEvents"')).toBe(2);

      for (let i = 0; i < 3; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      const got = await ws.waitFor(6);
      await sse.waitFor(6);
      await gql(t.server.url, userToken, 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "m") { sequence } }', { e: got[5].eventId });
      // A replay from the start of the log (its first cursor): 7 events.
      const log = await gql(t.server.url, userToken, '{ events(first: 1) { edges { cursor } } }');
      const replay = subscribeWs(client, 'subscription($a: String) { walletEvents(after: $a) { eventId } }', { a: log.data.events.edges[0].cursor });
      await replay.waitFor(6);
      ws.dispose();
      sse.dispose();
      replay.dispose();
      await client.dispose();

      await waitUntil(async () => sample(await scrape(), 'wallet_events_events_published_total') - sample(before, 'wallet_events_events_published_total') === 7);
      const after = await scrape();
      const grew = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
      expect(grew('wallet_events_events_appended_total')).toBe(7); // CREATED + 3 × (transaction + balance)
      expect(grew('wallet_events_events_delivered_total')).toBe(18); // 6 over ws, 6 over SSE, 6 replayed
      expect(grew('wallet_events_replays_total')).toBe(1);
      expect(grew('wallet_events_acks_total')).toBe(1);
      expect(grew('wallet_events_commit_to_delivery_seconds_count')).toBe(18);
      // Replayed events here are seconds old, so they count as live for latency.
      expect(grew('wallet_events_commit_to_send_seconds_count')).toBe(18);
      expect(grew('wallet_events_replay_duration_seconds_count')).toBe(1);
      expect(sample(after, 'wallet_events_process_resident_memory_bytes')).toBeGreaterThan(0);
    });

    it('serverStats tells an admin what this instance holds and moves; others are refused', async () => {
      const owner = ownerId('stats');
      const wallet = await t.ops.createWallet(owner);
      const userToken = await token(owner);
      const client = wsClient(t.server.wsUrl, userToken);
      const txns = subscribeWs(client, 'subscription { transactionUpdated { sequence } }');
      const balances = subscribeWs(client, 'subscription { balanceChanged { sequence } }');
      const sse = subscribeSse(t.server.url, userToken, 'subscription { walletEvents { eventId } }');
      await waitUntil(() => t.server.app.stats().subscriptions === 3);
      for (let i = 0; i < 5; i++) await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '5', status: 'SUCCESS' });
      await Promise.all([txns.waitFor(5), balances.waitFor(5), sse.waitFor(10)]);

      const query = '{ serverStats { instance startedAt connections { transport count } subscriptions { field count } eventsInPerSecond eventsOutPerSecond commitToSendMs { p50 p95 p99 max samples } } }';
      const admin = await token('ops', 'admin');
      // Rates count whole seconds that have ended, so wait for the current one to end.
      let stats: any;
      await waitUntil(async () => {
        stats = (await gql(t.server.url, admin, query)).data.serverStats;
        return stats.eventsOutPerSecond > 0;
      });
      expect(stats.instance).toMatch(/:\d+$/);
      expect(stats.connections).toEqual([
        { transport: 'sse', count: 1 },
        { transport: 'ws', count: 1 },
      ]);
      expect(stats.subscriptions).toEqual([
        { field: 'balanceChanged', count: 1 },
        { field: 'transactionUpdated', count: 1 },
        { field: 'walletEvents', count: 1 },
      ]);
      expect(stats.eventsInPerSecond).toBeGreaterThan(0);
      expect(stats.commitToSendMs.samples).toBeGreaterThanOrEqual(20);
      expect(stats.commitToSendMs.p50).toBeLessThanOrEqual(stats.commitToSendMs.p99);
      expect(stats.commitToSendMs.p99).toBeLessThanOrEqual(stats.commitToSendMs.max);

      txns.dispose();
      balances.dispose();
      sse.dispose();
      await client.dispose();
      await waitUntil(async () => (await gql(t.server.url, admin, query)).data.serverStats.subscriptions.length === 0);

      expect(codes(await gql(t.server.url, userToken, '{ serverStats { instance } }'))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.server.url, t.serviceToken, '{ serverStats { instance } }'))).toEqual(['FORBIDDEN']);
    });
  });
});
