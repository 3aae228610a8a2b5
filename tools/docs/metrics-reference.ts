/**
 * The metrics reference, read from the registry the server itself builds (src/metrics/):
 * each wallet_events_ metric with its type, labels and help text.
 */
import { Metrics } from '../../src/metrics/metrics.ts';

/** One row per metric of ours; Node's default process metrics are named, not listed. */
export function metricsTable(): string {
  const metrics = new Metrics({ connections: () => ({}), subscriptionsByField: () => ({}), feeds: () => ({ owners: 0, ringBytes: 0 }), connectionLimit: 0 });
  metrics.watchWebhooks({ localWorkers: [], localDeadLetters: async () => new Map() });
  const rows = metrics.registry
    .getMetricsAsArray()
    .map((metric) => metric as unknown as { name: string; help: string; type: string; labelNames: readonly string[] })
    .filter((metric) => !/^wallet_events_(process_|nodejs_)/.test(metric.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((metric) => `| \`${metric.name}\` | ${metric.type} | ${metric.labelNames.map((label) => `\`${label}\``).join(', ')} | ${metric.help.replace(/\|/g, '\\|')} |`);
  return ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
