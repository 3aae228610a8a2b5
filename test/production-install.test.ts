/**
 * The production install, as the Docker image's runtime stage makes it (there is no Docker
 * engine here, so its steps are followed in a scratch directory): the package files,
 * `npm ci --omit=dev --ignore-scripts`, the schema, the migrations and the compiled
 * server. It must hold no TypeScript tool, and `node dist/main.js` from it must serve on
 * the embedded defaults with no loader of any kind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/server.ts';
import { RUN_MARKER, tracked } from './support/processes.ts';
import { installProduction } from './support/production-install.ts';


describe('production install (the Docker runtime stage, without Docker)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wallet-events-prod-'));
    await installProduction(dir);
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds no TypeScript compiler, loader or bundler', () => {
    for (const tool of ['typescript', 'tsx', 'esbuild', '@graphql-codegen/cli', 'vitest']) {
      expect(existsSync(join(dir, 'node_modules', tool)), tool).toBe(false);
    }
  });

  it('serves from compiled JavaScript on the embedded defaults', async () => {
    const port = await freePort();
    const child = tracked(
      spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
        cwd: dir,
        env: { PATH: process.env.PATH!, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', [RUN_MARKER]: process.env[RUN_MARKER] ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      let ready: { status?: string } = {};
      const deadline = Date.now() + 60_000;
      while (ready.status !== 'ready') {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`not ready within 60 s:\n${output}`);
        ready = await fetch(`http://127.0.0.1:${port}/ready`).then((res) => res.json() as Promise<{ status?: string }>, () => ({}));
        if (ready.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The process runs plain Node on dist/: no --import, --loader or --require of anything.
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(argv.slice(1)).toEqual(['--enable-source-maps', 'dist/main.js']);
      // The embedded database was created in the install's own data directory.
      expect(existsSync(join(dir, '.data'))).toBe(true);
      const dashboard = await fetch(`http://127.0.0.1:${port}/`);
      expect(dashboard.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
