/**
 * Smoke runs of the performance tools, so they keep working: the load
 * tool against a real server over ws and SSE, and its refusals of bad arguments. Figures
 * are printed, never asserted: only that the tool runs and accounts for every delivery.
 * (`npm run bench` at its smoke scale is bench.smoke.ts, beside this file.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { serverOn } from '../support/fixture.ts';
import { TEST_SECRET } from '../support/tokens.ts';

const run = promisify(execFile);
const tsx = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, JWT_SECRET: TEST_SECRET, ...env }, timeout: 180_000, maxBuffer: 10 * 2 ** 20 });

describe.each(BACKENDS)('load tool on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const f = serverOn(backend);

    it.each(['ws', 'sse'])('holds subscribers, drives producers and accounts for every delivery over %s', async (transport) => {
      const { stdout } = await tsx(['tools/loadtest.ts', '--url', f.server.url, '--connections', '6', '--owners', '3', '--rate', '40', '--batch', '1', '--duration', '1500ms', '--transport', transport, '--json']);
      const report = JSON.parse(stdout);
      // Open loop: a posting (two events) every 50 ms from t = 0, each sent and answered, none skipped.
      expect(report.schedule.sent).toBeGreaterThanOrEqual(30);
      expect(report.answerLatencyMs.count).toBe(report.schedule.sent);
      expect(report.connections).toEqual({ target: 6, held: 6 });
      expect(report.eventsProduced).toBe(report.schedule.sent * 2);
      expect(report.deliveries).toBe(report.expectedDeliveries);
      expect(report.expectedDeliveries).toBe(report.eventsProduced * 2); // two subscribers per owner
      expect(report.gaps).toBe(0);
      expect(report.duplicates).toBe(0);
      expect(report.errors).toBe(0);
      expect(report.latencyMs.count).toBe(report.deliveries);
      expect(report.serverRssBytes.held).toBeGreaterThan(0);
    });
  });
});

describe('load tool arguments', () => {
  it('refuses bad arguments with a clear message and exit code 2', async () => {
    const failure = await tsx(['tools/loadtest.ts', '--transport', 'carrier-pigeon']).catch((error) => error);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--transport must be ws or sse');
    const zero = await tsx(['tools/loadtest.ts', '--connections', '0']).catch((error) => error);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--connections must be a whole number ≥ 1');
  });

  it('says plainly when no server answers', async () => {
    const failure = await tsx(['tools/loadtest.ts', '--url', 'http://127.0.0.1:9/graphql', '--duration', '1s']).catch((error) => error);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('is the server running at http://127.0.0.1:9/graphql?');
  });
});
