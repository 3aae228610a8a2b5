/**
 * The per-delivery histogram is scraped exactly as prom-client's own histogram would be
 * for the same observations, so dashboards and alerts cannot tell them apart.
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UnlabelledHistogram } from '../../../src/metrics/unlabelled-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
// Below, on and between the bounds, above all of them, and zero.
const VALUES = [0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 100];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'h_seconds', help: 'a histogram', buckets: BUCKETS, registers: [theirs] });
  const histogram = new UnlabelledHistogram('h_seconds', 'a histogram', BUCKETS, ours);
  return { theirs, ours, reference, histogram };
}

describe('UnlabelledHistogram', () => {
  it("scrapes as prom-client's histogram does for the same observations", async () => {
    const { theirs, ours, reference, histogram } = pair();
    expect(await ours.metrics()).toBe(await theirs.metrics()); // empty: every bucket at 0
    for (const value of VALUES) {
      reference.observe(value);
      histogram.observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_seconds_bucket{le="0.01"} 5');
  });

  it("starts again from zero when the registry's metrics are reset", async () => {
    const { theirs, ours, reference, histogram } = pair();
    reference.observe(0.5);
    histogram.observe(0.5);
    theirs.resetMetrics();
    ours.resetMetrics();
    histogram.observe(2);
    reference.observe(2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_seconds_count 1');
  });
});
