/**
 * Delivery of pushes, on every instance: each device is pushed to by one instance at a time
 * (a lease, renewed every third of `PUSH_LEASE_TTL`; a dead instance's devices move after
 * one lifetime), in the order of its owner's log, at least once. Commit wakes start a look
 * at once; a periodic look covers a lost wake and retries that come due.
 *
 * A look asks the database which held devices have events after their position (one
 * indexed query) and queues them. A step starts for each queued device that is not in one,
 * up to `PUSH_CONCURRENCY` at once, and each step that ends starts the next: read the
 * events after the position, push those the device gets one at a time, and record where
 * it got to. A failure stops the device there until its retry is due; past the schedule
 * the push is a dead letter and the device goes on; a device the service says is gone is
 * removed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CommitWakeListener } from '../backbone/commit-wakes.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import type { PushPlatform } from '../domain/push.ts';
import type { Logger } from '../logging/logger.ts';
import type { LogReader } from '../streams/event-log.ts';
import { retryDelayMs } from '../webhooks/retry-schedule.ts';
import type { PushOutcome, PushSender } from './push-outcome.ts';
import { pushMessageFor } from './push-message.ts';
import type { DeviceProgress, DeviceRow, DueDevice, PushStore } from './push-store.ts';

/** What the dispatcher tells metrics. */
export interface PushObserver {
  /** A push ended; `lagMs` is from the event's commit to the service's answer, for delivered pushes. */
  onPush(platform: PushPlatform, result: PushOutcome['result'], lagMs: number | null): void;
}

export interface DispatchSettings {
  /** False: this instance registers devices but pushes to none. */
  deliver: boolean;
  leaseTtlMs: number;
  retryScheduleMs: readonly number[];
  concurrency: number;
  batchSize: number;
  /** The periodic round (lost wakes, retries that came due). */
  roundIntervalMs: number;
}

export class PushDispatcher {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private leaseTimer: ReturnType<typeof setInterval> | null = null;
  private roundTimer: ReturnType<typeof setInterval> | null = null;
  private leasing: Promise<void> | null = null;
  private leaseAgain = false;
  /** Commit wakes, listened to only while this instance holds a device. */
  private readonly wakes: CommitWakeListener;
  private held = 0;
  /** The look for devices that are behind, while it runs; `again` asks for one more. */
  private looking: Promise<void> | null = null;
  private again = false;
  /** Steps in flight, by device. */
  private readonly active = new Map<string, Promise<void>>();
  /** Devices found behind by the last look, not started yet (no room then). */
  private queue: DueDevice[] = [];
  /** Devices found behind while in a step: queued again when it ends. */
  private readonly rerun = new Map<string, DueDevice>();
  /**
   * What this instance last recorded per device: a look that read a device's row just
   * before its step recorded a new position would otherwise push those events again.
   */
  private readonly recorded = new Map<string, { sequence: number; retryAt: Date | null }>();
  private stopped = false;

  constructor(
    private readonly store: PushStore,
    private readonly log: LogReader,
    private readonly senders: Partial<Record<PushPlatform, PushSender>>,
    private readonly deps: { pubsub: PubSub; logger: Logger; observer?: PushObserver; maxMessageBytes: number },
    private readonly settings: DispatchSettings,
  ) {
    this.wakes = new CommitWakeListener(deps, 'push', () => this.wake());
  }

  /** Starts taking leases and pushing (unless this instance only registers devices). */
  async start(): Promise<void> {
    if (!this.settings.deliver) return;
    this.leaseTimer = setInterval(() => void this.leaseRound(), Math.max(50, Math.floor(this.settings.leaseTtlMs / 3)));
    this.roundTimer = setInterval(() => this.wake(), this.settings.roundIntervalMs);
    this.leaseTimer.unref();
    this.roundTimer.unref();
    await this.leaseRound();
  }

  /** Stops: the round in flight finishes and is recorded, then the leases go at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.roundTimer) clearInterval(this.roundTimer);
    this.wakes.listen(false);
    await this.leasing;
    await this.looking;
    await Promise.all(this.active.values());
    for (const sender of Object.values(this.senders)) sender?.close();
    if (this.settings.deliver) await this.store.releaseAll(this.holder).catch(() => {});
  }

  /** Renews and takes leases now (a device was just registered here), then runs a round. */
  nudge(): void {
    if (this.leaseTimer) void this.leaseRound();
  }

  /**
   * Looks for devices that are behind now, or once more when the look in flight is done.
   * Devices already being pushed to are left to their step; one slow device never holds
   * the others back.
   */
  wake(): void {
    if (this.stopped || this.held === 0) return;
    this.again = true;
    this.looking ??= this.look().finally(() => (this.looking = null));
  }

  /**
   * One lease round at a time: two at once would renew the same rows in different orders
   * and deadlock each other (as registrations, each nudging, once made them do). A round
   * asked for while one runs follows it.
   */
  private leaseRound(): Promise<void> {
    if (this.leasing) {
      this.leaseAgain = true;
      return this.leasing;
    }
    this.leasing = (async () => {
      do {
        this.leaseAgain = false;
        await this.leaseRoundOnce();
      } while (this.leaseAgain && !this.stopped);
    })().finally(() => (this.leasing = null));
    return this.leasing;
  }

  private async leaseRoundOnce(): Promise<void> {
    if (this.stopped) return;
    try {
      const { held, excess } = await this.store.leaseRound(this.holder, this.settings.leaseTtlMs);
      if (excess > 0) await this.store.releaseSome(this.holder, excess);
      this.held = held - excess;
      // Forget what was recorded for devices long gone elsewhere (at worst a look races a step once more).
      if (this.recorded.size > 2 * this.held + 1_000) this.recorded.clear();
      this.wakes.listen(this.held > 0 && !this.stopped);
      this.wake();
    } catch (error) {
      this.deps.logger.warn('push lease renewal failed; trying again', { error: (error as Error).message, cause: ((error as Error).cause as Error | undefined)?.message });
    }
  }

  /** Reads which devices are behind into the queue, and starts steps for as many as there is room for. */
  private async look(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        this.queue = await this.store.due(this.holder, this.settings.concurrency * 4);
      } catch (error) {
        this.deps.logger.warn('push round failed; the next round tries again', { error: (error as Error).message });
        return;
      }
      this.fill();
    }
  }

  /** Starts a step for queued devices while there is room, skipping those in a step or already past their head here. */
  private fill(): void {
    while (this.active.size < this.settings.concurrency && !this.stopped) {
      const next = this.queue.shift();
      if (!next) return;
      const { device, head } = next;
      // In a step now: it runs again once that step ends, for what committed meanwhile.
      if (this.active.has(device.id)) {
        this.rerun.set(device.id, next);
        continue;
      }
      const known = this.recorded.get(device.id);
      if (known && known.sequence > device.sequence) Object.assign(device, { sequence: known.sequence, retryAt: known.retryAt });
      if (device.sequence >= head || (device.retryAt && device.retryAt.getTime() > Date.now())) continue;
      const step = this.step(device)
        .catch((error: Error) => this.deps.logger.warn('push step failed; the next round tries again', { device: device.id, error: error.message }))
        .finally(() => {
          this.active.delete(device.id);
          const rerun = this.rerun.get(device.id);
          this.rerun.delete(device.id);
          if (rerun) this.queue.unshift(rerun);
          this.fill();
          // A step that stopped at a full page has more: look again.
          if (this.again) this.wake();
        });
      this.active.set(device.id, step);
    }
  }

  /** Pushes what the device gets of the events after its position, in order, and records where it got to. */
  private async step(device: DeviceRow): Promise<void> {
    const events = await this.log.read(device.ownerId, device.sequence, this.settings.batchSize);
    const sender = this.senders[device.platform];
    const at: DeviceProgress = { sequence: device.sequence, attempts: device.attempts, retryAt: null, lastError: device.lastError, pushedAt: null };
    const dead: { eventId: string; sequence: number; attempts: number; error: string | null }[] = [];
    for (const event of events) {
      const message = pushMessageFor(event, device.types);
      if (!message) {
        at.sequence = event.sequence;
        continue;
      }
      const outcome: PushOutcome = sender ? await sender.send(device, message) : { result: 'failed', status: null, error: `${device.platform} is not configured on this server` };
      this.deps.observer?.onPush(device.platform, outcome.result, outcome.result === 'delivered' ? Date.now() - Date.parse(event.occurredAt) : null);
      if (outcome.result === 'gone') {
        this.deps.logger.info('push device removed: the push service says it is gone', { device: device.id, platform: device.platform, error: outcome.error });
        await this.store.remove(device.id);
        this.recorded.delete(device.id);
        return;
      }
      if (outcome.result === 'delivered') {
        Object.assign(at, { sequence: event.sequence, attempts: 0, lastError: null, pushedAt: new Date() });
        continue;
      }
      at.attempts += 1;
      at.lastError = outcome.error;
      const delay = retryDelayMs(this.settings.retryScheduleMs, at.attempts);
      if (delay === null) {
        dead.push({ eventId: event.eventId, sequence: event.sequence, attempts: at.attempts, error: outcome.error });
        Object.assign(at, { sequence: event.sequence, attempts: 0 });
        continue;
      }
      at.retryAt = new Date(Date.now() + delay);
      break;
    }
    const kept = await this.store.progress(device.id, this.holder, at, dead);
    if (kept) this.recorded.set(device.id, { sequence: at.sequence, retryAt: at.retryAt });
    else this.recorded.delete(device.id);
    if (kept && !at.retryAt && events.length === this.settings.batchSize) this.again = true;
  }
}

