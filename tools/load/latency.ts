/**
 * A latency histogram with 0.1 ms buckets up to 10 s (and one for anything later):
 * constant memory whatever the number of samples, exact to a tenth of a millisecond.
 */
const BUCKET_MS = 0.1;

/** A distribution's quantiles and maximum in milliseconds, and its number of samples. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}
const BUCKETS = 100_000;

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private total = 0;
  private maxMs = 0;

  add(ms: number): void {
    const value = Math.max(0, ms);
    this.counts[Math.min(BUCKETS, Math.floor(value / BUCKET_MS))]!++;
    this.total++;
    if (value > this.maxMs) this.maxMs = value;
  }

  get count(): number {
    return this.total;
  }

  /** The `q` quantile (0..1) in milliseconds: the upper edge of its bucket. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, (i + 1) * BUCKET_MS);
    }
    return this.maxMs;
  }

  get max(): number {
    return this.maxMs;
  }

  summary(): LatencySummary {
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max: this.maxMs, count: this.total };
  }
}
