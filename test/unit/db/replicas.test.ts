/** The replica set's small rules: WAL positions, which errors send a read to the primary, and fresh values shared between callers. */
import { describe, expect, it } from 'vitest';
import { FreshValue, isReplicaFailure, parseLsn } from '../../../src/db/replicas.ts';

describe('WAL positions', () => {
  it('compare as numbers, across the high word', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
  });
});

describe('replica failures', () => {
  it('are lost connections, shutdowns and recovery conflicts, found on the error or its cause', () => {
    expect(isReplicaFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isReplicaFailure(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' }))).toBe(true);
    expect(isReplicaFailure(new Error('Failed query', { cause: Object.assign(new Error('terminating'), { code: '57P01' }) }))).toBe(true);
    expect(isReplicaFailure(Object.assign(new Error('conflict with recovery'), { code: '40001' }))).toBe(true);
  });

  it('are not the read’s own errors', () => {
    expect(isReplicaFailure(Object.assign(new Error('bad'), { code: '22P02' }))).toBe(false);
    expect(isReplicaFailure(Object.assign(new Error('expired'), { code: 'CURSOR_EXPIRED' }))).toBe(false);
    expect(isReplicaFailure(undefined)).toBe(false);
  });
});

describe('a fresh value', () => {
  it('gives each caller a fetch that began after it asked, one fetch for all who asked meanwhile', async () => {
    const started: number[] = [];
    const releases: (() => void)[] = [];
    let n = 0;
    const value = new FreshValue(async () => {
      const mine = ++n;
      started.push(mine);
      await new Promise<void>((resolve) => releases.push(resolve));
      return mine;
    });
    const first = value.get();
    // Asked while the first fetch is under way: they share the next one, not the first.
    const second = value.get();
    const third = value.get();
    expect(started).toEqual([1]);
    releases.shift()!();
    expect(await first).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2]);
    releases.shift()!();
    expect(await second).toBe(2);
    expect(await third).toBe(2);
  });

  it('starts the next fetch after a failed one', async () => {
    let calls = 0;
    const value = new FreshValue(async () => {
      calls++;
      if (calls === 1) throw new Error('down');
      return calls;
    });
    const failed = value.get();
    const next = value.get();
    await expect(failed).rejects.toThrow('down');
    expect(await next).toBe(2);
  });
});
