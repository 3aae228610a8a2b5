/**
 * Runs after each test file's own hooks: stops every process the file started and left
 * running, and esbuild's background service if the file bundled anything (the service is a
 * child process of the test worker; stop() is a no-op when none runs).
 */
import { stop as stopEsbuild } from 'esbuild';
import { afterAll } from 'vitest';
import { stopTracked } from './processes.ts';

afterAll(async () => {
  await stopTracked();
  await stopEsbuild();
});
