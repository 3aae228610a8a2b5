/**
 * `npm run loadtest -- --connections N --owners M --rate R --duration 60s --transport ws|sse`
 *
 * Load for a running server (start it first; this is a separate process): opens N
 * subscribers spread over M owners, produces R events/s in an open loop (every request at
 * its time, however slow the answers; `--rate max` instead keeps `--producers` requests in
 * flight), and prints connections held, deliveries/s, latency timed from each request's
 * scheduled time, requests sent late, gaps, duplicates, errors and the server's RSS.
 * Tokens are signed with --secret, JWT_SECRET, or the development secret in .data/.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/load.ts';
import { failureLine } from './load/api.ts';
import { LATE_MS } from './load/producers.ts';
import { runLoad, type LoadReport } from './load/run-load.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4000/graphql' },
    connections: { type: 'string', default: '1000' },
    owners: { type: 'string', default: '500' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '60s' },
    transport: { type: 'string', default: 'ws' },
    'source-addresses': { type: 'string' },
    batch: { type: 'string', default: '50' },
    producers: { type: 'string', default: '4' },
    secret: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    'npm run loadtest -- [--url http://127.0.0.1:4000/graphql] [--connections 1000] [--owners 500] [--rate 1000|max] [--duration 60s] [--transport ws|sse] [--batch 50] [--producers 4] [--source-addresses K] [--secret S] [--json]',
  );
  process.exit(0);
}

function positive(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be a whole number ≥ ${min} (got "${text}")`);
    process.exit(2);
  }
  return value;
}

const connections = positive('connections', values.connections!);
const transport = values.transport === 'sse' ? 'sse' : values.transport === 'ws' ? 'ws' : null;
if (!transport) {
  console.error(`--transport must be ws or sse (got "${values.transport}")`);
  process.exit(2);
}
const report: LoadReport = await runLoad({
  url: values.url!,
  connections,
  owners: positive('owners', values.owners!),
  rate: values.rate === 'max' ? 'max' : positive('rate', values.rate!, 0),
  durationMs: parseDuration(values.duration!, 'duration'),
  transport,
  // Each source address gives about 28,000 ephemeral ports towards one server port.
  sourceAddresses: values['source-addresses'] ? positive('source-addresses', values['source-addresses']) : Math.ceil(connections / 25_000),
  batch: positive('batch', values.batch!),
  producers: positive('producers', values.producers!),
  secret: values.secret,
  onProgress: values.json ? undefined : (line) => console.error(line),
}).catch((error: Error) => {
  console.error(failureLine('loadtest', error, values.url!));
  process.exit(1);
});

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const kb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);
  const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`);
  const l = report.latencyMs;
  const sent = report.sendLatencyMs;
  const answered = report.answerLatencyMs;
  const schedule = report.schedule;
  const lateness = values.rate === 'max' ? 'closed loop (--rate max): not scheduled' : `${schedule.late.toLocaleString('en')} of ${schedule.sent.toLocaleString('en')} requests left over ${LATE_MS} ms late (worst ${schedule.worstLagMs.toFixed(1)} ms); none skipped`;
  console.log(`
connections held      ${report.connections.held.toLocaleString('en')} / ${report.connections.target.toLocaleString('en')} (${transport})
events produced       ${report.eventsProduced.toLocaleString('en')} (${Math.round(report.eventsPerSecond).toLocaleString('en')}/s)
deliveries            ${report.deliveries.toLocaleString('en')} of ${report.expectedDeliveries.toLocaleString('en')} expected (${Math.round(report.deliveriesPerSecond).toLocaleString('en')}/s)
commit → receive      p50 ${l.p50.toFixed(1)} ms  p95 ${l.p95.toFixed(1)} ms  p99 ${l.p99.toFixed(1)} ms  max ${l.max.toFixed(1)} ms
post due → answered   p50 ${answered.p50.toFixed(1)} ms  p95 ${answered.p95.toFixed(1)} ms  p99 ${answered.p99.toFixed(1)} ms  max ${answered.max.toFixed(1)} ms
post due → received   p50 ${sent.p50.toFixed(1)} ms  p95 ${sent.p95.toFixed(1)} ms  p99 ${sent.p99.toFixed(1)} ms  max ${sent.max.toFixed(1)} ms (transactions)
schedule              ${lateness}
gaps / duplicates     ${report.gaps} / ${report.duplicates}
errors                ${report.errors}${report.errorSamples.length ? `  (${report.errorSamples.join('; ')})` : ''}
server RSS            ${mb(report.serverRssBytes.before)} before, ${mb(report.serverRssBytes.held)} holding, ${mb(report.serverRssBytes.after)} after; ${kb(report.rssPerConnection)} per connection`);
}
process.exit(report.errors > 0 || report.gaps > 0 || report.duplicates > 0 || report.deliveries < report.expectedDeliveries ? 1 : 0);
