/** `/health` (the process is alive), `/ready` (its database and backbone answer) and `/metrics`. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A named dependency check. A `degradable` dependency's failure leaves the instance
 * serving (worse, not broken), so it turns /ready to "degraded", still 200.
 */
export type Probe = { name: string; check: () => Promise<void>; degradable?: boolean };

const PROBE_TIMEOUT_MS = 2_000;

/** Handles the request if it is a health path; returns false to pass it on. */
export async function handleHealth(req: IncomingMessage, res: ServerResponse, probes: readonly Probe[], draining: () => boolean = () => false): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') {
    send(res, 200, { status: 'ok' });
    return true;
  }
  if (path !== '/ready') return false;
  if (draining()) {
    // Tell the load balancer to stop sending traffic before the sockets go.
    send(res, 503, { status: 'draining' });
    return true;
  }
  const results = await Promise.all(probes.map(async (probe) => [probe, await run(probe)] as const));
  const failed = results.filter(([, result]) => result !== 'ok');
  // Taking an instance out because a shared dependency like Redis is away would take out
  // every instance at once; a degraded one still delivers every event (through the head check).
  const status = failed.length === 0 ? 'ready' : failed.every(([probe]) => probe.degradable) ? 'degraded' : 'not ready';
  send(res, status === 'not ready' ? 503 : 200, { status, checks: Object.fromEntries(results.map(([probe, result]) => [probe.name, result])) });
  return true;
}

async function run(probe: Probe): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** Serves Prometheus metrics at /metrics; returns false for other paths. */
export async function handleMetrics(req: IncomingMessage, res: ServerResponse, registry: { metrics(): Promise<string>; contentType: string }): Promise<boolean> {
  if ((req.url ?? '/').split('?')[0] !== '/metrics') return false;
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(await registry.metrics());
  return true;
}
