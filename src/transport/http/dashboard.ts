/**
 * The live dashboard at `/`: its static files (and the site's icon) read once at start-up and served from
 * memory, with a Content-Security-Policy that allows only this origin's script, style and
 * GraphQL endpoint. The page itself needs no build step.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

const DIR = new URL('./dashboard/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  // At the root, so that its scope is the whole dashboard.
  '/sw.js': { file: 'sw.js', type: 'text/javascript; charset=utf-8' },
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Returns a handler that serves the dashboard's files; false for any other path. */
export function dashboardHandler(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const bodies = new Map(Object.entries(FILES).map(([path, { file, type }]) => [path, { body: readFileSync(new URL(file, DIR)), type }]));
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0]!;
    // Browsers ask for /favicon.ico on their own; the icon is an SVG.
    if (path === '/favicon.ico') {
      res.writeHead(301, { location: '/favicon.svg', 'cache-control': 'public, max-age=86400' }).end();
      return true;
    }
    const entry = bodies.get(path);
    if (!entry) return false;
    res.writeHead(200, {
      'content-type': entry.type,
      'content-length': entry.body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : entry.body);
    return true;
  };
}
