/**
 * The live figures behind the `serverStats` query: event rates over a sliding window and
 * percentiles of recent commit-to-send latencies. Fixed-size arrays, so recording costs
 * the same whatever the load and memory never grows.
 */

/** Counts per second over the last `seconds` whole seconds. */
export class RateWindow {
  private readonly counts: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 10) {
    this.counts = new Float64Array(seconds + 1);
    this.stamps = new Float64Array(seconds + 1);
  }

  add(count: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.counts.length;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += count;
  }

  /** The mean rate over the last full `seconds` seconds (the current, partial second excluded). */
  perSecond(now = Date.now()): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const age = current - this.stamps[i]!;
      if (age >= 1 && age <= this.seconds) total += this.counts[i]!;
    }
    return total / this.seconds;
  }
}

/** Percentiles of a latency, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** How many samples the figures come from. */
  samples: number;
}

/** The most recent `capacity` samples younger than `maxAgeMs`. */
export class LatencySamples {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(
    capacity = 10_000,
    private readonly maxAgeMs = 60_000,
  ) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  add(ms: number, now = Date.now()): void {
    this.values[this.next] = ms;
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.values.length;
    this.filled = Math.min(this.filled + 1, this.values.length);
  }

  summary(now = Date.now()): LatencySummary {
    const recent: number[] = [];
    for (let i = 0; i < this.filled; i++) if (now - this.times[i]! <= this.maxAgeMs) recent.push(this.values[i]!);
    recent.sort((a, b) => a - b);
    const at = (q: number) => (recent.length ? recent[Math.min(recent.length - 1, Math.floor(q * recent.length))]! : 0);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: recent.at(-1) ?? 0, samples: recent.length };
  }
}
