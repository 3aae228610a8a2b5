/**
 * `npm run simulate -- --url http://127.0.0.1:4000/graphql --rate 5 [--owners a,b] [--duration 60s]`
 *
 * Drives realistic demo traffic into any running server (see tools/demo/traffic.ts),
 * creating the owners' wallets when they have none, and prints a status line each second.
 * Tokens are signed with --secret, JWT_SECRET, or the development secret in .data/.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/load.ts';
import { failureLine, signingSecret, toolToken } from './load/api.ts';
import { ensureWallets, statusLine, TrafficSimulator } from './demo/traffic.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4000/graphql' },
    rate: { type: 'string', default: '5' },
    owners: { type: 'string', default: 'demo-alice,demo-bob,demo-chidi' },
    duration: { type: 'string', default: '0' },
    secret: { type: 'string' },
  },
});

const rate = Number(values.rate);
if (!(rate > 0 && rate <= 10_000)) {
  console.error(`--rate must be a number of postings per second between 0 and 10000 (got "${values.rate}")`);
  process.exit(2);
}
const owners = values.owners!.split(',').map((o) => o.trim()).filter(Boolean);
if (owners.length === 0) {
  console.error('--owners must name at least one owner, e.g. --owners alice,bob');
  process.exit(2);
}
const durationMs = parseDuration(values.duration!, 'duration');

try {
  const secret = await signingSecret(values.secret);
  const serviceToken = await toolToken(secret, 'simulator', 'service');
  const adminToken = await toolToken(secret, 'simulator', 'admin');
  const wallets = await ensureWallets(values.url!, serviceToken, owners);
  console.log(`simulating ~${rate} postings/s over ${wallets.length} wallets of ${owners.join(', ')} at ${values.url} (Ctrl-C stops)`);
  const simulator = new TrafficSimulator(values.url!, serviceToken, wallets, rate);
  simulator.start();
  const ticker = setInterval(async () => console.log(await statusLine(values.url!, adminToken, simulator.tally)), 1_000);
  const stop = () => {
    simulator.stop();
    clearInterval(ticker);
    process.exit(simulator.tally.errors > 0 ? 1 : 0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (durationMs > 0) setTimeout(stop, durationMs);
} catch (error) {
  console.error(failureLine('simulate', error, values.url!));
  process.exit(1);
}
