/**
 * The webhook lease loop, on every instance: one {@link EndpointWorker} per endpoint across
 * all instances. Leases live in the database: an instance renews its own every third of the
 * lease's lifetime and takes over any that expired (its holder died), so a dead instance's
 * endpoints move within one lifetime. Commits wake the workers of their tenant through the
 * commit wake topic; a periodic look covers a lost wake.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CommitWakeListener } from '../backbone/commit-wakes.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import type { FirehoseLog } from '../firehose/firehose-log.ts';
import type { Logger } from '../logging/logger.ts';
import { EndpointWorker, type WebhookObserver, type WorkerOptions } from './endpoint-worker.ts';
import type { LeaseNudges } from './endpoints.ts';
import type { EndpointRow, WebhookStore } from './store.ts';

export interface LeaseSettings {
  /** How long a lease lasts without renewal (a dead holder's endpoints move after this). */
  leaseTtlMs: number;
  /** False: this instance manages endpoints but delivers none (an API-only instance). */
  deliver: boolean;
  worker: WorkerOptions;
}

export class WebhookLeases implements LeaseNudges {
  private readonly workers = new Map<string, EndpointWorker>();
  /** Endpoints being given back: their worker finishes its step, then the lease goes. */
  private readonly releasing = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Commit wakes, listened to only while this instance delivers an endpoint. */
  private readonly wakes: CommitWakeListener;
  private ticking: Promise<void> | null = null;
  /** This instance, as a lease holder: unique even for several instances in one process. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly store: WebhookStore,
    private readonly deps: { firehoseLog: FirehoseLog; pubsub: PubSub; logger: Logger; observer?: WebhookObserver; maxMessageBytes: number },
    private readonly settings: LeaseSettings,
  ) {
    this.wakes = new CommitWakeListener(deps, 'webhook', (wake) => {
      const tenants = new Set(wake.tenants);
      for (const worker of this.workers.values()) if (tenants.has(worker.tenant)) worker.wake(wake.txId);
    });
  }

  nudge(): void {
    void this.tick();
  }

  wake(endpointId: string): void {
    this.workers.get(endpointId)?.wake();
  }

  /** The workers running here, for gauges. */
  get localWorkers(): readonly EndpointWorker[] {
    return [...this.workers.values()];
  }

  /** Dead letters of the endpoints delivered here, for the gauge. */
  localDeadLetters(): Promise<Map<string, number>> {
    return this.store.deadCounts([...this.workers.keys()]);
  }

  /** Starts taking leases and delivering (unless this instance only manages endpoints). */
  async start(): Promise<void> {
    if (!this.settings.deliver) return;
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.settings.leaseTtlMs / 3)));
    this.timer.unref();
    await this.tick();
  }

  /** Stops every worker (their steps in flight finish and are recorded) and lets the leases go. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    this.wakes.listen(false);
    await Promise.all([...this.workers.values()].map((worker) => worker.stop()));
    this.workers.clear();
    if (this.settings.deliver) await this.store.releaseLeases(this.holder).catch(() => {});
  }

  /** Renews and takes leases, then starts, reconfigures or stops workers to match. */
  tick(): Promise<void> {
    if (!this.timer) return Promise.resolve();
    this.ticking ??= this.claim().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async claim(): Promise<void> {
    let round: { held: EndpointRow[]; excess: number };
    try {
      round = await this.store.leaseRound(this.holder, this.settings.leaseTtlMs);
    } catch (error) {
      this.deps.logger.warn('webhook lease renewal failed; trying again', { error });
      return;
    }
    if (!this.timer) return;
    // Beyond the share, give back endpoints (after their step in flight), keeping those
    // already running first; those on their way out already count as given back.
    const leaving = round.held.filter((endpoint) => this.releasing.has(endpoint.id)).length;
    const ordered = round.held.filter((endpoint) => !this.releasing.has(endpoint.id)).sort((x, y) => Number(this.workers.has(y.id)) - Number(this.workers.has(x.id)));
    const held = ordered.slice(0, ordered.length - Math.max(0, round.excess - leaving));
    for (const endpoint of ordered.slice(held.length)) this.giveBack(endpoint.id);
    const ids = new Set(held.map((endpoint) => endpoint.id));
    for (const [id, worker] of this.workers) {
      if (!ids.has(id)) {
        this.workers.delete(id);
        void worker.stop();
      }
    }
    this.wakes.listen(held.length > 0);
    for (const endpoint of held) {
      const running = this.workers.get(endpoint.id);
      if (running) {
        running.configure(endpoint);
        continue;
      }
      const worker = new EndpointWorker(
        endpoint,
        {
          store: this.store,
          firehoseLog: this.deps.firehoseLog,
          logger: this.deps.logger,
          observer: this.deps.observer,
          holder: this.holder,
          onStopped: (stopped) => {
            if (this.workers.get(stopped.id) === stopped) this.workers.delete(stopped.id);
          },
        },
        this.settings.worker,
      );
      this.workers.set(endpoint.id, worker);
      this.deps.logger.info('webhook endpoint taken', { endpoint: endpoint.id, holder: this.holder });
      worker.start();
    }
  }

  /** Stops the endpoint's worker here, then lets its lease go for another instance to take. */
  private giveBack(endpointId: string): void {
    const worker = this.workers.get(endpointId);
    this.workers.delete(endpointId);
    this.releasing.add(endpointId);
    this.deps.logger.info('webhook endpoint given back to balance instances', { endpoint: endpointId, holder: this.holder });
    void (worker?.stop() ?? Promise.resolve())
      .then(() => this.store.releaseLease(endpointId, this.holder))
      .catch((error: Error) => this.deps.logger.warn('webhook lease release failed; it expires instead', { endpoint: endpointId, error: error.message }))
      .finally(() => this.releasing.delete(endpointId));
  }
}
