/**
 * Every process a test starts is stopped, even when the test fails: spawn sites hand their
 * child to `tracked`, and an `afterAll` of every test file (process-cleanup.ts) kills what
 * is still running. As a last line, the run's global teardown finds any process that still
 * carries this run's marker in its environment, kills it, and fails the run.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** The environment variable every process started by this test run inherits. */
export const RUN_MARKER = 'WALLET_EVENTS_TEST_RUN';

const children = new Set<ChildProcess>();

/** Registers `child` to be stopped at the end of the test file at the latest; returns it. */
export function tracked<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every tracked child still running and waits (boundedly) for each to exit. */
export async function stopTracked(): Promise<void> {
  const running = [...children].filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    running.map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }),
  );
  children.clear();
}

/**
 * For scripts run outside the test runner (the benches): when the script is interrupted
 * (SIGINT from a terminal, SIGTERM from a CI timeout), its tracked children are killed
 * before it exits with the signal's conventional code. A `finally` block does not run when
 * a signal ends the process, so without this a bench's servers outlive it.
 */
export function stopTrackedOnSignal(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      void stopTracked().finally(() => process.exit(code));
    });
  }
}
