/**
 * `npm run example:react`: bundles examples/react/ with esbuild and serves its two files
 * on http://localhost:4173 (EXAMPLE_PORT), printing the page's address with a token for
 * `--sub` (default demo-alice). Start the server first (`npm start` or `npm run demo`).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { bundleReactExample } from './client/bundle.ts';
import { signingSecret, toolToken } from './load/api.ts';

const { values } = parseArgs({ options: { sub: { type: 'string', default: 'demo-alice' }, api: { type: 'string', default: 'http://localhost:4000/graphql' }, secret: { type: 'string' } } });
const [html, script, secret] = await Promise.all([readFile('examples/react/index.html', 'utf8'), bundleReactExample(), signingSecret(values.secret)]);
const port = Number(process.env.EXAMPLE_PORT ?? 4173);

createServer((req, res) => {
  const isScript = req.url?.startsWith('/main.js');
  res.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' }).end(isScript ? script : html);
}).listen(port, '127.0.0.1', async () => {
  const token = await toolToken(secret, values.sub!, 'user');
  console.log(`React example: http://localhost:${port}/#token=${token}&api=${encodeURIComponent(values.api!)}`);
});
