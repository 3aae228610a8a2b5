/**
 * `npm run bench [-- --scale full|smoke]`: the performance scenarios against this server
 * and, in the same run, against the baseline recipe (test/bench/baseline/), printed as one
 * table with the ratio per row. Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL):
 * the baseline is built on Redis, and figures are only comparable on the same backbone.
 * Each server is its own process; the load runs in this one.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BACKENDS, prepareBackend, type BackendEnv } from '../support/backends.ts';
import { freePort, spawnServer, type ServerProcess } from '../support/server.ts';
import { stopTrackedOnSignal } from '../support/processes.ts';
import { benchReplay } from './replay.ts';
import { benchFanOutLimit } from './fan-out-limit.ts';
import { benchFirehoseLive, benchFirehoseReplay } from './firehose.ts';
import { benchWebhookLatency, benchWebhookThroughput } from './webhooks.ts';
import { benchCompression } from './compression.ts';
import { benchPushLatency, benchPushThroughput } from './push.ts';
import webPush from 'web-push';
import type { LoadReport } from '../../tools/load/run-load.ts';
import { databaseInsertLimit } from './database-limit.ts';
import { benchPartitionDrop, benchReplicaReplay, benchRetention, median, spread } from './log-scaling.ts';
import { SCENARIOS, runScenario, type Scale } from './scenarios.ts';

/** The fan-out scenario, which the bare `ws` limit is set beside. */
const FAN_OUT = 'fan-out: deliveries/s (100 subscribers per owner)';
/** The batch ingest scenario, which the database's own insert rate is set beside. */
const BATCH_INGEST = 'ingest, postTransactions batches of 500: events/s';

stopTrackedOnSignal();
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'full' },
    events: { type: 'string' },
    only: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const scale: Scale = values.scale === 'smoke' ? 'smoke' : 'full';
const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
if (!postgres.available) {
  console.error('npm run bench needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (see docs/operations/deploying.md).');
  process.exit(2);
}
const progress = values.quiet ? undefined : (line: string) => process.stderr.write(`\r\x1b[K  ${line}`);
const serverEnv = {
  LOG_LEVEL: 'warn',
  // The load tool holds many connections per owner and posts from one token.
  MAX_CONNECTIONS_PER_OWNER: '100000',
  MAX_CONNECTIONS: '1000000',
  MUTATION_RATE_LIMIT: '10000000',
  MAX_BATCH_SIZE: '5000',
  MAX_LIST_ITEMS: '5000',
  // Every load connection comes from this machine's few loopback addresses.
  ADDRESS_CONNECTION_RATE: '0',
  ADDRESS_MAX_CONNECTIONS: '0',
  // The webhook receiver is this process, on loopback.
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
};
const nodeArgs = ['--max-old-space-size=4096'];

const envs: BackendEnv[] = [];
const servers: ServerProcess[] = [];
async function start(script?: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env = await prepareBackend(postgres);
  envs.push(env);
  const server = await spawnServer({ ...env.env, ...serverEnv, ...extraEnv }, await freePort(), { script, nodeArgs });
  servers.push(server);
  return server;
}

try {
  const ours = await start();
  const baseline = await start('test/bench/baseline/server.ts');
  const rows: string[] = [];
  /** Each scenario's figure for this server, by name, for the rows that compare against it. */
  const oursByScenario: Map<string, number> = new Map();
  for (const scenario of SCENARIOS) {
    if (values.only && !scenario.name.includes(values.only)) continue;
    const figures: { value: number; report: LoadReport }[] = [];
    const targets = [['wallet-events', ours] as const, ...(scenario.noBaseline ? [] : [['baseline', baseline] as const])];
    for (const [label, server] of targets) {
      progress?.(`${scenario.name} — ${label}`);
      const report = await runScenario(scenario, scale, { url: server.url, pid: server.child.pid! }, (line) => progress?.(`${scenario.name} — ${label}: ${line}`));
      figures.push({ value: scenario.figure(report), report });
      if (report.errors > 0) console.error(`\n${scenario.name} — ${label}: ${report.errors} errors, e.g. ${report.errorSamples.join('; ')}`);
    }
    const detail = (f: (typeof figures)[0]) => `${scenario.detail(f.report)}${f.report.errors ? `; ${f.report.errors} ERRORS` : ''}`;
    const mine = figures[0]!;
    oursByScenario.set(scenario.name, mine.value);
    const theirs = figures[1];
    if (!theirs) {
      rows.push(`| ${scenario.name} | ${scenario.target} | ${scenario.format(mine.value)} | ${scenario.noBaseline} | n/a | ${detail(mine)} |`);
      continue;
    }
    const ratio = scenario.higherIsBetter ? mine.value / theirs.value : theirs.value / mine.value;
    // Memory deltas of a few connections are noise and can even be negative: no ratio then.
    const comparable = Number.isFinite(ratio) && mine.value > 0 && theirs.value > 0;
    const compared = comparable ? `${ratio.toFixed(1)}× ${scenario.higherIsBetter ? 'more' : 'less'}` : 'n/a';
    rows.push(
      `| ${scenario.name} | ${scenario.target} | ${scenario.format(mine.value)} | ${scenario.format(theirs.value)} | ${compared} | ${detail(mine)}; baseline: ${detail(theirs)} |`,
    );
  }
  const fanOut = oursByScenario.get(FAN_OUT);
  if (fanOut !== undefined) {
    progress?.('fan-out limit: a bare ws server');
    const full = scale === 'full';
    const limit = await benchFanOutLimit('fan-out-limit-bench-secret-of-32-characters', full ? 2_000 : 20, full ? 20 : 2, full ? 10_000 : 1_000);
    const exact = limit.gaps === 0 && limit.duplicates === 0 && limit.errors === 0;
    rows.push(
      `| the limit for fan-out: a bare ws server writing each event's one pre-serialized payload to every subscriber of its owner, to the same subscribers: deliveries/s | the limit fan-out is measured against (≥ 90 %) | ${limit.deliveriesPerSecond.toLocaleString('en')}/s | n/a | n/a | ${limit.connections.toLocaleString('en')} connections; fan-out above reaches ${((100 * fanOut) / limit.deliveriesPerSecond).toFixed(0)} % of it${exact ? '' : `; ${limit.gaps} gaps, ${limit.duplicates} duplicates, ${limit.errors} errors`} |`,
    );
  }
  if (!values.only || BATCH_INGEST.includes(values.only) || 'database limit'.includes(values.only)) {
    progress?.('database limit');
    const env = await prepareBackend(postgres);
    envs.push(env);
    const limit = await databaseInsertLimit(env.env.DATABASE_URL!, scale === 'full' ? 50_000 : 1_000, 500, 500);
    const batch = oursByScenario.get(BATCH_INGEST);
    const share = batch === undefined ? 'run the batch ingest scenario to compare' : `batch ingest above reaches ${((100 * batch) / limit.eventsPerSecond).toFixed(0)} % of it`;
    rows.push(
      `| PostgreSQL's own insert rate for the same rows (COPY; keys, transactions, 2 events and a balance per posting; a commit per 500 postings): events/s | the limit batch ingest is measured against | ${limit.eventsPerSecond.toLocaleString('en')}/s | n/a | n/a | ${share}; ${limit.walBytesPerEvent.toLocaleString('en')} bytes of WAL per event (the three tables), ${limit.diskBytesPerEvent.toLocaleString('en')} bytes of log on disk per event, indexes included |`,
    );
  }
  if (!values.only || 'replay'.includes(values.only)) {
    progress?.('replay — wallet-events');
    const events = Number(values.events ?? (scale === 'full' ? 10_000 : 200));
    const replay = await benchReplay({ ...ours, pid: ours.child.pid }, events, scale === 'full' ? 5 : 1);
    const cpu = replay.serverCpuUsPerEvent === null ? '' : `; the server's CPU ${replay.serverCpuUsPerEvent.toFixed(1)} µs per event`;
    rows.push(
      `| replay to one graphql-ws client: events/s | ≥ 100,000/s or ≥ 80 % of the limit (next row) | ${replay.eventsPerSecond.toLocaleString('en')}/s | no log to replay | n/a | ${replay.events.toLocaleString('en')}-event backlog in ${replay.medianMs.toFixed(0)} ms (median; best ${replay.bestMs.toFixed(0)} ms): ${((100 * replay.eventsPerSecond) / replay.limitPerSecond).toFixed(0)} % of the limit${cpu} |`,
      `| the limit for replay: the same results as ready frames from a bare ws server to the same client: events/s | the limit replay is measured against | ${replay.limitPerSecond.toLocaleString('en')}/s | n/a | n/a | no log read, no execution, no serialization; the graphql-ws client parses every frame |`,
    );
  }
  if (!values.only || 'firehose'.includes(values.only)) {
    progress?.('firehose — wallet-events');
    const full = scale === 'full';
    const replay = await benchFirehoseReplay(ours, full ? 50_000 : 400, full ? 3 : 1);
    rows.push(
      `| firehose replay to one reader: events/s | ≥ 50,000/s | ${replay.eventsPerSecond.toLocaleString('en')}/s | no firehose | n/a | ${replay.events.toLocaleString('en')}-event backlog of one tenant over 100 owners in ${replay.medianMs.toFixed(0)} ms (median) |`,
    );
    const live = await benchFirehoseLive(ours, full ? 1_000 : 20, full ? 2_000 : 100, full ? 20_000 : 1_000);
    const exact = live.partitioned.received === live.events && live.partitioned.distinct === live.events;
    rows.push(
      `| firehose live delay p99, 2,000 events/s over 1,000 owners (commit → received) | p99 ≤ 50 ms; 4 partitions: every event once | ${live.p99.toFixed(1)} ms | no firehose | n/a | p50 ${live.p50.toFixed(1)} ms over ${live.events.toLocaleString('en')} events; 4 partitioned readers received ${live.partitioned.received.toLocaleString('en')} (${live.partitioned.distinct.toLocaleString('en')} distinct)${exact ? ', every event exactly once' : ' — NOT exactly once'} |`,
    );
  }
  if (!values.only || 'webhooks'.includes(values.only)) {
    progress?.('webhooks — wallet-events');
    const full = scale === 'full';
    const throughput = await benchWebhookThroughput(ours, full ? 20_000 : 400);
    rows.push(
      `| webhook deliveries to one local receiver: deliveries/s | ≥ 2,000/s | ${throughput.perSecond.toLocaleString('en')}/s | no webhooks | n/a | a ${throughput.deliveries.toLocaleString('en')}-event backlog over 200 owners, each request signed and verified (standardwebhooks) |`,
    );
    const latency = await benchWebhookLatency(ours, full ? 500 : 20, 500, full ? 20_000 : 2_000);
    rows.push(
      `| webhook delay p99 at 500 events/s (commit → received) | p99 ≤ 100 ms | ${latency.p99.toFixed(1)} ms | no webhooks | n/a | p50 ${latency.p50.toFixed(1)} ms over ${latency.events.toLocaleString('en')} events, healthy receiver |`,
    );
  }
  if (!values.only || 'push'.includes(values.only)) {
    progress?.('push — wallet-events');
    const full = scale === 'full';
    const vapid = webPush.generateVAPIDKeys();
    const pushServer = await start(undefined, { WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey, WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_RETRY_SCHEDULE: Array(50).fill('500ms').join(','), HEAD_CHECK_INTERVAL: '100ms' });
    const throughput = await benchPushThroughput(pushServer, full ? 500 : 20, full ? 20_000 : 200);
    rows.push(
      `| Web Push to a local push service: pushes/s | ≥ 2,000/s | ${throughput.perSecond.toLocaleString('en')}/s | no push | n/a | a backlog of ${throughput.pushes.toLocaleString('en')} notifications over ${throughput.devices} devices; each push aes128gcm-encrypted with its own key and VAPID-signed (one token per push service, renewed hourly); the stand-in checks and decrypts one in 50 |`,
    );
    const devices = full ? 200 : 10;
    const latency = await benchPushLatency(pushServer, devices, 200, full ? 20_000 : 2_000);
    rows.push(
      `| push delay p99 at 200 notifications/s (commit → push received) | p99 ≤ 100 ms | ${latency.p99.toFixed(1)} ms | no push | n/a | p50 ${latency.p50.toFixed(1)} ms over ${latency.pushes.toLocaleString('en')} pushes to ${devices} devices |`,
    );
  }
  if (!values.only || 'replicas'.includes(values.only)) {
    progress?.('replay from a replica — wallet-events');
    const full = scale === 'full';
    const spawn = (env: Record<string, string>) => start(undefined, env);
    const storm = await benchReplicaReplay(spawn, full ? 20_000 : 200, full ? 10 : 2, full ? 3 : 1);
    const row = (from: string, figures: { eventsPerSecond: number[]; primaryCpuMs: number[] }) =>
      `| replay storm served by ${from}: events/s (${storm.clients} clients × a ${storm.events.toLocaleString('en')}-event log) | ${from === 'a replica' ? '≥ the rate from the primary; primary CPU near zero' : 'the rate a replica is measured against'} | ${median(figures.eventsPerSecond).toLocaleString('en')}/s | n/a | n/a | runs ${spread(figures.eventsPerSecond)}/s; the primary's CPU for it ${median(figures.primaryCpuMs).toLocaleString('en')} ms (runs ${spread(figures.primaryCpuMs)} ms) |`;
    rows.push(row('the primary', storm.primary), row('a replica', storm.replica));
  }
  if (!values.only || 'retention'.includes(values.only)) {
    progress?.('retention — wallet-events');
    const full = scale === 'full';
    const dbs = [await prepareBackend(postgres), await prepareBackend(postgres)];
    envs.push(...dbs);
    const cost = await benchRetention([dbs[0]!.env.DATABASE_URL!, dbs[1]!.env.DATABASE_URL!], full ? 2_000_000 : 20_000, full ? 1_000 : 100);
    const kb = (bytes: number) => `${(bytes / 1024).toLocaleString('en', { maximumFractionDigits: 0 })} KB`;
    rows.push(
      `| retention of a day of a ${(full ? 2_000_000 : 20_000).toLocaleString('en')}-event log: dropping its partition | milliseconds and kilobytes | ${cost.drop.ms.toFixed(0)} ms, ${kb(cost.drop.walBytes)} WAL | n/a | n/a | ${cost.deleted.toLocaleString('en')} events; watermarks of ${full ? '1,000' : '100'} owners moved in the same transaction; nothing left to vacuum |`,
      `| the same rows deleted one by one (what retention did before partitions) | the cost the drop replaces | ${cost.rows.ms.toFixed(0)} ms, ${kb(cost.rows.walBytes)} WAL | n/a | n/a | then VACUUM of the dead rows: ${cost.rows.vacuumMs.toFixed(0)} ms |`,
    );
    // The drop's cost follows the owners in the partition (one watermark each), so the same day again over 100 times the owners.
    const crowded = await prepareBackend(postgres);
    envs.push(crowded);
    const manyOwners = full ? 100_000 : 1_000;
    const wide = await benchPartitionDrop(crowded.env.DATABASE_URL!, full ? 2_000_000 : 20_000, manyOwners);
    rows.push(
      `| the same drop with the day's events over ${manyOwners.toLocaleString('en')} owners | grows with owners, not rows | ${wide.ms.toFixed(0)} ms, ${kb(wide.walBytes)} WAL | n/a | n/a | ${wide.deleted.toLocaleString('en')} events; one watermark update per owner |`,
    );
  }
  if (!values.only || 'compression'.includes(values.only)) {
    progress?.('compression — wallet-events');
    const full = scale === 'full';
    const [owners, perOwner, postings] = full ? [100, 10, 2_000] : [4, 2, 20];
    const off = await benchCompression(ours, 'off', owners, perOwner, postings);
    const on = await benchCompression(await start(undefined, { WS_COMPRESSION: 'true' }), 'on', owners, perOwner, postings);
    const saving = 1 - on.bytesPerFrame / off.bytesPerFrame;
    rows.push(
      `| WebSocket permessage-deflate: bytes per event frame on the wire, off → on | measured | ${off.bytesPerFrame.toFixed(0)} → ${on.bytesPerFrame.toFixed(0)} B (${(saving * 100).toFixed(0)} % less) | n/a | n/a | ${(owners * perOwner).toLocaleString('en')} connections, ${on.frames.toLocaleString('en')} full event frames; server CPU ${off.cpuMsPer1000Frames.toFixed(1)} → ${on.cpuMsPer1000Frames.toFixed(1)} ms per 1,000 frames; memory ${off.rssPerConnectionKb.toFixed(1)} → ${on.rssPerConnectionKb.toFixed(1)} KB per connection |`,
    );
  }
  progress?.('done\n');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\nwallet-events benchmarks (${scale}) — PostgreSQL + Redis; ${machine}; load tool in this process, each server its own process\n`);
  console.log('| scenario | target | wallet-events | baseline | vs baseline | detail |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  for (const server of servers) await server.kill('SIGKILL');
  for (const env of envs) await env.dispose();
}
process.exit(0);
