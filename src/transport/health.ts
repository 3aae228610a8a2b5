/** `/health` (the process is alive), `/ready` (its database and backbone answer) and `/metrics`. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A named dependency check. */
export type Probe = { name: string; check: () => Promise<void> };

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
  const results = await Promise.all(probes.map(async (probe) => [probe.name, await run(probe)] as const));
  const ready = results.every(([, result]) => result === 'ok');
  send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
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
