/**
 * Once per run: builds the server and the client package (tests start the compiled
 * server, as `npm start` does, and import the client by its package name), says up front
 * whether the PostgreSQL + Redis half of the suite will run, marks this run's processes, and at the end fails the run if any process it started is
 * still running (after killing it), so a suite that leaks a process cannot pass.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { RUN_MARKER } from './processes.ts';

export default function setup(): () => void {
  // Incremental: a few seconds when little changed. A compile error fails the run here.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const configured = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  if (configured) {
    process.stdout.write('PostgreSQL + Redis suites: running (DATABASE_URL and REDIS_URL are set)\n');
  } else if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error('REQUIRE_SERVICES=1 but DATABASE_URL and REDIS_URL are not both set');
  } else {
    process.stdout.write(
      '\n*** PostgreSQL + Redis suites: SKIPPED — set DATABASE_URL and REDIS_URL to run them (e.g. postgres://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379) ***\n\n',
    );
  }
  const marker = randomUUID();
  // Inherited by the test workers and by every process they start.
  process.env[RUN_MARKER] = marker;
  return () => {
    const left = leftovers(`${RUN_MARKER}=${marker}`);
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (left.length > 0) {
      throw new Error(`the test run left ${left.length} process(es) running (now killed):\n${left.map(({ pid, command }) => `  ${pid} ${command}`).join('\n')}`);
    }
  };
}

/** Processes (other than this one) whose environment holds `entry`. */
function leftovers(entry: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // The run's own workers end with it; anything else is a leak.
      if (/vitest|tinypool/.test(command) || command === '') continue;
      found.push({ pid, command: command.slice(0, 200) });
    } catch {
      // not ours to read, or gone
    }
  }
  return found;
}
