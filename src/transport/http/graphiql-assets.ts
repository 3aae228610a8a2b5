/**
 * GraphiQL without a CDN. Yoga's own page loads its script and styles from a CDN, so on an
 * offline or locked-down network it renders nothing. This serves the same GraphiQL build
 * (from the `@graphql-yoga/render-graphiql` package) from the server itself, as separate
 * files under `/graphiql/` that a browser caches (gzipped once, on first request), so a page
 * load does not carry megabytes of inline script either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { css, editorWorkerService, graphqlWorker, js, jsonWorker } from '@graphql-yoga/render-graphiql/graphiql';

const PREFIX = '/graphiql/';
const SCRIPT = 'text/javascript; charset=utf-8';

/** The files, by name under `/graphiql/`. */
const ASSETS: Record<string, { type: string; text: string }> = {
  'graphiql.js': { type: SCRIPT, text: js },
  'graphiql.css': { type: 'text/css; charset=utf-8', text: css },
  'editorWorkerService.worker.js': { type: SCRIPT, text: editorWorkerService },
  'json.worker.js': { type: SCRIPT, text: jsonWorker },
  'graphql.worker.js': { type: SCRIPT, text: graphqlWorker },
};

/** The GraphiQL page: Yoga's renderer, with its assets taken from this server. */
export function renderGraphiQL(options: unknown): string {
  const settings = JSON.stringify(options ?? {}).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>wallet-events GraphiQL</title>
    <link rel="stylesheet" href="${PREFIX}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => '${PREFIX}' + label + '.worker.js' };
    </script>
    <script src="${PREFIX}graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${settings});
    </script>
  </body>
</html>`;
}

/** Returns a handler that serves GraphiQL's files; false for any other path. */
export function graphiqlAssetsHandler(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const gzipped = new Map<string, Buffer>();
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.startsWith(PREFIX)) return false;
    const name = path.slice(PREFIX.length);
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name]! : null;
    if (!asset) return false;
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    let body: Buffer | string = asset.text;
    if (gzip) {
      body = gzipped.get(name) ?? gzipSync(asset.text);
      gzipped.set(name, body);
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': Buffer.byteLength(body),
      // The files change only with the package: a day in a browser's cache is safe.
      'cache-control': 'public, max-age=86400',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
