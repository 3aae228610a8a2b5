/**
 * Idle HTTP keep-alive connections: the server keeps one open for HTTP_KEEP_ALIVE_TIMEOUT
 * (65 s unless set) and says so in `Keep-Alive`, so that clients and proxies, whose own idle
 * timeouts are shorter, close it first; a request sent on it after a pause is answered.
 */
import { request, Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';

const embedded = BACKENDS.find((backend) => backend.name === 'embedded')!;

/** GETs `/health` through `agent`; resolves with the response's Keep-Alive header and the socket it came on. */
function health(port: number, agent: Agent): Promise<{ keepAlive: string | undefined; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ keepAlive: res.headers['keep-alive'] as string | undefined, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP keep-alive', () => {
  describe('by default', () => {
    const t = serverOn(embedded);
    it('keeps an idle connection 65 s and says so', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        expect((await health(t.server.port, agent)).keepAlive).toBe('timeout=65');
      } finally {
        agent.destroy();
      }
    });
  });

  describe('with HTTP_KEEP_ALIVE_TIMEOUT', () => {
    const t = serverOn(embedded, { HTTP_KEEP_ALIVE_TIMEOUT: '3s' });
    it('keeps it that long, and answers a request sent on it after a pause shorter than that', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await health(t.server.port, agent);
        expect(first.keepAlive).toBe('timeout=3');
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const second = await health(t.server.port, agent);
        expect(second.socket).toBe(first.socket); // the same connection, still open
      } finally {
        agent.destroy();
      }
    });
  });
});
