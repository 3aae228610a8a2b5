/** Which partitions of the log are made, and what they are called. */
import { describe, expect, it } from 'vitest';
import { partitionName, partitionsToMake, periodStart } from '../../../src/db/event-partitions.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const spans = (ranges: { startsAt: number; endsAt: number }[]) => ranges.map((r) => [new Date(r.startsAt).toISOString(), new Date(r.endsAt).toISOString()]);

describe('partitions of the log', () => {
  it('aligns periods on the interval since the epoch: days start at midnight UTC', () => {
    expect(new Date(periodStart(at('2026-12-06T17:45:00Z'), DAY)).toISOString()).toBe('2026-12-06T00:00:00.000Z');
    expect(new Date(periodStart(at('2026-12-06T17:45:00Z'), HOUR)).toISOString()).toBe('2026-12-06T17:00:00.000Z');
  });

  it('names a partition after its start', () => {
    expect(partitionName(at('2026-12-06T00:00:00Z'))).toBe('events_p20261206t000000z');
    expect(partitionName(at('2026-12-06T17:45:09.123Z'))).toBe('events_p20261206t174509z');
  });

  it('makes the current period and the ones ahead on an empty log', () => {
    expect(spans(partitionsToMake(null, at('2026-12-06T17:45:00Z'), { intervalMs: DAY, ahead: 2 }))).toEqual([
      ['2026-12-06T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
      ['2026-12-07T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
      ['2026-12-08T00:00:00.000Z', '2026-12-09T00:00:00.000Z'],
    ]);
  });

  it('follows on from the newest partition, and makes nothing while the ones ahead exist', () => {
    const plan = { intervalMs: DAY, ahead: 2 };
    expect(partitionsToMake(at('2026-12-09T00:00:00Z'), at('2026-12-06T23:59:59Z'), plan)).toEqual([]);
    expect(spans(partitionsToMake(at('2026-12-09T00:00:00Z'), at('2026-12-07T00:00:00Z'), plan))).toEqual([['2026-12-09T00:00:00.000Z', '2026-12-10T00:00:00.000Z']]);
  });

  it('after an unaligned end (the log attached by the migration), the first partition runs to the next boundary', () => {
    expect(spans(partitionsToMake(at('2026-12-06T10:30:00.001Z'), at('2026-12-06T10:31:00Z'), { intervalMs: DAY, ahead: 0 }))).toEqual([
      ['2026-12-06T10:30:00.001Z', '2026-12-07T00:00:00.000Z'],
    ]);
  });

  it('starts again at the current period when the newest partition ended long ago (the server was down)', () => {
    expect(spans(partitionsToMake(at('2026-11-01T00:00:00Z'), at('2026-12-06T10:00:00Z'), { intervalMs: DAY, ahead: 0 }))).toEqual([
      ['2026-12-06T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ]);
  });
});
