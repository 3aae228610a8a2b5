/**
 * An interrupted bench stops the servers it started: a script that calls
 * `stopTrackedOnSignal` (every `npm run bench*` runner does) kills its tracked children
 * when it gets SIGINT or SIGTERM, and exits with the signal's conventional code.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tracked } from './support/processes.ts';

const processes = pathToFileURL('test/support/processes.ts').href;

/** A script that starts one long-lived tracked child, prints its pid, and waits. */
const script = `
import { spawn } from 'node:child_process';
import { stopTrackedOnSignal, tracked } from ${JSON.stringify(processes)};
stopTrackedOnSignal();
const child = tracked(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
console.log(child.pid);
setInterval(() => {}, 1000);
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('an interrupted bench script', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`kills its children on ${signal} and exits ${code}`, async () => {
      const runner = tracked(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
      const [line] = (await once(runner.stdout!, 'data')) as [Buffer];
      const childPid = Number(line.toString().trim());
      expect(alive(childPid)).toBe(true);
      const exited = once(runner, 'exit');
      runner.kill(signal);
      const [exitCode] = (await exited) as [number | null];
      expect(exitCode).toBe(code);
      // The child was killed and reaped before the runner exited; give the kernel a moment to drop it.
      const deadline = Date.now() + 5_000;
      while (alive(childPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(alive(childPid)).toBe(false);
    });
  }
});
