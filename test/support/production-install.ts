/**
 * A production install made as the Docker image's runtime stage makes it: the package
 * files, `npm ci --omit=dev --ignore-scripts` (packages from npm's cache, which the
 * repository's own install filled), then the schema, the migrations and the compiled server.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Installs into `dir` (an empty directory); `withBuild: false` stops after the packages. */
export async function installProduction(dir: string, { withBuild = true } = {}): Promise<void> {
  for (const file of ['package.json', 'package-lock.json', 'packages/client/package.json']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  await promisify(execFile)('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: 120_000 });
  if (withBuild) for (const folder of ['schema', 'drizzle', 'dist']) cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
}
