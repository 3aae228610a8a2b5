/**
 * `npm run demo`: the server on the embedded defaults (PGlite under .demo-data/, its own
 * directory so that it can run beside `npm start`, on port 4001; in-process
 * pub/sub, unless DATABASE_URL/REDIS_URL say otherwise), demo owners with wallets, and
 * realistic traffic; prints the dashboard's address with a ready token.
 */
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/logging/logger.ts';
import { signingSecret, toolToken } from './load/api.ts';
import { ensureWallets, statusLine, TrafficSimulator } from './demo/traffic.ts';

const OWNERS = ['demo-alice', 'demo-bob', 'demo-chidi'];
// Its own directory and port: `npm start` may be running in the same checkout.
const config = loadConfig({ LOG_LEVEL: 'warn', DATA_DIR: '.demo-data', PORT: '4001', ...process.env });
const app = await createApp(config, createLogger(config.logLevel));
const port = await app.listen();
const base = `http://localhost:${port}`;
const url = `${base}/graphql`;

// The app has created (or found) the development secret by now, unless one is configured.
const secret = await signingSecret(config.auth.secret ?? undefined);
const serviceToken = await toolToken(secret, 'demo-producer', 'service');
const adminToken = await toolToken(secret, 'demo-admin', 'admin');
const wallets = await ensureWallets(url, serviceToken, OWNERS);
const rate = Number(process.env.DEMO_RATE ?? 5);
const simulator = new TrafficSimulator(url, serviceToken, wallets, rate);
simulator.start();

console.log(`
wallet-events demo: ${wallets.length} wallets of ${OWNERS.join(', ')}, ~${rate} postings/s in bursts.

  Dashboard (alice):  ${base}/#token=${await toolToken(secret, 'demo-alice', 'user')}
  Dashboard (bob):    ${base}/#token=${await toolToken(secret, 'demo-bob', 'user')}
  GraphiQL:           ${url}   (header: {"Authorization": "Bearer <token>"}; npm run token -- --sub demo-alice)

Ctrl-C stops.
`);
const ticker = setInterval(async () => process.stdout.write(`\r\x1b[K${await statusLine(url, adminToken, simulator.tally)}`), 1_000);
const stop = async () => {
  clearInterval(ticker);
  simulator.stop();
  process.stdout.write('\n');
  await app.stop(1001);
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
