/**
 * One process owns a PGlite data directory: a second server on the same directory is
 * refused at start-up with a message naming the directory and the process that holds it,
 * the lock of a process that died is taken over, and the demo keeps a directory of its own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirError, LOCK_FILE, lockDataDir } from '../src/db/data-dir-lock.ts';
import { loadConfig } from '../src/config/load.ts';
import { baseEnv, freePort, SERVER_ENTRY, spawnServer, type ServerProcess } from './support/server.ts';
import { tracked } from './support/processes.ts';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'we-data-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the data directory lock', () => {
  it('refuses a second owner while the first holds it, and is free again once released', () => {
    const dir = scratch();
    const release = lockDataDir(dir);
    // Another live process (this test's parent) holds it: its pid is in the file.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), since: 'then' }));
    expect(() => lockDataDir(dir)).toThrow(DataDirError);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`${dir}.*process ${process.ppid}`));
    release(); // not ours any more: left in place
    rmSync(join(dir, LOCK_FILE));
    lockDataDir(dir)();
  });

  it('takes over the lock of a process that is gone', () => {
    const dir = scratch();
    // Above Linux's largest pid: no process has it.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12_345, host: hostname(), since: 'long ago' }));
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    release();
    expect(() => readFileSync(join(dir, LOCK_FILE))).toThrow(/ENOENT/);
  });

  it('gives the demo a directory and a port of its own', async () => {
    const source = readFileSync(new URL('../tools/demo.ts', import.meta.url), 'utf8');
    const defaults = /loadConfig\(\{([^}]*)\.\.\.process\.env \}\)/.exec(source)![1]!;
    const demo = loadConfig(Object.fromEntries([...defaults.matchAll(/(\w+): '([^']*)'/g)].map((match) => [match[1]!, match[2]!])));
    const server = loadConfig({});
    expect(demo.dataDir).not.toBe(server.dataDir);
    expect(demo.port).not.toBe(server.port);
  });
});

describe('two servers on one data directory', () => {
  const running: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of running) await server.kill('SIGKILL');
  });

  it('the second is refused at start-up with the directory and the holder named', async () => {
    const dir = scratch();
    // PGlite whatever the machine has: the test's environment may name PostgreSQL and Redis.
    const embedded = { DATA_DIR: dir, DATABASE_URL: '', REDIS_URL: '' };
    const first = await spawnServer(embedded, await freePort());
    running.push(first);
    const second = tracked(spawn(process.execPath, [SERVER_ENTRY], { env: { ...process.env, ...baseEnv({ ...embedded, PORT: String(await freePort()) }) }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain(`the data directory ${dir} is in use by process ${first.child.pid}`);
    expect((await fetch(`http://127.0.0.1:${first.port}/health`)).status).toBe(200);
  }, 120_000);
});
