/**
 * Generated code is committed and must match its source: resolver types from schema/
 * (graphql-codegen) and migrations from src/db/schema.ts (drizzle-kit).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = (name: string) => join('node_modules', '.bin', name);

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.sort();
}

describe('generated code', () => {
  it('resolver types are up to date with schema/ (npm run codegen)', async () => {
    const result = await run(bin('graphql-codegen'), ['--check'], { env: { ...process.env, NO_COLOR: '1' } }).catch((error) => error);
    expect(result.code ?? 0, `${result.stdout}\n${result.stderr}\nRun \`npm run codegen\` and commit the result.`).toBe(0);
  });

  it('migrations are up to date with src/db/schema.ts (npm run db:generate)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'drizzle-check-'));
    try {
      await cp('drizzle', out, { recursive: true });
      const before = await listTree(out);
      const { stdout } = await run(bin('drizzle-kit'), ['generate', '--dialect', 'postgresql', '--schema', 'src/db/schema.ts', '--out', out]);
      expect(await listTree(out), `${stdout}\nRun \`npm run db:generate\` and commit the new migration.`).toEqual(before);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
