/**
 * `npm run bench`: benchmark scenarios against a real server, printed as one table.
 * Runs on PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set, else on the
 * embedded backend. `--events N` sets the backlog size (default 10,000).
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { prepareBackend, BACKENDS } from '../support/backends.ts';
import { startServer } from '../support/server.ts';
import { benchReplay } from './replay.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000' }, runs: { type: 'string', default: '5' } } });
const backend = BACKENDS.find((b) => b.name === 'postgres' && b.available) ?? BACKENDS[0]!;

const env = await prepareBackend(backend);
const server = await startServer(env.env);
try {
  const replay = await benchReplay(server, Number(values.events), Number(values.runs));
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\nwallet-events benchmarks — backend: ${backend.name}; ${machine}\n`);
  console.log('| scenario | figure | detail |');
  console.log('|---|---|---|');
  console.log(`| replay to one graphql-ws client | ${replay.eventsPerSecond.toLocaleString('en')} events/s | ${replay.events.toLocaleString('en')}-event backlog in ${replay.medianMs.toFixed(0)} ms (median of ${values.runs}; best ${replay.bestMs.toFixed(0)} ms) |`);
} finally {
  await server.stop();
  await env.dispose();
}
