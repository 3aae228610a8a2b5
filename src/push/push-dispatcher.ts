/**
 * Delivery of pushes, on every instance: each device is pushed to by one instance at a time
 * (a lease, renewed every third of `PUSH_LEASE_TTL`; a dead instance's devices move after
 * one lifetime), in the order of its owner's log, at least once. Commit wakes start a round
 * at once; a periodic round covers a lost wake and retries that come due.
 *
 * A round asks the database which held devices have events after their position (one
 * indexed query), and steps each, `PUSH_CONCURRENCY` at once: read the events after the
 * position, push those the device gets one at a time, and record where it got to. A
 * failure stops the device there until its retry is due; past the schedule the push is
 * a dead letter and the device goes on; a device the service says is gone is removed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { COMMIT_WAKE_TOPIC, readCommitWake } from '../backbone/commit-wakes.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import type { PushPlatform } from '../domain/push.ts';
import type { Logger } from '../logging/logger.ts';
import type { LogReader } from '../streams/event-log.ts';
import { retryDelayMs } from '../webhooks/retry-schedule.ts';
import type { PushOutcome, PushSender } from './push-outcome.ts';
import { pushMessageFor } from './push-message.ts';
import type { DeviceRow, DeviceProgress, PushStore } from './push-store.ts';

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
  private unsubscribe: Promise<(() => void) | null> | null = null;
  private held = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: PushStore,
    private readonly log: LogReader,
    private readonly senders: Partial<Record<PushPlatform, PushSender>>,
    private readonly deps: { pubsub: PubSub; logger: Logger; observer?: PushObserver; maxMessageBytes: number },
    private readonly settings: DispatchSettings,
  ) {}

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
    this.listen(false);
    await this.running;
    for (const sender of Object.values(this.senders)) sender?.close();
    if (this.settings.deliver) await this.store.releaseAll(this.holder).catch(() => {});
  }

  /** Renews and takes leases now (a device was just registered here), then runs a round. */
  nudge(): void {
    if (this.leaseTimer) void this.leaseRound();
  }

  /** Runs a round now, or once more after the one running. */
  wake(): void {
    if (this.stopped || this.held === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => (this.running = null));
  }

  /** Listens to commit wakes while this instance pushes to a device, and lets go when it pushes to none. */
  private listen(on: boolean): void {
    if (on && !this.unsubscribe) {
      this.unsubscribe = this.deps.pubsub.subscribe(COMMIT_WAKE_TOPIC, (raw) => this.onWake(raw)).catch((error: Error) => {
        // The periodic round carries the devices; the next lease round tries again.
        this.deps.logger.warn('push wake subscription failed; pushing on the periodic round only', { error: error.message });
        this.unsubscribe = null;
        return null;
      });
    } else if (!on && this.unsubscribe) {
      void this.unsubscribe.then((off) => off?.());
      this.unsubscribe = null;
    }
  }

  private onWake(raw: string): void {
    const wake = readCommitWake(raw, this.deps.maxMessageBytes);
    if ('refused' in wake) return;
    this.wake();
  }

  private async leaseRound(): Promise<void> {
    if (this.stopped) return;
    try {
      const { held, excess } = await this.store.leaseRound(this.holder, this.settings.leaseTtlMs);
      if (excess > 0) await this.store.releaseSome(this.holder, excess);
      this.held = held - excess;
      this.listen(this.held > 0 && !this.stopped);
      this.wake();
    } catch (error) {
      this.deps.logger.warn('push lease renewal failed; trying again', { error: (error as Error).message });
    }
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        const due = await this.store.due(this.holder, this.settings.concurrency * 4);
        await inPool(due, this.settings.concurrency, ({ device }) => this.step(device));
        // A full page of due devices may have more behind it.
        if (due.length === this.settings.concurrency * 4) this.again = true;
      } catch (error) {
        this.deps.logger.warn('push round failed; the next round tries again', { error: (error as Error).message });
      }
    } while (this.again && !this.stopped);
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
    if (kept && !at.retryAt && events.length === this.settings.batchSize) this.again = true;
  }
}

/** Runs `work` over `items`, at most `limit` at once. */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
