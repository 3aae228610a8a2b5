/** The serverStats figures: rates over whole past seconds, percentiles of recent samples. */
import { describe, expect, it } from 'vitest';
import { LatencySamples, RateWindow } from '../../../src/metrics/live-stats.ts';

describe('RateWindow', () => {
  it('averages whole past seconds of the window and forgets older ones', () => {
    const rates = new RateWindow(10);
    const t0 = 1_000_000_000_000;
    for (let s = 0; s < 10; s++) rates.add(100, t0 + s * 1000 + 500);
    // The current second (the 11th) is partial and not counted.
    rates.add(999, t0 + 10_000 + 100);
    expect(rates.perSecond(t0 + 10_000 + 200)).toBe(100);
    // Five seconds later, half the window is empty (and the 999 second counts).
    expect(rates.perSecond(t0 + 15_000 + 200)).toBe((5 * 100 + 999) / 10);
    expect(rates.perSecond(t0 + 60_000)).toBe(0);
  });
});

describe('LatencySamples', () => {
  it('gives percentiles of the recent samples only, within a fixed capacity', () => {
    const samples = new LatencySamples(1_000, 60_000);
    const now = 2_000_000_000_000;
    for (let i = 1; i <= 100; i++) samples.add(i, now - 120_000); // too old to count
    for (let i = 1; i <= 100; i++) samples.add(i, now);
    expect(samples.summary(now)).toEqual({ p50: 51, p95: 96, p99: 100, max: 100, samples: 100 });
    for (let i = 0; i < 5_000; i++) samples.add(7, now);
    expect(samples.summary(now)).toEqual({ p50: 7, p95: 7, p99: 7, max: 7, samples: 1_000 });
    expect(new LatencySamples().summary()).toEqual({ p50: 0, p95: 0, p99: 0, max: 0, samples: 0 });
  });
});
