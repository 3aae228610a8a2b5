/**
 * Leaks: 2,500 subscribe/unsubscribe cycles
 * with abrupt disconnects — sockets terminated right after `subscribe`, often while the
 * subscription is still attaching — leave active subscriptions, owner topics, sockets
 * and Redis channels back at their baseline, and the server still delivers afterwards.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BACKENDS, label } from '../support/backends.ts';
import { subscribeWs, waitUntil, wsClient } from '../support/clients.ts';
import { serverOn } from '../support/fixture.ts';
import { ownerId } from '../support/ledger-ops.ts';
import { token } from '../support/tokens.ts';

/** One cycle: connect, init, subscribe, then end the socket — abruptly or politely. */
async function cycle(url: string, bearer: string, abrupt: boolean): Promise<void> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
  await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
  socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: 'subscription { walletEvents { eventId } }' } }));
  if (abrupt) {
    socket.terminate(); // no close frame: the server only sees the TCP connection drop
  } else {
    socket.send(JSON.stringify({ id: 'a', type: 'complete' }));
    socket.close(1000);
  }
}

describe.each(BACKENDS)('leaks on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('returns to baseline after 2,500 subscribe/unsubscribe cycles with abrupt disconnects', async () => {
      const owners = Array.from({ length: 10 }, () => ownerId('leak'));
      const tokens = await Promise.all(owners.map((owner) => token(owner)));
      const wallet = await t.ops.createWallet(owners[0]!);
      const baseline = t.server.app.stats();
      expect(baseline).toEqual({ ownersListened: 0, subscriptions: 0, listeners: 0, webSockets: 0 });

      const ROUNDS = 50;
      const PARALLEL = 50;
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(Array.from({ length: PARALLEL }, (_, i) => cycle(t.server.wsUrl, tokens[i % tokens.length]!, i % 4 !== 0)));
      }
      await waitUntil(() => {
        const now = t.server.app.stats();
        return now.subscriptions === 0 && now.listeners === 0 && now.ownersListened === 0 && now.webSockets === 0;
      }, 30_000, () => JSON.stringify(t.server.app.stats()));

      if (backend.name === 'postgres') {
        const redis = new Redis(process.env.REDIS_URL!);
        await waitUntil(async () => ((await redis.pubsub('CHANNELS', `${t.env.env.PUBSUB_PREFIX}owner:*`)) as string[]).length === 0, 10_000);
        redis.disconnect();
      }

      // Still serving.
      const client = wsClient(t.server.wsUrl, tokens[0]!);
      const sub = subscribeWs(client, 'subscription { walletEvents { sequence } }');
      await waitUntil(() => t.server.app.stats().subscriptions === 1);
      await t.ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '1', status: 'SUCCESS' });
      expect(await sub.waitFor(2)).toEqual([{ sequence: 2 }, { sequence: 3 }]);
      await client.dispose();
    }, 180_000); // 10,000 connections; generous for a loaded two-core machine
  });
});
