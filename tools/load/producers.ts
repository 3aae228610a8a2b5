/**
 * Producers for load: post settled credits (each appends two events, the transaction and
 * the new balance) round-robin over the wallets, either at a steady event rate or as fast
 * as the server takes them, in batches (`postTransactions`) or one per request.
 */
import { randomUUID } from 'node:crypto';
import { graphql } from './api.ts';
import { preciseNow, SENT_PREFIX } from './subscribers.ts';

export interface ProducerOptions {
  url: string;
  serviceToken: string;
  walletIds: readonly string[];
  /** Postings per request: 1 uses `postTransaction`, more uses `postTransactions`. */
  batch: number;
  /** Requests in flight at once (one per simulated producer). */
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
}

const EVENTS_PER_POSTING = 2;

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
    this.tally = { postings: 0, eventsPerWallet: new Uint32Array(options.walletIds.length), events: 0, errors: 0, errorSamples: [] };
  }

  /** Starts posting; with a rate, postings are spread in 10 ms ticks. */
  start(rate: number | 'max'): void {
    if (rate === 'max') {
      for (let i = 0; i < this.options.concurrency; i++) void this.loop();
      return;
    }
    const started = performance.now();
    let posted = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * (rate / EVENTS_PER_POSTING)) - posted;
      let left = due;
      while (left > 0 && this.inFlight < this.options.concurrency) {
        const size = Math.min(left, this.options.batch);
        left -= size;
        posted += size;
        void this.send(size);
      }
      // Behind and out of request slots: skip what can't be sent rather than pile up.
      posted += left;
    }, 10);
  }

  /** Stops and waits for requests in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) await this.send(this.options.batch);
  }

  private async send(size: number): Promise<void> {
    const { url, serviceToken, walletIds } = this.options;
    const targets = Array.from({ length: size }, () => this.next++ % walletIds.length);
    const inputs = targets.map((target) => ({
      walletId: walletIds[target],
      direction: 'CREDIT',
      type: 'DEPOSIT',
      amount: String(100 + (target % 9_900)),
      status: 'SUCCESS',
      idempotencyKey: randomUUID(),
      // When it was sent, so subscribers can time it from here (open loop: the server's queueing counts).
      description: `${SENT_PREFIX}${preciseNow().toFixed(3)}`,
    }));
    this.inFlight++;
    try {
      if (size === 1 && this.options.batch === 1) await graphql(url, serviceToken, SINGLE, { i: inputs[0] });
      else await graphql(url, serviceToken, BATCH, { i: inputs });
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
