/**
 * A Redis of a test's own, on a free port, that the test can stop and start again (with
 * other settings, if it likes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { waitUntil } from './clients.ts';
import { tracked } from './processes.ts';

export class OwnRedis {
  private process: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts it with `settings` (redis-server's own command-line options), unless it runs (a
   * second one could not bind the port, and the first would be lost track of).
   */
  async start(settings: string[] = []): Promise<void> {
    if (this.running) return;
    this.process = tracked(spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...settings], { stdio: 'ignore' }));
    await waitUntil(() => this.accepts(), 10_000);
  }

  /** Kills it at once, as a crash would. */
  async stop(): Promise<void> {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGKILL');
    await once(this.process, 'exit');
  }

  private get running(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  private accepts(): Promise<boolean> {
    const socket = new Socket();
    return new Promise<boolean>((resolve) => {
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.connect(this.port, '127.0.0.1');
    });
  }
}
