/**
 * Producers for load: post settled credits (each appends two events, the transaction and
 * the new balance) round-robin over the wallets, in batches (`postTransactions`) or one per
 * request, either as fast as the server takes them (a closed loop of `concurrency`
 * requests) or at a rate (an open loop).
 *
 * Open loop means every request leaves at its scheduled time whatever the server answers:
 * nothing caps the requests in flight, nothing is skipped, and latency is timed from the
 * schedule, so a server that falls behind shows its queueing instead of slowing the load
 * down (coordinated omission). The tally says how many requests left late, which is the
 * load tool's own shortfall, not the server's.
 */
import { randomUUID } from 'node:crypto';
import { graphql } from './api.ts';
import { LatencyHistogram } from './latency.ts';
import { preciseNow, SENT_PREFIX } from './subscribers.ts';

export interface ProducerOptions {
  url: string;
  serviceToken: string;
  walletIds: readonly string[];
  /** Postings per request: 1 uses `postTransaction`, more uses `postTransactions`. */
  batch: number;
  /** Requests in flight at once when posting as fast as possible (one per simulated producer); an open loop has no cap. */
  concurrency: number;
}

/** What producers did. */
export interface ProducerTally {
  postings: number;
  /** Events appended per wallet (index into `walletIds`), to know what subscribers should get. */
  eventsPerWallet: Uint32Array;
  events: number;
  errors: number;
  errorSamples: string[];
  /** Open loop: requests sent (every one that fell due: none is skipped), those sent more than LATE_MS after their time, and the worst lag. */
  schedule: { sent: number; late: number; worstLagMs: number };
  /** From a request's scheduled time (open loop) or its send (closed loop) to its answer. */
  answered: LatencyHistogram;
}

const EVENTS_PER_POSTING = 2;
/** A request that leaves later than this after its scheduled time counts as late. */
export const LATE_MS = 5;

const SINGLE = 'mutation($i: PostTransactionInput!) { postTransaction(input: $i) { transaction { id } } }';
const BATCH = 'mutation($i: [PostTransactionInput!]!) { postTransactions(inputs: $i) { transaction { id } } }';

/** Drives postings until stopped; `rate` is events per second, or `max` for as fast as possible. */
export class Producers {
  readonly tally: ProducerTally;
  private next = 0;
  private inFlight = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private idle: (() => void) | null = null;

  constructor(private readonly options: ProducerOptions) {
    this.tally = {
      postings: 0,
      eventsPerWallet: new Uint32Array(options.walletIds.length),
      events: 0,
      errors: 0,
      errorSamples: [],
      schedule: { sent: 0, late: 0, worstLagMs: 0 },
      answered: new LatencyHistogram(),
    };
  }

  /** Starts posting: as fast as answers come (`max`), or every request at its time for `rate` events/s. */
  start(rate: number | 'max'): void {
    if (rate === 'max') {
      for (let i = 0; i < this.options.concurrency; i++) void this.loop();
      return;
    }
    const intervalMs = (1000 * this.options.batch * EVENTS_PER_POSTING) / rate;
    const origin = preciseNow();
    const tick = () => {
      if (this.stopped) return;
      const now = preciseNow();
      const { schedule } = this.tally;
      // Every request due by now leaves now, stamped with the time it was due.
      while (origin + schedule.sent * intervalMs <= now) {
        const dueAt = origin + schedule.sent * intervalMs;
        schedule.sent++;
        const lag = now - dueAt;
        if (lag > LATE_MS) schedule.late++;
        if (lag > schedule.worstLagMs) schedule.worstLagMs = lag;
        void this.send(this.options.batch, dueAt);
      }
      this.timer = setTimeout(tick, Math.max(0, origin + schedule.sent * intervalMs - preciseNow()));
    };
    tick();
  }

  /** Stops and waits for requests in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) await this.send(this.options.batch, preciseNow());
  }

  /** Sends one request of `size` postings, timed from `dueAt` (ms since the epoch). */
  private async send(size: number, dueAt: number): Promise<void> {
    const { url, serviceToken, walletIds } = this.options;
    const targets = Array.from({ length: size }, () => this.next++ % walletIds.length);
    const inputs = targets.map((target) => ({
      walletId: walletIds[target],
      direction: 'CREDIT',
      type: 'DEPOSIT',
      amount: String(100 + (target % 9_900)),
      status: 'SUCCESS',
      idempotencyKey: randomUUID(),
      // When it was due, so subscribers time it from there (open loop: the server's queueing counts).
      description: `${SENT_PREFIX}${dueAt.toFixed(3)}`,
    }));
    this.inFlight++;
    try {
      if (size === 1 && this.options.batch === 1) await graphql(url, serviceToken, SINGLE, { i: inputs[0] });
      else await graphql(url, serviceToken, BATCH, { i: inputs });
      this.tally.answered.add(preciseNow() - dueAt);
      this.tally.postings += size;
      this.tally.events += size * EVENTS_PER_POSTING;
      for (const target of targets) this.tally.eventsPerWallet[target]! += EVENTS_PER_POSTING;
    } catch (error) {
      this.tally.errors++;
      const message = (error as Error).message;
      if (this.tally.errorSamples.length < 5 && !this.tally.errorSamples.includes(message)) this.tally.errorSamples.push(message);
    } finally {
      if (--this.inFlight === 0 && this.stopped) this.idle?.();
    }
  }
}
