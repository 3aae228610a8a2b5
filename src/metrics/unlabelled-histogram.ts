/**
 * A Prometheus histogram without labels, for values observed once per delivery to every
 * subscriber. prom-client's `Histogram.observe` makes a closure, hashes the (empty) labels
 * and checks them on every call: about 180 ns here, against about 13 ns for this one's
 * bucket scan, and fan-out pays it twice per delivery. It registers in a prom-client
 * `Registry` as a metric of its own and is scraped in the same text as a prom-client
 * histogram (cumulative `_bucket{le}` lines, then `_sum` and `_count`).
 */
import type { Metric, Registry } from 'prom-client';

/** One exported line: `name{labels} value`. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class UnlabelledHistogram {
  readonly type = 'histogram';
  readonly labelNames: readonly string[] = [];
  readonly aggregator = 'sum';
  /** Observations per bucket (not cumulative); the last is the one above every bound (+Inf). */
  private readonly counts: Float64Array;
  private sum = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending. */
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
  }

  /** The registry's view of it, as prom-client's histograms give theirs. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    let cumulative = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      cumulative += this.counts[bucket]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: bucket < this.bounds.length ? this.bounds[bucket]! : '+Inf' }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum }, { metricName: `${this.name}_count`, labels: {}, value: cumulative });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }
}
