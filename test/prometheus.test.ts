/**
 * Alerting rules and the dashboard: `promtool` accepts the rules; a
 * real Prometheus (Debian's package) scrapes a running instance and evaluates them, firing
 * the breaker alert when a webhook receiver is down and the instance-down alert once the
 * instance stops; every series the rules and the Grafana dashboard read is one the server
 * exports or the rules record.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { freePort, startServer, type RunningServer } from './support/server.ts';
import { tenantToken } from './support/tokens.ts';
import { createEndpoint } from './support/webhooks.ts';
import { tracked } from './support/processes.ts';

const run = promisify(execFile);
const RULES = 'deploy/prometheus/rules.yml';
const DASHBOARD = 'deploy/grafana/dashboards/wallet-events.json';
const installed = existsSync('/usr/bin/prometheus') && existsSync('/usr/bin/promtool');
if (!installed && process.env.REQUIRE_SERVICES === '1') throw new Error('REQUIRE_SERVICES=1 but Prometheus is not installed (apt-get install prometheus; .ci/run does)');
const label = installed ? 'Prometheus rules and dashboard' : 'Prometheus rules and dashboard (SKIPPED: install Debian’s prometheus package)';

/** The metric names an expression reads (histogram series by their family name). */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/wallet_events[:a-z0-9_]*/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ''));
}

describe.skipIf(!installed)(label, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  it('passes promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('reads only series the server exports or the rules record', async () => {
    const server = await startServer({ DATA_DIR: 'memory://' });
    cleanup.push(() => server.stop());
    const exported = new Set([...(await (await fetch(server.url.replace('/graphql', '/metrics'))).text()).matchAll(/^# TYPE (\S+)/gm)].map(([, name]) => name!));
    const rules = await readFile(RULES, 'utf8');
    const recorded = new Set([...rules.matchAll(/record: (\S+)/g)].map(([, name]) => name!));
    const exprs = [...rules.matchAll(/expr: (.+)/g)].map(([, expr]) => expr!);
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    for (const panel of dashboard.panels) for (const target of panel.targets) exprs.push(target.expr);
    const unknown = exprs.flatMap(seriesIn).filter((name) => !exported.has(name) && !recorded.has(name));
    expect(unknown).toEqual([]);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
  });

  it('scrapes a running instance and fires the breaker alert on a down receiver, then instance-down when it stops', async () => {
    const server: RunningServer = await startServer({
      DATA_DIR: 'memory://',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_BREAKER_THRESHOLD: '2',
      WEBHOOK_BREAKER_COOLDOWN: '1h',
      WEBHOOK_RETRY_SCHEDULE: '10ms,10ms,10ms',
    });
    let serverRunning = true;
    cleanup.push(() => (serverRunning ? server.stop() : Promise.resolve()));
    // The fault: an endpoint whose receiver is not there (nothing listens on the port).
    const bearer = await tenantToken('ops', 'ops');
    const { endpoint } = await createEndpoint(server.url, bearer, { url: `http://127.0.0.1:${await freePort()}/gone` });
    await producer(server.url, bearer).createWallet(ownerId('ops'));

    const dir = await mkdtemp(join(tmpdir(), 'we-prometheus-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    // The deployment's rules with their `for:` waits cut to nothing, so a test need not wait minutes.
    await writeFile(join(dir, 'rules.yml'), (await readFile(RULES, 'utf8')).replace(/for: \d+[smh]/g, 'for: 0s'));
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 500ms, evaluation_interval: 500ms }\nrule_files: [${join(dir, 'rules.yml')}]\nscrape_configs:\n  - job_name: wallet-events\n    static_configs: [{ targets: ["127.0.0.1:${server.port}"] }]\n`,
    );
    const port = await freePort();
    const prometheus: ChildProcess = tracked(spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' }));
    cleanup.push(async () => {
      prometheus.kill('SIGKILL');
    });
    const alerts = async (): Promise<{ labels: Record<string, string>; state: string }[]> => {
      try {
        const body = await (await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).json();
        return body.data.alerts;
      } catch {
        return [];
      }
    };
    const firing = async (name: string) => (await alerts()).filter((alert) => alert.labels.alertname === name && alert.state === 'firing');

    await waitUntil(async () => (await firing('WalletEventsWebhookBreakerOpen')).length > 0, 30_000, () => 'the breaker alert never fired');
    const [breaker] = await firing('WalletEventsWebhookBreakerOpen');
    expect(breaker!.labels).toMatchObject({ endpoint: endpoint.id, severity: 'warn' });
    expect(await firing('WalletEventsInstanceDown')).toEqual([]);

    await server.stop();
    serverRunning = false;
    await waitUntil(async () => (await firing('WalletEventsInstanceDown')).length > 0, 30_000, () => 'the instance-down alert never fired');
    expect((await firing('WalletEventsInstanceDown'))[0]!.labels).toMatchObject({ job: 'wallet-events', instance: `127.0.0.1:${server.port}`, severity: 'page' });
  }, 60_000);
});
