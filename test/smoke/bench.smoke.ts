/**
 * `npm run bench` at its smoke scale (about a minute): every scenario runs against this
 * server and the baseline and prints one complete table. Kept out of `npm test` for its
 * length; `npm run test:smoke` runs it, and so does CI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.ts';
import { TEST_SECRET } from '../support/tokens.ts';
import { SCENARIOS } from '../bench/scenarios.ts';

const run = promisify(execFile);

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
describe.skipIf(!postgres.available)('npm run bench (smoke scale, PostgreSQL + Redis)', () => {
  it('runs every scenario against this server and the baseline and prints one table', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', '--scale', 'smoke', '--quiet'], { env: { ...process.env, JWT_SECRET: TEST_SECRET }, timeout: 300_000, maxBuffer: 10 * 2 ** 20 });
    const rows = stdout.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| scenario'));
    expect(rows).toHaveLength(SCENARIOS.length + 16); // every scenario, then fan-out's limit, the database’s own insert rate, the replay and its limit, the two firehose, the two webhook, the two push, the two replica and the three retention rows, and compression
    for (const row of rows) expect(row).not.toMatch(/NaN|Infinity|undefined|ERRORS|gaps, /);
    expect(stdout).toMatch(/\| the limit for fan-out: .* fan-out above reaches \d+ % of it \|/);
    expect(stdout).toContain('| scenario | target | wallet-events | baseline | vs baseline | detail |');
    console.log(stdout);
  }, 300_000);
});
