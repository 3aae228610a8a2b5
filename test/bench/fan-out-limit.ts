/**
 * The fan-out limit: the load tool's own subscribers (the same client code, the same
 * shape: connections spread over owners) against a bare `ws` server that makes events as
 * fast as its sockets take them (test/bench/fan-out-limit-server.ts). What it delivers per
 * second is what Node and `ws` can do on this machine, the figure the fan-out scenario is
 * set beside.
 */
import { toolToken } from '../../tools/load/api.ts';
import { subscribeWs, Tally, type Subscriber } from '../../tools/load/subscribers.ts';
import { freePort, spawnServer } from '../support/server.ts';

export interface FanOutLimit {
  deliveriesPerSecond: number;
  connections: number;
  gaps: number;
  duplicates: number;
  errors: number;
}

/** Opens `connections` subscribers over `owners` on a bare server of its own, lets it deliver for `durationMs`, counts. */
export async function benchFanOutLimit(secret: string, connections: number, owners: number, durationMs: number): Promise<FanOutLimit> {
  const server = await spawnServer({}, await freePort(), { script: 'test/bench/fan-out-limit-server.ts' });
  const base = `http://127.0.0.1:${server.port}`;
  const tally = new Tally();
  const subscribers: Subscriber[] = [];
  try {
    const tokens = await Promise.all(Array.from({ length: owners }, (_, i) => toolToken(secret, `limit-${i}`, 'user')));
    for (let start = 0; start < connections; start += 500) {
      const wave = Array.from({ length: Math.min(500, connections - start) }, (_, k) => start + k);
      subscribers.push(...(await Promise.all(wave.map((i) => subscribeWs({ url: `${base}/graphql`, token: tokens[i % owners]!, tally })))));
    }
    // A subscriber is open at connection_ack; its subscribe message may still be on its way.
    const deadline = Date.now() + 30_000;
    while (Number(await (await fetch(`${base}/subscribed`)).text()) < subscribers.length) {
      if (Date.now() > deadline) throw new Error('the bare server did not see every subscription within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await fetch(`${base}/start`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // warm-up, not counted
    const from = tally.received;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    const received = tally.received - from;
    const seconds = (performance.now() - started) / 1000;
    // The server writes ahead of what the subscribers have read (kernel buffers hold a lot on
    // loopback); end it now rather than let them read the backlog.
    await server.kill();
    return { deliveriesPerSecond: Math.round(received / seconds), connections: subscribers.length, gaps: tally.gaps, duplicates: tally.duplicates, errors: tally.errors };
  } finally {
    for (const subscriber of subscribers) subscriber.close();
    await server.kill();
  }
}
