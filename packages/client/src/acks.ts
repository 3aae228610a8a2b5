/**
 * Batched, cumulative acks: only the last processed event of a batch is acked, because
 * an ack covers every earlier event of that consumer. Sent over HTTP with a fresh token.
 */
import { print } from 'graphql';
import { AckEventMutation } from './documents.ts';
import type { AckEventMutationVariables } from './generated/graphql.js';

const ACK = print(AckEventMutation);

export interface AckOptions {
  httpUrl: string;
  consumer: string;
  token: () => string | Promise<string>;
  /** Ack after this many processed events… */
  batchSize: number;
  /** …or after this long, whichever comes first. */
  intervalMs: number;
  onError: (error: Error) => void;
}

export class AckBatcher {
  private pending: string | null = null;
  private count = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: AckOptions) {}

  /** Records that the app finished with `eventId`. */
  processed(eventId: string): void {
    this.pending = eventId;
    if (++this.count >= this.options.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.intervalMs);
  }

  /** Sends the pending ack now (acks are sent one at a time, in order). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const eventId = this.pending;
    this.pending = null;
    this.count = 0;
    if (eventId) this.inFlight = this.inFlight.then(() => this.send(eventId));
    return this.inFlight;
  }

  private async send(eventId: string): Promise<void> {
    try {
      const res = await fetch(this.options.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.options.token()}` },
        body: JSON.stringify({ query: ACK, variables: { eventId, consumer: this.options.consumer } satisfies AckEventMutationVariables }),
      });
      const body = (await res.json()) as { errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(`ack refused: ${body.errors[0]!.message}`);
    } catch (error) {
      // A lost ack only means redelivery (deduplicated) after a reconnect.
      this.options.onError(error as Error);
    }
  }
}
